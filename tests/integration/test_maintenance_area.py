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


def _running_boot_id():
    with open("/proc/sys/kernel/random/boot_id") as handle:
        return handle.read().strip().replace("-", "")


def test_unexpected_reboots_from_the_journal(tmp_path):
    """The week of testlib.journal.SAMPLE_BOOTS, its last boot being this machine's running one: since
    Nov 19, a boot crashed on Nov 19, another on Nov 21, and one was rebooted on Nov 23 (counted by hand)."""
    boots = journal.SAMPLE_BOOTS[:-1] + [(_running_boot_id(),) + journal.SAMPLE_BOOTS[-1][1:]]
    journal_file = journal.write_journal(str(tmp_path / "system.journal"), journal.boot_entries(boots))
    fact, found = _facts({"collect": ["journal"], "since_s": journal.SAMPLE_SINCE}, journal_file=journal_file)
    reboots = fact["reboots"]
    assert (reboots["source"], reboots["ended"], reboots["unexpected"], reboots["unread"]) == ("journal", 3, 2, 0)
    assert [(b["boot"], b["clean"]) for b in reboots["boots"]] == [
        (boots[3][0], True), (boots[2][0], False), (boots[1][0], False)]
    check = found["unexpected_reboots"]
    assert (check["status"], check["value"], check["threshold"]) == ("warn", 2, 1)
    assert check["message"].startswith("boots that ended without a clean shutdown since 2026-11-19 (journal: 2 of 3")


def test_unexpected_reboots_from_wtmp_when_there_is_no_journal(tmp_path):
    wtmp = journal.write_wtmp(str(tmp_path / "wtmp"), journal.sample_wtmp_events())
    fact, found = _facts({"collect": ["journal"], "since_s": journal.SAMPLE_SINCE,
                          "thresholds": {"unexpected_reboots_crit": 2}}, wtmp=wtmp)
    assert fact["journal"]["present"] is False  # no journal files: the line counts are unknown
    reboots = fact["reboots"]
    assert (reboots["source"], reboots["covered_since_s"], reboots["ended"], reboots["unexpected"]) == ("wtmp", 1794816000, 3, 2)
    assert found["unexpected_reboots"]["status"] == "crit"  # 2 at a crit threshold of 2
    assert fact["status"] == "crit"
