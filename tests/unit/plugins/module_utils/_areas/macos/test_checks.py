"""macos verdicts at each threshold, on hand-built facts (the collected captures are in test_collect.py).

The rules (docs/macos.md): thermal pressure warns from heavy (2) and is critical from trapping (3);
the kernel's memory-pressure level is the verdict (normal ok, warn warn, critical crit); free memory
warns at 20 % and is critical at 10 %; a major upgrade offered warns ("defer it"); macOS installing
its own updates with nothing deferring major upgrades warns. What could not be read is unknown.
"""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos import AREA, checks

LIMITS = AREA.validate({})["thresholds"]


def by_name(results):
    return dict((r["check"], r) for r in results)


def mac(**extra):
    fact = {"is_macos": True, "kernel_name": "Darwin", "os_version": "13.5", "thermal_pressure_level": 0,
            "thermal_pressure": "nominal", "memory_pressure_level": 1, "memory_pressure": "normal",
            "memory_free_pct": 60, "swap_used_bytes": 0, "cpu_speed_limit_pct": None, "thermal_warning_level": None,
            "updates_checked": False, "_unread": {}}
    fact.update(extra)
    return fact


def test_the_defaults_are_the_documented_ones():
    assert (LIMITS["thermal_pressure_warn_level"], LIMITS["thermal_pressure_crit_level"]) == (2, 3)
    assert (LIMITS["memory_free_warn_pct"], LIMITS["memory_free_crit_pct"]) == (20, 10)
    assert (LIMITS["cpu_speed_limit_warn_pct"], LIMITS["cpu_speed_limit_crit_pct"]) == (80, 50)


@pytest.mark.parametrize("level, name, status", [
    (0, "nominal", "ok"), (1, "moderate", "ok"), (2, "heavy", "warn"), (3, "trapping", "crit"), (4, "sleeping", "crit")])
def test_thermal_pressure(level, name, status):
    result = by_name(checks.evaluate(mac(thermal_pressure_level=level, thermal_pressure=name), {"thresholds": LIMITS}))
    check = result["thermal_pressure"]
    assert (check["status"], check["value"]) == (status, name)
    if status != "ok":
        assert "let it cool and reduce the sustained load" in check["message"]


def test_a_fanless_air_can_raise_the_warning_level():
    limits = AREA.validate({"thresholds": {"thermal_pressure_warn_level": 3, "thermal_pressure_crit_level": 4}})["thresholds"]
    result = by_name(checks.evaluate(mac(thermal_pressure_level=2, thermal_pressure="heavy"), {"thresholds": limits}))
    assert result["thermal_pressure"]["status"] == "ok"


def test_thermal_pressure_unread_is_unknown_never_ok():
    fact = mac(thermal_pressure_level=None, thermal_pressure=None, _unread={"notifyutil": "notifyutil not found"})
    check = by_name(checks.evaluate(fact, {"thresholds": LIMITS}))["thermal_pressure"]
    assert check["status"] == "unknown" and "notifyutil not found" in check["message"]


@pytest.mark.parametrize("limit, warning, status", [(100, None, "ok"), (81, None, "ok"), (80, None, "warn"),
                                                    (51, None, "warn"), (50, None, "crit"), (28, None, "crit"),
                                                    (100, 1, "warn"), (None, 2, "warn"), (28, 1, "crit")])
def test_cpu_speed_limit_on_intel(limit, warning, status):
    result = by_name(checks.evaluate(mac(cpu_speed_limit_pct=limit, thermal_warning_level=warning), {"thresholds": LIMITS}))
    assert result["cpu_speed_limit"]["status"] == status


def test_no_cpu_speed_limit_check_where_pmset_records_none():
    # Apple Silicon: pmset records nothing; thermal_pressure is the verdict
    assert "cpu_speed_limit" not in by_name(checks.evaluate(mac(), {"thresholds": LIMITS}))
    fact = mac(_unread={"pmset": "pmset -g therm exited 1: boom"})
    assert by_name(checks.evaluate(fact, {"thresholds": LIMITS}))["cpu_speed_limit"]["status"] == "unknown"


@pytest.mark.parametrize("level, name, status", [(1, "normal", "ok"), (2, "warn", "warn"), (4, "critical", "crit")])
def test_memory_pressure_is_the_kernels_level(level, name, status):
    check = by_name(checks.evaluate(mac(memory_pressure_level=level, memory_pressure=name, swap_used_bytes=3 * 1024 ** 3),
                                    {"thresholds": LIMITS}))["memory_pressure"]
    assert check["status"] == status
    assert "3.0 GiB of swap in use" in check["message"]
    if status != "ok":
        assert "smaller model or a stronger quantization" in check["message"]


def test_memory_pressure_unread_or_unexpected_is_unknown():
    unread = mac(memory_pressure_level=None, memory_pressure=None,
                 _unread={"sysctl kern.memorystatus_vm_pressure_level": "sysctl not found"})
    assert by_name(checks.evaluate(unread, {"thresholds": LIMITS}))["memory_pressure"]["status"] == "unknown"
    odd = mac(memory_pressure_level=3, memory_pressure=None)
    check = by_name(checks.evaluate(odd, {"thresholds": LIMITS}))["memory_pressure"]
    assert check["status"] == "unknown" and "unexpected level 3" in check["message"]


@pytest.mark.parametrize("free, status", [(88, "ok"), (21, "ok"), (20, "warn"), (11, "warn"), (10, "crit"), (3, "crit")])
def test_memory_free(free, status):
    check = by_name(checks.evaluate(mac(memory_free_pct=free), {"thresholds": LIMITS}))["memory_free"]
    assert (check["status"], check["value"]) == (status, free)
    unread = by_name(checks.evaluate(mac(memory_free_pct=None), {"thresholds": LIMITS}))["memory_free"]
    assert unread["status"] == "unknown"


SONOMA = {"label": "macOS Sonoma 14.0-23A344", "title": "macOS Sonoma 14.0", "version": "14.0", "macos": True, "major": True}
VENTURA = {"label": "macOS Ventura 13.6-22G120", "title": "macOS Ventura 13.6", "version": "13.6", "macos": True, "major": False}


def updates(**extra):
    fact = mac(updates_checked=True, updates=[VENTURA], auto_install_macos_updates=False, major_upgrade_deferred=False)
    fact.update(extra)
    return by_name(checks.evaluate(fact, {"thresholds": LIMITS}))


def test_no_update_checks_when_updates_were_not_checked():
    result = by_name(checks.evaluate(mac(), {"thresholds": LIMITS}))
    assert "major_upgrade_pending" not in result and "update_deferral" not in result


def test_a_major_upgrade_offered_warns_defer_it():
    check = updates(updates=[VENTURA, SONOMA])["major_upgrade_pending"]
    assert check["status"] == "warn" and check["value"] == ["macOS Sonoma 14.0"]
    assert check["message"].startswith("macOS Sonoma 14.0 (version 14.0) is offered; this Mac runs macOS 13.5: "
                                       "defer it until your runners support it")
    assert "read the release notes" in check["message"]


def test_minor_updates_only_are_ok_and_listed():
    check = updates()["major_upgrade_pending"]
    assert check["status"] == "ok" and "other updates: macOS Ventura 13.6" in check["message"]
    assert updates(updates=[])["major_upgrade_pending"]["status"] == "ok"


def test_softwareupdate_unread_or_undecidable_is_unknown():
    unread = updates(_unread={"softwareupdate": "softwareupdate --list exited 1: no network"})["major_upgrade_pending"]
    assert unread["status"] == "unknown" and "no network" in unread["message"]
    unsure = dict(SONOMA, major=None)
    assert updates(updates=[unsure])["major_upgrade_pending"]["status"] == "unknown"


@pytest.mark.parametrize("auto, deferred, days, status, words", [
    (False, False, None, "ok", "does not install its updates by itself"),
    (True, False, None, "warn", "installs its updates by itself"),
    (None, False, None, "warn", "not set"),
    (True, True, 90, "ok", "defers major macOS upgrades by 90 days"),
    (True, True, None, "ok", "Apple's default delay"),
])
def test_update_deferral(auto, deferred, days, status, words):
    check = updates(auto_install_macos_updates=auto, major_upgrade_deferred=deferred,
                    major_upgrade_deferral_days=days)["update_deferral"]
    assert check["status"] == status and words in check["message"]
    if status == "warn":
        assert "AutomaticallyInstallMacOSUpdates -bool false" in check["message"]


def test_update_settings_unread_is_unknown():
    fact = {"_unread": {"defaults /Library/Preferences/com.apple.SoftwareUpdate": "defaults not found"}}
    assert updates(auto_install_macos_updates=None, **fact)["update_deferral"]["status"] == "unknown"


def test_not_a_mac_says_so_and_an_unreadable_kernel_name_is_unknown():
    linux = checks.evaluate({"is_macos": False, "kernel_name": "Linux", "_unread": {}}, {"thresholds": LIMITS})
    assert [(c["check"], c["status"]) for c in linux] == [("macos", "ok")]
    assert "not a macOS host (kernel Linux)" in linux[0]["message"]
    unknown = checks.evaluate({"is_macos": False, "kernel_name": None, "_unread": {"uname": "uname not found"}},
                              {"thresholds": LIMITS})
    assert [(c["check"], c["status"]) for c in unknown] == [("macos", "unknown")]
