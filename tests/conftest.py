"""Shared pytest policy for every test layer.

Under CI (``CI=true``, as ``.ci/run`` sets it) a skipped or xfailed test is a failure, unless it
was skipped through :func:`testlib.hardware.skip_without` (or ``pytest.mark.hardware``), which
names hardware no CI machine has (a GPU, a real SMART disk). Everything else a test needs, CI
installs: a skip there would hide a test that never ran.
"""

import os

import pytest

from testlib.hardware import PREFIX as HARDWARE_PREFIX


def _ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config):
    config.addinivalue_line("markers", "hardware(what): skips unless the hardware named is present; allowed under CI")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not _ci() or not report.skipped:
        return
    if hasattr(report, "wasxfail"):
        reason = "xfail under CI: %s" % (report.wasxfail or "no reason given")
    else:
        reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
        if reason.startswith("Skipped: "):
            reason = reason[len("Skipped: "):]
        if reason.startswith(HARDWARE_PREFIX):
            return
        reason = "skipped under CI: %s" % reason
    report.outcome = "failed"
    report.longrepr = ("%s\nCI installs what tests need; only a skip naming hardware no CI machine has "
                       "(testlib.hardware.skip_without) is allowed." % reason)
