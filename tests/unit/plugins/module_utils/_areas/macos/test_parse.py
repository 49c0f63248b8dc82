"""The macos parsers on captured macOS output (tests/unit/fixtures/macos, PROVENANCE.md).

Expected values are read from the capture text (quoted in the comments), not from the parsers.
"""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos import parse
from testlib.macos_standin import capture

MIB = 1024 * 1024


def test_sw_vers_ventura():
    # ProductName:\t\tmacOS / ProductVersion:\t\t13.5 / BuildVersion:\t\t22G74
    assert parse.parse_sw_vers(capture("sw_vers-13.5-22G74.txt")) == {
        "product_name": "macOS", "os_version": "13.5", "os_version_extra": None, "os_build": "22G74",
        "os_major": 13, "os_name": "Ventura"}


def test_sw_vers_high_sierra_has_no_release_name_in_the_table():
    # ProductName:\tMac OS X / ProductVersion:\t10.13 / BuildVersion:\t17A405
    parsed = parse.parse_sw_vers(capture("sw_vers-10.13-17A405.txt"))
    assert (parsed["product_name"], parsed["os_version"], parsed["os_build"], parsed["os_major"], parsed["os_name"]) == (
        "Mac OS X", "10.13", "17A405", 10, None)


def test_sw_vers_rapid_security_response_suffix():
    # the ProductVersionExtra line sw_vers adds while a Rapid Security Response is installed (macOS 13+)
    text = "ProductName:\t\tmacOS\nProductVersion:\t\t13.4.1\nProductVersionExtra:\t(c)\nBuildVersion:\t\t22F770820d\n"
    assert parse.parse_sw_vers(text)["os_version_extra"] == "(c)"


def test_sysctl_reads_both_the_named_and_the_bare_form():
    assert parse.sysctl_value(capture("sysctl-machdep.cpu.brand_string-m1-pro.txt"), "machdep.cpu.brand_string") == "Apple M1 Pro"
    assert parse.sysctl_value(capture("sysctl-n-hw.model-m4-air.txt"), "hw.model") == "Mac16,13"
    assert parse.sysctl_value(capture("sysctl-n-kern.memorystatus_vm_pressure_level-constructed.txt"),
                              "kern.memorystatus_vm_pressure_level") == "1"
    assert parse.sysctl_value("sysctl: unknown oid 'hw.nope'\n", "hw.nope") is None
    assert parse.sysctl_value("", "hw.model") is None


def test_swapusage_in_use():
    # vm.swapusage: total = 4096.00M  used = 2743.50M  free = 1352.50M  (encrypted)
    value = parse.sysctl_value(capture("sysctl-vm.swapusage-4g.txt"), "vm.swapusage")
    assert parse.parse_swapusage(value) == {"swap_total_bytes": 4096 * MIB, "swap_used_bytes": int(2743.5 * MIB),
                                            "swap_free_bytes": int(1352.5 * MIB), "swap_encrypted": True}


def test_swapusage_none_allocated_and_a_decimal_comma():
    # total = 0.00M  used = 0.00M  free = 0.00M  (encrypted)
    none = parse.parse_swapusage(parse.sysctl_value(capture("sysctl-vm.swapusage-none.txt"), "vm.swapusage"))
    assert (none["swap_total_bytes"], none["swap_used_bytes"]) == (0, 0)
    # total = 1024,00M  used = 379,25M  free = 644,75M
    comma = parse.parse_swapusage(parse.sysctl_value(capture("sysctl-vm.swapusage-comma-locale.txt"), "vm.swapusage"))
    assert (comma["swap_total_bytes"], comma["swap_used_bytes"], comma["swap_free_bytes"]) == (
        1024 * MIB, int(379.25 * MIB), int(644.75 * MIB))
    assert parse.parse_swapusage(None)["swap_total_bytes"] is None


def test_memory_pressure_mac_mini():
    # The system has 34359738368 (2097152 pages with a page size of 16384). ... Swapins: 0 / Swapouts: 0
    # ... System-wide memory free percentage: 88%
    assert parse.parse_memory_pressure(capture("memory_pressure-mac-mini-32g.txt")) == {
        "memory_bytes": 34359738368, "page_size_bytes": 16384, "memory_free_pct": 88, "swapins": 0, "swapouts": 0}


def test_memory_pressure_quick_form_and_garbage():
    # the two lines `memory_pressure -Q` prints
    quick = "The system has 68719476736 (4194304 pages with a page size of 16384).\nSystem-wide memory free percentage: 93%\n"
    assert parse.parse_memory_pressure(quick)["memory_free_pct"] == 93
    assert parse.parse_memory_pressure("usage: memory_pressure [-l level]")["memory_free_pct"] is None


@pytest.mark.parametrize("level, name", [(1, "normal"), (2, "warn"), (4, "critical"), (3, None), (None, None)])
def test_memory_pressure_level_names(level, name):
    assert parse.pressure_level_name(level) == name


def test_thermal_pressure_m4_air():
    # com.apple.system.thermalpressurelevel 1
    level = parse.parse_thermal_pressure(capture("notifyutil-thermalpressurelevel-m4-air.txt"))
    assert level == 1 and parse.thermal_pressure_name(level) == "moderate"
    assert [parse.thermal_pressure_name(n) for n in range(5)] == ["nominal", "moderate", "heavy", "trapping", "sleeping"]
    assert parse.thermal_pressure_name(7) is None and parse.parse_thermal_pressure("") is None


def test_pmset_on_apple_silicon_records_nothing():
    parsed = parse.parse_pmset_therm(capture("pmset-therm-apple-silicon.txt"))
    assert parsed["pmset_recorded"] is False and parsed["cpu_speed_limit_pct"] is None


def test_pmset_on_an_intel_mac():
    # CPU_Scheduler_Limit = 40 / CPU_Available_CPUs = 8 / CPU_Speed_Limit = 28
    throttled = parse.parse_pmset_therm(capture("pmset-thermlog-intel-throttled.txt"))
    assert (throttled["cpu_speed_limit_pct"], throttled["cpu_scheduler_limit_pct"], throttled["cpu_available_cpus"],
            throttled["pmset_recorded"]) == (28, 40, 8, True)
    assert parse.parse_pmset_therm(capture("pmset-thermlog-intel-full-speed.txt"))["cpu_speed_limit_pct"] == 100
    # pmset.m prints a recorded warning as "Thermal Warning Level = %d"
    assert parse.parse_pmset_therm("2020-06-26 12:30:37 +0200 Thermal Warning Level = 1\n")["thermal_warning_level"] == 1


def test_softwareupdate_ventura_list():
    listed = parse.parse_softwareupdate_list(capture("softwareupdate-list-ventura-minor-and-sonoma.txt"))
    assert listed["state"] == "updates"
    assert [(u["label"], u["title"], u["version"], u["size_kib"], u["recommended"], u["restart"]) for u in listed["updates"]] == [
        ("Safari17.0VenturaAuto-17.0", "Safari", "17.0", 161835, True, False),
        ("macOS Ventura 13.6-22G120", "macOS Ventura 13.6", "13.6", 594108, True, True),
        ("macOS Sonoma 14.0-23A344", "macOS Sonoma 14.0", "14.0", 4404034, True, True),
    ]
    classified = parse.classify_updates(listed["updates"], 13)
    assert [(u["macos"], u["major"]) for u in classified] == [(False, False), (True, False), (True, True)]
    # the running version unknown: a macOS update cannot be called minor or major
    assert [u["major"] for u in parse.classify_updates(listed["updates"], None)] == [False, None, None]


def test_softwareupdate_minor_only_and_none():
    tahoe = parse.parse_softwareupdate_list(capture("softwareupdate-list-tahoe-minor.txt"))
    [update] = parse.classify_updates(tahoe["updates"], 26)
    assert (update["title"], update["version"], update["major"]) == ("macOS Tahoe 26.5.2", "26.5.2", False)
    assert parse.parse_softwareupdate_list(capture("softwareupdate-list-none.txt")) == {
        "state": "none", "updates": [], "message": None}


def test_softwareupdate_error_is_unknown_with_its_text():
    listed = parse.parse_softwareupdate_list("Software Update Tool\n\nFinding available software\n"
                                             "Cannot connect to the Software Update server\n")
    assert listed["state"] == "unknown" and listed["message"] == "Cannot connect to the Software Update server"


def test_defaults_read_software_update_prefs():
    prefs = parse.parse_defaults(capture("defaults-read-SoftwareUpdate-10.15.7.txt"))
    assert prefs["AutomaticCheckEnabled"] == "YES" and prefs["AutomaticallyInstallMacOSUpdates"] == "0"
    assert prefs["LastAttemptSystemVersion"] == "10.15.7 (19H114)"
    assert prefs["PrimaryLanguages"] == ["en-LT", "en-GB"]
    assert [u["Display Name"] for u in prefs["RecommendedUpdates"]] == [
        "Safari", "macOS Catalina 10.15.7 Supplemental Update", "macOS Catalina Security Update 2021-001"]
    settings, managed = parse.update_settings(prefs, {})
    assert settings == {"auto_check_enabled": True, "auto_download": True, "auto_install_macos_updates": False,
                        "critical_update_install": False, "config_data_install": False}
    assert managed == []


def test_a_profile_value_wins_over_the_local_one():
    local = parse.parse_defaults(capture("defaults-read-SoftwareUpdate-10.15.7.txt"))
    settings, managed = parse.update_settings(local, {"AutomaticallyInstallMacOSUpdates": "1"})
    assert settings["auto_install_macos_updates"] is True and managed == ["auto_install_macos_updates"]


def test_major_deferral_from_the_restrictions():
    restrictions = parse.parse_defaults(capture("defaults-read-managed-applicationaccess-defer-90-constructed.txt"))
    assert parse.major_deferral(restrictions) == (True, 90)
    assert parse.major_deferral({}) == (False, None)
    assert parse.domain_missing(capture("defaults-read-managed-applicationaccess-absent.stderr"))


@pytest.mark.parametrize("text", ["", "not a plist", "{ a = 1; ", "{ a = 1; } trailing", '{ a = "open; }'])
def test_defaults_parser_refuses_what_is_not_one_dictionary(text):
    with pytest.raises(parse.PlistError):
        parse.parse_defaults(text)


def test_defaults_parser_escapes_and_data():
    assert parse.parse_defaults('{ a = "x\\"y\\\\z\\U00e9"; b = <0a0b>; c = (); }') == {"a": 'x"y\\z\u00e9', "b": "<0a0b>", "c": []}


@pytest.mark.parametrize("value, expected", [("1", True), ("YES", True), ("True", True), ("0", False), ("NO", False),
                                             ("False", False), ("2", None), (None, None), ([], None)])
def test_flag(value, expected):
    assert parse.flag(value) is expected
