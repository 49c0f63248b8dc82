"""Area maintenance, issue 18: what could not be read is ``unknown`` with the reason and the fix, never ok.

journalctl's answers are real captures (tests/unit/fixtures/journalctl/PROVENANCE.md).
"""

import datetime
import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance import AREA, checks, collect, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.runner import ToolResult

LIMITS = AREA.checks.defaults()
TODAY = datetime.date(2026, 11, 26)


def _read(fixture_path, *parts):
    with open(fixture_path(*parts)) as handle:
        return handle.read()


def _run(outputs):
    """``run(argv, timeout)`` answering by tool and first argument (``journalctl --list-boots``)."""
    def run(argv, timeout):
        tool = os.path.basename(argv[0])
        rc, out, err = outputs.get("%s %s" % (tool, argv[1]), outputs.get(tool))
        return ToolResult(argv, rc, out, err)
    return run


def _journal_check(journal):
    return checks.journal_checks({"journal": journal, "runner_logs": {"files": 0}, "runner_logs_unread": []}, LIMITS)


def test_journalctl_missing_is_unknown_with_the_fix():
    journal, _boots = collect.collect_journal(_run({}), lambda name: None, 0, (0, ["root"]))
    assert journal == {"present": False, "reason": "journalctl not found (no systemd journal on this host)", "entries": 0}
    [check] = _journal_check(journal)
    assert (check["check"], check["status"], check["subject"]) == ("log_errors", "unknown", {})
    assert check["message"] == ("could not look: the journal was not read: journalctl not found (no systemd journal on "
                                "this host): review this host's runner logs alone (log_paths), or run it where "
                                "systemd-journald runs")


def test_journalctl_refusing_for_permissions_is_unknown(fixture_path):
    refused = (1, "", _read(fixture_path, "journalctl", "list-boots-insufficient-permissions.stderr"))
    journal, _boots = collect.collect_journal(_run({"journalctl": refused}), lambda name: "/usr/bin/" + name, 0, (0, ["root"]))
    assert journal["present"] is False
    assert journal["reason"] == ("journalctl --list-boots failed: No journal files were opened due to insufficient "
                                 "permissions.")
    [check] = _journal_check(journal)
    assert check["status"] == "unknown" and "become: true" in check["message"]


def test_no_journal_files_is_unknown_not_a_quiet_week():
    """journald not running (this build machine): journalctl exits 0 and prints nothing at all."""
    journal, _boots = collect.collect_journal(_run({"journalctl": (0, "", "")}), lambda name: "/usr/bin/" + name, 0, (0, ["root"]))
    assert journal["present"] is False and journal["reason"].startswith("the journal holds no entries")
    [check] = _journal_check(journal)
    assert check["status"] == "unknown"
    assert "persistent storage (mkdir -p /var/log/journal" in check["message"]


@pytest.mark.parametrize("euid, groups, limited", [
    (0, ["root"], False),
    (1000, ["ops", "systemd-journal"], False),
    (1000, ["ops", "adm"], False),
    (1000, ["ops", "sudo"], True),
])
def test_a_user_outside_the_journal_groups_sees_only_its_own_entries(euid, groups, limited):
    journal = collect.collect_journal(_run({}), lambda name: "/usr/bin/" + name, 0, (euid, groups))[0] if limited else None
    assert (parse.journal_access_limit(euid, groups) is not None) is limited
    if limited:
        assert journal["present"] is False and "uid 1000" in journal["reason"]
        assert _journal_check(journal)[0]["status"] == "unknown"


def test_unreadable_runner_log_is_unknown_unless_a_problem_was_found(tmp_path):
    readable = tmp_path / "server.log"
    readable.write_text("level=INFO msg=ok\n")
    secret = tmp_path / "audit.log"
    secret.write_text("Error: x\n")

    def read(path):
        return None if path == str(secret) else collect.read_file(path)

    logs, unread = collect.collect_runner_logs([str(tmp_path)], 0, read)
    assert logs["files"] == 1 and unread == ["%s: %s" % (secret, "permission denied" if os.geteuid() else "not readable as text")]
    found = dict((c["check"], c) for c in checks.runner_log_checks({"runner_logs": logs, "runner_logs_unread": unread}, LIMITS))
    assert found["runner_log_errors"]["status"] == "unknown" and str(secret) in found["runner_log_errors"]["message"]
    assert found["runner_log_xid"]["status"] == "ok"
    loud = dict(logs, errors=60)
    found = dict((c["check"], c) for c in checks.runner_log_checks({"runner_logs": loud, "runner_logs_unread": unread}, LIMITS))
    assert found["runner_log_errors"]["status"] == "warn"  # a problem found ranks above not knowing


@pytest.mark.parametrize("firmware, reason_words, fix_words", [
    ({"bios_version": None, "bios_reason": "no /sys/class/dmi/id and no dmidecode (a container or VM without DMI)"},
     "no /sys/class/dmi/id", "install dmidecode"),
    ({"bios_version": None, "bios_reason": "dmidecode failed: /dev/mem: Permission denied"}, "Permission denied", "become: true"),
    ({"bios_version": "1.40", "bios_date": "2023-03-14", "bios_age_days": None,
      "bios_reason": "the BIOS release date '2023-03-14' is not a date (MM/DD/YYYY)"}, "not a date", "firmware setup"),
])
def test_bios_not_read_is_unknown(firmware, reason_words, fix_words):
    check = checks.firmware_checks(dict(firmware, microcode="0xb4"), LIMITS)[0]
    assert (check["check"], check["status"]) == ("bios_age", "unknown")
    assert reason_words in check["message"] and fix_words in check["message"]


def test_unreadable_cpuinfo_is_unknown_microcode():
    firmware = collect.collect_firmware(_run({}), lambda name: None, lambda path: None, TODAY)
    assert firmware["cpuinfo_reason"] == "could not read /proc/cpuinfo"
    microcode = checks.firmware_checks(firmware, LIMITS)[1]
    assert (microcode["check"], microcode["status"]) == ("microcode", "unknown")


def test_bios_date_not_a_date_is_kept_with_the_reason():
    sysfs = {"/sys/class/dmi/id/bios_version": "1.40\n", "/sys/class/dmi/id/bios_date": "2023-03-14\n",
             "/sys/class/dmi/id/bios_vendor": "AMI\n", "/proc/cpuinfo": "processor : 0\nmicrocode : 0xb4\n"}
    firmware = collect.collect_firmware(_run({}), lambda name: None, sysfs.get, TODAY)
    assert firmware["bios_age_days"] is None and "not a date" in firmware["bios_reason"]
    assert checks.firmware_checks(firmware, LIMITS)[0]["status"] == "unknown"


@pytest.mark.parametrize("answer, reason_words", [
    (None, "apt-config not found"),
    ((100, "", "E: Syntax error, unrecognized option 'Unattended-Upgrade' in /etc/apt/apt.conf.d/50x"), "Syntax error"),
])
def test_auto_update_settings_not_read_are_unknown(answer, reason_words):
    auto = collect.collect_autoupdate(_run({"apt-config": answer}), lambda name: "/usr/bin/" + name if answer else None,
                                      lambda path: None)
    check = checks.evaluate({"autoupdate": auto}, {"thresholds": LIMITS})[0]
    assert (check["check"], check["status"]) == ("auto_reboot", "unknown") and reason_words in check["message"]
