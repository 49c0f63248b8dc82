"""maintenance_facts through the real ansible and the real journalctl (and, for reboots, last) reading a
journal and a wtmp the test chooses, in a private mount namespace (tests/testlib/journal.py): nothing on
the machine changes.
"""

import pytest

from testlib import journal
from testlib.ansible_run import run_module
from testlib.system import apt_ensure

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _tools():
    apt_ensure("systemd", "systemd-journal-remote", "util-linux")


def _facts(args, journal_file=None, wtmp=None):
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c", journal.namespace_script(journal_file, wtmp), "sh"]
    result = run_module("gpufleet.maintenance.maintenance_facts", args, prefix=prefix)
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_maintenance"]
    return fact, dict((c["check"], c) for c in fact["checks"])


def test_a_host_without_journal_files_is_unknown_not_a_quiet_week():
    """journald not running (a container, this build machine): journalctl exits 0 and prints nothing."""
    fact, found = _facts({"collect": ["journal"]})
    assert fact["journal"]["present"] is False and fact["journal"]["reason"].startswith("the journal holds no entries")
    assert found["log_errors"]["status"] == "unknown"
    assert "mkdir -p /var/log/journal" in found["log_errors"]["message"]
    assert fact["status"] == "unknown"


def test_since_s_and_since_days_together_fail_naming_both():
    result = run_module("gpufleet.maintenance.maintenance_facts", {"since_s": 0, "since_days": 7})
    assert result["failed"] is True
    assert result["msg"] == ("gathering maintenance facts: maintenance: since_s and since_days exclude each other: "
                             "give one of them")
