"""The macos area gathered from replayed macOS captures (testlib.macos_standin), without Ansible.

The tools are found in ``bin_dir`` (the stand-ins) and their output comes from the scenario table
through a run_command double, so every command line the area runs is checked against what it asked.
Expected values are read from the captures (quoted), not from the code.
"""

import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos import AREA
from testlib import macos_standin

GIB = 1024 ** 3


class Replay(object):
    """run_command double: strips the runner's timeout wrapper and answers from the scenario."""

    def __init__(self, bin_dir, entries):
        self.bin_dir, self.entries, self.asked = bin_dir, entries, []

    def __call__(self, args, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
        assert (environ_update or {}).get("LC_ALL") == "C"
        [start] = [i for i, part in enumerate(args) if part.startswith(self.bin_dir + os.sep)]
        command = " ".join([os.path.basename(args[start])] + list(args[start + 1:]))
        self.asked.append(command)
        if command not in self.entries:
            return macos_standin.UNKNOWN_COMMAND_RC, "", "no capture for %r" % command
        stdout, stderr, rc = macos_standin.resolve(self.entries[command])
        return rc, stdout, stderr


def gather(tmp_path, entries, **options):
    bin_dir = macos_standin.write_bin_dir(tmp_path / "bin", entries)
    replay = Replay(bin_dir, entries)
    fact, warnings = AREA.gather(replay, AREA.validate(dict({"bin_dir": bin_dir}, **options)))
    return fact, warnings, replay


def checks_of(fact):
    return dict((c["check"], c) for c in fact["checks"])


def test_a_ventura_mac_offered_sonoma(tmp_path):
    fact, warnings, replay = gather(tmp_path, macos_standin.scenario("ventura_sonoma_offered"))
    assert warnings == []
    assert sorted(replay.asked) == sorted(macos_standin.SCENARIOS["ventura_sonoma_offered"])
    # sw_vers: macOS 13.5 22G74; sysctl: Apple M1 Pro, Mac16,13
    assert (fact["is_macos"], fact["os_version"], fact["os_build"], fact["os_major"], fact["os_name"]) == (
        True, "13.5", "22G74", 13, "Ventura")
    assert (fact["chip"], fact["model"], fact["apple_silicon"], fact["unified_memory"]) == ("Apple M1 Pro", "Mac16,13", True, True)
    # memory_pressure: The system has 34359738368 ... System-wide memory free percentage: 88%; kernel level 1
    assert (fact["memory_bytes"], fact["memory_free_pct"], fact["memory_pressure"]) == (34359738368, 88, "normal")
    # vm.swapusage: total = 4096.00M  used = 2743.50M
    assert (fact["swap_total_bytes"], fact["swap_used_bytes"], fact["swap_used_pct"]) == (4 * GIB, int(2743.5 * 1024 ** 2), 67.0)
    # notifyutil: level 1; pmset: three "No ... has been recorded" notes
    assert (fact["thermal_pressure"], fact["thermal_pressure_level"], fact["pmset_recorded"]) == ("moderate", 1, False)
    assert [(u["title"], u["major"]) for u in fact["updates"]] == [
        ("Safari", False), ("macOS Ventura 13.6", False), ("macOS Sonoma 14.0", True)]
    assert (fact["major_upgrades"], fact["major_upgrades_count"]) == (["macOS Sonoma 14.0"], 1)
    # AutomaticallyInstallMacOSUpdates = 0; no profile (the managed domains do not exist)
    assert (fact["auto_install_macos_updates"], fact["major_upgrade_deferred"], fact["update_settings_managed"]) == (False, False, [])
    statuses = dict((name, c["status"]) for name, c in checks_of(fact).items())
    assert statuses == {"thermal_pressure": "ok", "memory_pressure": "ok", "memory_free": "ok",
                        "major_upgrade_pending": "warn", "update_deferral": "ok"}
    assert fact["status"] == "warn" and "_unread" not in fact
    assert AREA.present(fact)[2] == ("macos: updates offered: Safari, macOS Ventura 13.6, macOS Sonoma 14.0 "
                                     "(MAJOR UPGRADE: defer it); automatic macOS install off")


def test_the_daily_reading_asks_no_update_server(tmp_path):
    fact, _warnings, replay = gather(tmp_path, macos_standin.scenario("ventura_sonoma_offered"), check_updates=False)
    assert not [c for c in replay.asked if c.startswith(("softwareupdate", "defaults"))]
    assert fact["updates_checked"] is False and fact["major_upgrades_count"] is None
    assert set(checks_of(fact)) == {"thermal_pressure", "memory_pressure", "memory_free"}


def test_a_hot_mac_short_of_memory(tmp_path):
    # DERIVED in this test: the M4 Air's notifyutil line with level 3 (trapping), the Mac mini's
    # memory_pressure with 8 % free, the kernel's level 4 (critical)
    entries = macos_standin.scenario(
        "ventura_sonoma_offered",
        **{"notifyutil -g com.apple.system.thermalpressurelevel": {"stdout": "com.apple.system.thermalpressurelevel 3\n"},
           "memory_pressure": {"stdout": macos_standin.capture("memory_pressure-mac-mini-32g.txt").replace(
               "System-wide memory free percentage: 88%", "System-wide memory free percentage: 8%")},
           "sysctl kern.memorystatus_vm_pressure_level": {"stdout": "4\n"}})
    fact, _warnings, _replay = gather(tmp_path, entries, check_updates=False)
    statuses = dict((name, c["status"]) for name, c in checks_of(fact).items())
    assert statuses == {"thermal_pressure": "crit", "memory_pressure": "crit", "memory_free": "crit"}
    assert fact["thermal_pressure"] == "trapping" and fact["memory_free_pct"] == 8


def test_an_intel_mac_throttling(tmp_path):
    entries = macos_standin.scenario("ventura_sonoma_offered", **{
        "pmset -g therm": {"file": "pmset-thermlog-intel-throttled.txt"}})
    fact, _warnings, _replay = gather(tmp_path, entries, check_updates=False)
    assert (fact["cpu_speed_limit_pct"], checks_of(fact)["cpu_speed_limit"]["status"]) == (28, "crit")


def test_auto_install_on_with_a_deferral_profile(tmp_path):
    # DERIVED in this test: AutomaticallyInstallMacOSUpdates = 1 in the 10.15.7 preferences; the
    # restrictions domain holds the CONSTRUCTED 90-day deferral
    prefs = macos_standin.capture("defaults-read-SoftwareUpdate-10.15.7.txt").replace(
        "AutomaticallyInstallMacOSUpdates = 0;", "AutomaticallyInstallMacOSUpdates = 1;")
    entries = macos_standin.scenario("ventura_sonoma_offered", **{
        macos_standin.SOFTWARE_UPDATE: {"stdout": prefs},
        macos_standin.MANAGED_RESTRICTIONS: {"file": "defaults-read-managed-applicationaccess-defer-90-constructed.txt"}})
    fact, _warnings, _replay = gather(tmp_path, entries)
    assert (fact["auto_install_macos_updates"], fact["major_upgrade_deferred"], fact["major_upgrade_deferral_days"]) == (True, True, 90)
    assert checks_of(fact)["update_deferral"]["status"] == "ok"
    entries.pop(macos_standin.MANAGED_RESTRICTIONS)
    entries[macos_standin.MANAGED_RESTRICTIONS] = macos_standin.SCENARIOS["ventura_sonoma_offered"][macos_standin.MANAGED_RESTRICTIONS]
    fact, _warnings, _replay = gather(tmp_path, entries)
    assert checks_of(fact)["update_deferral"]["status"] == "warn"


@pytest.mark.parametrize("listing, majors, status", [
    ("softwareupdate-list-none.txt", [], "ok"),
    # on this Ventura Mac, macOS Tahoe 26.5.2 (a minor update on the Mac it was listed for) skips majors
    ("softwareupdate-list-tahoe-minor.txt", ["macOS Tahoe 26.5.2"], "warn")])
def test_what_counts_as_major_is_relative_to_the_running_version(tmp_path, listing, majors, status):
    entries = macos_standin.scenario("ventura_sonoma_offered", **{"softwareupdate --list": {"file": listing}})
    fact, _warnings, _replay = gather(tmp_path, entries)
    assert fact["major_upgrades"] == majors and checks_of(fact)["major_upgrade_pending"]["status"] == status


def test_tools_that_fail_or_are_missing_give_unknown_and_warnings_never_ok(tmp_path):
    entries = macos_standin.scenario("ventura_sonoma_offered", **{
        "notifyutil -g com.apple.system.thermalpressurelevel": None,          # answers 64
        "memory_pressure": {"stdout": "", "stderr": "memory_pressure: boom\n", "rc": 1},
        "softwareupdate --list": {"stdout": "Software Update Tool\n\nFinding available software\n",
                                  "stderr": "Cannot connect to the Software Update server\n", "rc": 1}})
    fact, warnings, _replay = gather(tmp_path, entries)
    statuses = dict((name, c["status"]) for name, c in checks_of(fact).items())
    assert statuses["thermal_pressure"] == statuses["memory_free"] == statuses["major_upgrade_pending"] == "unknown"
    assert any(w.startswith("notifyutil: notifyutil -g com.apple.system.thermalpressurelevel exited 64") for w in warnings)
    assert any("Cannot connect to the Software Update server" in w for w in warnings)


def test_a_linux_host_runs_uname_only(tmp_path):
    entries = macos_standin.scenario("linux")
    fact, warnings, replay = gather(tmp_path, entries)
    assert replay.asked == ["uname -s"] and warnings == []
    assert (fact["is_macos"], fact["kernel_name"], fact["status"]) == (False, "Linux", "ok")
    assert AREA.present(fact) == ["macos: not a macOS host (kernel Linux)"]
    none, _warnings, replay = gather(tmp_path, entries, only_on_macos=True)
    assert none is None and replay.asked == ["uname -s"]


def test_bad_options_name_the_option(tmp_path):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
    with pytest.raises(AreaError, match="command_timeout_s must be at least 1, not 0"):
        AREA.validate({"command_timeout_s": 0})
    with pytest.raises(AreaError, match="bin_dir .* is not a directory"):
        AREA.validate({"bin_dir": str(tmp_path / "missing")})


def test_metrics_are_in_base_units(tmp_path):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.prom import Families
    fact, _warnings, _replay = gather(tmp_path, macos_standin.scenario("ventura_sonoma_offered"))
    families = Families()
    AREA.metrics(fact, families)
    values = dict((name, family[2][0][1]) for name, family in families.items())
    assert values == {"gpufleet_macos_memory_free_ratio": 0.88, "gpufleet_macos_memory_pressure_level": 1.0,
                      "gpufleet_macos_swap_used_bytes": float(int(2743.5 * 1024 ** 2)),
                      "gpufleet_macos_thermal_pressure_level": 1.0, "gpufleet_macos_major_upgrades_offered": 1.0}
