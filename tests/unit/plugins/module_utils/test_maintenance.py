"""Upkeep facts: journal/log review, firmware, auto-update window, against real captures."""

import datetime

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _maintenance as m
from ansible_collections.gpufleet.maintenance.plugins.module_utils._runner import ToolResult

TODAY = datetime.date(2026, 11, 26)


def _read(path):
    with open(path) as handle:
        return handle.read()


def test_journal_json_counts(fixture_path):
    counts, entries = m.parse_journal_json(_read(fixture_path("maintenance", "journal-json-xid-oom.jsonl")))
    assert entries == 6
    # Xid twice (one as a byte array), one OOM, one timeout; errors: priority <= 3 lines.
    assert counts == {"errors": 2, "timeouts": 1, "oom": 1, "xid": 2}
    checks = m.journal_checks(counts, m.DEFAULT_THRESHOLDS, "the journal")
    by_name = dict((c["check"], c) for c in checks)
    assert by_name["log_xid"]["status"] == "crit" and "Xid table" in by_name["log_xid"]["message"]
    assert by_name["log_oom"]["status"] == "warn"
    assert by_name["log_errors"]["status"] == "ok"


def test_cpuinfo_capture(fixture_path):
    info = m.parse_cpuinfo(_read(fixture_path("maintenance", "proc-cpuinfo-2cpu-vm.txt")))
    assert info["cpu_count"] == 2
    assert info["microcode"].startswith("0x")
    assert info["cpu_model"]


def test_dmidecode_bios_and_age():
    text = "# dmidecode 3.4\nHandle 0x0000, DMI type 0, 26 bytes\nBIOS Information\n\tVendor: American Megatrends International, LLC.\n" \
           "\tVersion: 1.40\n\tRelease Date: 03/14/2023\n\tROM Size: 32 MB\n"
    bios = m.parse_dmidecode_bios(text)
    assert bios == {"bios_vendor": "American Megatrends International, LLC.", "bios_version": "1.40", "bios_date": "03/14/2023"}
    firmware = dict(bios, microcode="0xa201016")
    checks = m.firmware_checks(firmware, dict(m.DEFAULT_THRESHOLDS, bios_age_warn_days=365), TODAY)
    assert firmware["bios_age_days"] == 1353
    assert checks[0]["status"] == "warn" and "BIOS update" in checks[0]["message"]
    assert checks[1]["value"] == "0xa201016"


def test_missing_bios_is_null_with_reason():
    firmware = {"bios_version": None, "bios_reason": "no DMI here", "microcode": None}
    checks = m.firmware_checks(firmware, m.DEFAULT_THRESHOLDS, TODAY)
    assert [c["status"] for c in checks] == ["ok", "ok"]
    assert "no DMI here" in checks[0]["message"]
    assert m.parse_bios_date("garbage") is None


def test_apt_config_capture_and_timer(fixture_path):
    apt = m.parse_apt_config(_read(fixture_path("maintenance", "apt-config-dump-bookworm-unattended-upgrades.txt")))
    assert apt["APT::Periodic::Unattended-Upgrade"] == "1"
    assert isinstance(apt.get("Unattended-Upgrade::Origins-Pattern"), list)
    timer = m.parse_timer_calendar(_read(fixture_path("maintenance", "apt-daily-upgrade.timer")))
    assert timer == ["*-*-* 6:00"]
    facts = m.autoupdate_facts(apt, {"apt-daily-upgrade": timer})
    assert facts["unattended_upgrades"] is True and facts["automatic_reboot"] is False
    checks = dict((c["check"], c) for c in m.autoupdate_checks(facts))
    assert checks["auto_reboot"]["status"] == "ok"
    # Debian's default blacklist does not keep the driver out.
    assert checks["auto_upgrade_driver"]["status"] == "warn" and "package_pin" in checks["auto_upgrade_driver"]["message"]
    assert checks["update_window"]["value"] == ["*-*-* 6:00"]


def test_auto_reboot_and_blacklist():
    apt = m.parse_apt_config('APT::Periodic::Unattended-Upgrade "1";\nUnattended-Upgrade::Automatic-Reboot "true";\n'
                             'Unattended-Upgrade::Automatic-Reboot-Time "02:00";\nUnattended-Upgrade::Package-Blacklist "";\n'
                             'Unattended-Upgrade::Package-Blacklist:: "nvidia-";\n')
    facts = m.autoupdate_facts(apt, {})
    assert facts["package_blacklist"] == ["nvidia-"] and facts["driver_packages_blocked"]
    checks = dict((c["check"], c) for c in m.autoupdate_checks(facts))
    assert checks["auto_reboot"]["status"] == "warn" and "02:00" in checks["auto_reboot"]["message"]
    assert checks["auto_upgrade_driver"]["status"] == "ok"
    assert checks["update_window"]["message"].endswith("no schedule found")


def test_timer_dropin_resets_and_replaces():
    assert m.parse_timer_calendar("[Timer]\nOnCalendar=\nOnCalendar=Sun 03:00\n", ["*-*-* 6:00"]) == ["Sun 03:00"]
    assert m.parse_timer_calendar("[Timer]\nRandomizedDelaySec=1h\n", ["x"]) == ["x"]


class FakeRun:
    def __init__(self, outputs):
        self.outputs = outputs
        self.calls = []

    def __call__(self, argv, timeout):
        self.calls.append(argv)
        rc, out, err = self.outputs[argv[0].rsplit("/", 1)[-1]]
        return ToolResult(argv, rc, out, err)


def test_gather_with_tools(fixture_path, tmp_path):
    log = tmp_path / "ollama.log"
    log.write_text("level=ERROR msg=\"CUDA error: out of memory\"\nok\n")
    run = FakeRun({"journalctl": (0, _read(fixture_path("maintenance", "journal-json-xid-oom.jsonl")), ""),
                   "apt-config": (0, _read(fixture_path("maintenance", "apt-config-dump-bookworm-unattended-upgrades.txt")), "")})
    tools = {"journalctl": "/bin/journalctl", "apt-config": "/usr/bin/apt-config"}

    def read(path):
        if path == "/proc/cpuinfo":
            return _read(fixture_path("maintenance", "proc-cpuinfo-2cpu-vm.txt"))
        if path.startswith("/sys/class/dmi"):
            return None
        return m.read_file(path)

    fact, warnings = m.gather(list(m.COLLECT), m.DEFAULT_THRESHOLDS, run, tools.get, since=0,
                              log_paths=[str(tmp_path), "/nonexistent"], read=read, today=TODAY)
    assert warnings == []
    assert run.calls[0][-2:] == ["--since", "@0"]
    assert fact["journal"]["present"] and fact["journal"]["xid"] == 2
    assert fact["runner_logs"] == {"files": 1, "errors": 1, "timeouts": 0, "oom": 1, "xid": 0}
    assert fact["firmware"]["bios_version"] is None and "dmidecode" in fact["firmware"]["bios_reason"]
    assert fact["autoupdate"]["present"] and fact["autoupdate"]["unattended_upgrades"]
    names = [c["check"] for c in fact["checks"]]
    assert "runner_log_oom" in names and "log_xid" in names and "bios_age" in names
    assert fact["status"] == "crit"


def test_gather_without_tools_reports_absence():
    fact, _warnings = m.gather(list(m.COLLECT), m.DEFAULT_THRESHOLDS, lambda *a: None, lambda name: None,
                               read=lambda path: None, today=TODAY)
    assert fact["journal"]["present"] is False and "journalctl not found" in fact["journal"]["reason"]
    assert fact["autoupdate"] == {"present": False, "reason": "apt-config not found (not a Debian/Ubuntu host)"}
    assert fact["firmware"]["microcode"] is None
    assert fact["status"] == "ok"


def test_gather_failing_tools():
    run = FakeRun({"journalctl": (2, "", "Failed to open journal"), "apt-config": (100, "", "E: Syntax error")})
    fact, _w = m.gather(["journal", "autoupdate"], m.DEFAULT_THRESHOLDS, run, lambda n: "/x/" + n, read=lambda p: None)
    assert "Failed to open journal" in fact["journal"]["reason"]
    assert fact["autoupdate"]["present"] is False and "Syntax error" in fact["autoupdate"]["reason"]
    assert fact["status"] == "warn"


def test_summary_section_and_summary_lines():
    from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._summary import summary_lines
    fact = {"since_s": 1764115200, "status": "crit",
            "journal": {"present": True, "errors": 2, "timeouts": 1, "oom": 1, "xid": 2},
            "firmware": {"bios_version": None, "bios_date": None, "microcode": "0x1000065"},
            "autoupdate": {"present": False, "reason": "apt-config not found"},
            "checks": [{"check": "log_xid", "status": "crit", "message": "NVIDIA Xid lines in the journal is 2"}]}
    assert m.summary_section(fact) == [
        "journal since 2025-11-26: 2 error, 1 timeout, 1 out-of-memory, 2 Xid line(s)",
        "firmware: BIOS n/a (n/a), microcode 0x1000065",
        "auto-updates: not checked (apt-config not found)"]
    lines = summary_lines({"gpufleet_maintenance": fact})
    assert lines[0] == "status: CRIT" and lines[-1] == "CRIT log_xid: NVIDIA Xid lines in the journal is 2"
    assert m.summary_section({"journal": {"present": False, "reason": "no journalctl"}}) == ["journal: not read (no journalctl)"]
