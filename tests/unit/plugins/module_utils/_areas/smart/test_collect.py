"""The smart area's collection: the real pySMART parser over replayed captures, through the runner.

The stand-in smartctl (tests/testlib/fake_smartctl.py) replays the captures under
tests/unit/fixtures/smartctl/ (see PROVENANCE.md there); pySMART's own Device/Smartctl code parses
them, through the collection's runner (coreutils timeout, LC_ALL=C).
"""

import os
import subprocess
import time

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import AREA, checks, collect
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import smartctl
from testlib.smartctl import FIXTURES, calls, install_fake_smartctl


def run_command(args, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
    """AnsibleModule.run_command's contract, with subprocess (the unit layer has no module)."""
    env = dict(os.environ)
    env.update(environ_update or {})
    proc = subprocess.run(args, capture_output=True, text=True, env=env, input=data, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def params(**options):
    """The area's options, validated as smart_facts and health_facts validate them."""
    return AREA.validate(options)


def gather(options, **host):
    """collect, then evaluate, as Area.gather does, with this test's uid, mounts and clock (``host``)."""
    validated = params(**options)
    data, warnings = collect.collect(run_command, validated, **host)
    found = checks.evaluate(data, validated)
    return dict(data, checks=found, status=worst_status(found)), warnings


def test_critical_paths_follow_device_mapper_slaves(tmp_path):
    sysfs = tmp_path / "sys"
    (sysfs / "class" / "block" / "dm-0" / "slaves" / "nvme1n1p3").mkdir(parents=True)
    store = tmp_path / "models"
    store.mkdir()
    mounts = "/dev/dm-0 %s ext4 rw 0 0\n/dev/sda1 / ext4 rw 0 0\n" % store
    result = collect.critical_path_disks([str(store), "/", str(tmp_path / "absent")], mounts, str(sysfs))
    assert result == {str(store): ["nvme1"], "/": ["sda"]}


# ---------------------------------------------------------------- pySMART over the stand-in smartctl


DRIVES = {
    "/dev/nvme0": {"type": "nvme", "text": "text-nvme-twsc-tsc3an1t0-smartctl75.txt"},
    "/dev/nvme1": {"type": "nvme", "text": "text-nvme-toshiba-kbg30zmv256g-28pct-used.txt"},
    "/dev/nvme2": {"type": "nvme", "json": "json-nvme-intel-p4500-2tb-75pct-used.json"},
    "/dev/nvme3": {"type": "nvme", "json": "json-nvme-micron-7450-3.2tb.json"},
    "/dev/sda": {"type": "sat", "text": "text-sata-ssd-liteon-lct512l9s.txt"},
    "/dev/sdb": {"type": "scsi", "text": "text-sas-hdd-hgst-huh721212al4204.txt"},
    "/dev/sdc": {"type": "sat", "text": "text-sata-hdd-wd-hc550-16tb-helium-windows.txt",
                 "json": "json-sata-hdd-wd-hc550-16tb-helium-windows.json"},
    "/dev/sdd": {"type": "sat", "json": "json-sata-hdd-wd-hc550-16tb-exit64.json"},
    "/dev/sde": {"type": "sat", "text": "text-sata-hdd-seagate-st2000nm000a-smartctl64.txt", "standby": True},
    "/dev/sdf": {"type": "scsi", "text": "text-raid-virtual-disk-avago-mr9361-unsupported.txt"},
    "/dev/sdg": {"type": "sntasmedia", "text": "text-nvme-usb-samsung-t7-sntasmedia-aarch64.txt"},
    "/dev/sdh": {"type": "sat", "text": "text-sata-hdd-seagate-st2000nm000a-smartctl64.txt"},
    "/dev/sdi": {"type": "sat", "json": "json-sata-ssd-kingston-a400-120gb-exit4.json"},
}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    path, log = install_fake_smartctl(tmp_path_factory.mktemp("smartctl"), DRIVES)
    fact, warnings = gather({"smartctl_path": path, "rated_tbw": {"INTEL SSDPE2KX020T7": 2630, "TTSQA253HX07141": 600}},
                            euid=0, mounts_text="", now=1000000)
    return fact, warnings, calls(log), {d["name"]: d for d in fact["devices"]}


def test_scan_lists_every_drive_and_reads_each_without_waking_or_testing(scanned):
    fact, warnings, argv_log, by_name = scanned
    assert fact["present"] is True and fact["smartctl_version"] == "7.3"
    assert sorted(by_name) == sorted(DRIVES)
    assert ["--scan-open"] in argv_log
    reads = [argv for argv in argv_log if "--all" in argv or "-a" in argv]
    assert reads and all(argv[argv.index("-n") + 1] == "standby" for argv in reads)
    assert not [argv for argv in argv_log if "-t" in argv or "-X" in argv or "-s" in argv]
    assert any("/dev/sdi: smartctl reports: SMART command failed" in w for w in warnings)


def test_nvme_smartctl75_nsid_ffffffff_through_pysmart(scanned):
    drive = scanned[3]["/dev/nvme0"]
    assert drive["model"] == "TWSC TSC3AN1T0-F2T60S" and drive["serial"] == "TTSQA253HX07141"
    assert drive["firmware"] == "SN13076" and drive["interface"] == "nvme" and drive["rotational"] is False
    assert drive["capacity_bytes"] == 1024209543168 and drive["logical_block_size"] == 512
    assert drive["temperature_c"] == 43 and drive["power_on_hours"] == 396 and drive["power_cycles"] == 25
    assert drive["unsafe_shutdowns"] == 5 and drive["media_errors"] == 0 and drive["error_log_entries"] == 0
    assert drive["available_spare_pct"] == 100 and drive["available_spare_threshold_pct"] == 1
    assert drive["data_written_bytes"] == 1506179 * 512000
    assert drive["rated_tbw"] == 600 and drive["tbw_used_pct"] == round(100 * 771163648000 / 600e12, 2) == 0.13
    assert drive["health_passed"] is True and drive["exit_status"] == 0 and drive["exit_status_words"] == []
    assert drive["self_tests"] == {"short": None, "long": None, "count": 0}


def test_nvme_worn_toshiba_and_p4500(scanned):
    toshiba = scanned[3]["/dev/nvme1"]
    assert toshiba["percentage_used"] == 28 and toshiba["wear_pct_used"] == 28
    assert toshiba["unsafe_shutdowns"] == 67 and toshiba["temperature_c"] == 42
    assert toshiba["data_written_bytes"] == 24664736 * 512000
    p4500 = scanned[3]["/dev/nvme2"]
    assert p4500["model"] == "INTEL SSDPE2KX020T7" and p4500["nand_type"] == "tlc"
    assert p4500["wear_pct_used"] == 75 and p4500["data_written_bytes"] == 5014522069 * 512000
    assert p4500["tbw_used_pct"] == round(100 * 5014522069 * 512000 / 2630e12, 2)
    wear = [c for c in p4500["checks"] if c["check"] == "wear"][0]
    assert wear["status"] == "warn" and wear["threshold"] == 70 and "replace" in wear["message"]


def test_nvme_without_block_size_still_counts_data_units(scanned):
    micron = scanned[3]["/dev/nvme3"]
    assert micron["logical_block_size"] is None
    assert micron["data_written_bytes"] == 1248078 * 512000 and micron["data_written_reason"] is None


def test_sata_ssd_liteon_smartctl66(scanned):
    drive = scanned[3]["/dev/sda"]
    assert drive["interface"] == "sata" and drive["rotational"] is False
    assert drive["wear_pct_used"] == 0 and drive["wear_source"] == "Wear_Leveling_Count (normalised value 100)"
    assert drive["logical_block_size"] == 512  # "Sector Size: 512 bytes logical/physical", read by our text helper
    assert drive["data_written_bytes"] == 176271 * 512
    assert drive["power_on_hours"] == 2376 and drive["power_cycles"] == 1000 and drive["reallocated_sectors"] == 0
    assert drive["self_tests"]["short"] == {"status": "Completed without error", "passed": True,
                                            "lifetime_hours": 2376, "age_hours": 0}
    assert drive["self_tests"]["count"] == 9


def test_sas_hdd_hgst(scanned):
    drive = scanned[3]["/dev/sdb"]
    assert drive["model"] == "HUH721212AL4204" and drive["serial"] == "8DG3J2ZD"
    assert drive["interface"] == "sas" and drive["rotational"] is True and drive["temperature_c"] == 32
    assert drive["capacity_bytes"] == 12000138625024 and drive["logical_block_size"] == 4096
    assert drive["nand_type"] == "unknown" and "no NAND" in drive["nand_source"]
    assert "wear" not in [c["check"] for c in drive["checks"]]


def test_sata_hdd_text_and_json_of_the_same_drive(scanned):
    drive = scanned[3]["/dev/sdc"]
    assert drive["model"] == "WDC  WUH721816ALE6L4" or drive["model"] == "WDC WUH721816ALE6L4"
    assert drive["rotational"] is True and drive["power_on_hours"] == 592 and drive["temperature_c"] == 26
    assert drive["data_written_bytes"] is None and drive["data_written_reason"] == "the drive reports no host-writes attribute"


def test_failing_hdd_exit64_error_log(scanned):
    drive = scanned[3]["/dev/sdd"]
    assert drive["exit_status"] == 64 and drive["exit_status_words"] == ["error log has errors"]
    assert drive["error_log_entries"] == 1 and drive["crc_errors"] == 1 and drive["power_on_hours"] == 20117


def test_standby_disk_is_not_woken(scanned):
    drive = scanned[3]["/dev/sde"]
    assert drive["state"] == "standby" and drive["smart_supported"] is None
    assert drive["exit_status"] == 2 and "not woken" in drive["reason"]
    assert drive["model"] is None and drive["checks"][0]["status"] == "ok"


def test_raid_virtual_disk_is_unsupported(scanned):
    drive = scanned[3]["/dev/sdf"]
    assert drive["smart_supported"] is False and drive["state"] == "unsupported"
    assert drive["reason"] == "SMART support is: Unavailable - device lacks SMART capability."
    assert drive["model"] == "MR9361-16i" and drive["temperature_c"] is None
    assert [c["check"] for c in drive["checks"]] == ["smart_read"]


def test_usb_bridge_nvme(scanned):
    drive = scanned[3]["/dev/sdg"]
    assert drive["interface"] == "usb" and drive["model"] == "Samsung Portable SSD T7"
    assert drive["data_written_bytes"] == 2065461 * 512000 and drive["unsafe_shutdowns"] == 10


def test_smartctl64_text_only_drive(scanned):
    drive = scanned[3]["/dev/sdh"]
    assert drive["power_on_hours"] == 1380 and drive["logical_block_size"] == 512
    assert drive["data_written_bytes"] == 1105531559 * 512
    assert drive["self_tests"]["long"]["age_hours"] == 1380 - 1284


def test_sata_ssd_exit4(scanned):
    drive = scanned[3]["/dev/sdi"]
    assert drive["exit_status"] == 4 and drive["exit_status_words"] == ["SMART command failed"]
    assert drive["wear_pct_used"] == 2 and drive["nand_type"] == "tlc"


def test_explicit_devices_megaraid_and_unknown(tmp_path):
    path, _log = install_fake_smartctl(tmp_path, {
        "/dev/bus/0": {"type": "megaraid,28", "text": "text-sata-ssd-intel-s3510-megaraid-trailing-spaces.txt"}})
    fact, _warnings = collect.collect(run_command, params(smartctl_path=path, devices=["/dev/bus/0:megaraid,28", "/dev/vdz"]),
                                      euid=0, mounts_text="")
    intel, unknown = fact["devices"]
    assert intel["model"] == "INTEL SSDSC2BB120G6" and intel["nand_type"] == "mlc"
    assert intel["wear_pct_used"] == 14 and intel["wear_source"].startswith("Media_Wearout_Indicator")
    assert intel["data_written_bytes"] == 1412735 * 32 * 1024 ** 2
    assert intel["self_tests"]["short"]["age_hours"] == 43583 - 42889
    assert unknown["smart_supported"] is False and unknown["reason"] == "/dev/vdz: Unable to detect device type"
    assert unknown["exit_status"] == 1 and unknown["exit_status_words"] == ["command line error"]


def test_failed_health_from_a_derived_capture(tmp_path):
    """A FAILED assessment: the LiteOn capture with its verdict line changed (derived here, not a capture)."""
    with open(os.path.join(FIXTURES, "text-sata-ssd-liteon-lct512l9s.txt")) as handle:
        text = handle.read().replace("test result: PASSED", "test result: FAILED!")
    derived = tmp_path / "liteon-failed.txt"
    derived.write_text(text)
    path, _log = install_fake_smartctl(tmp_path / "bin", {"/dev/sda": {"type": "sat", "text": str(derived), "rc": 8}})
    fact, _warnings = gather({"smartctl_path": path}, euid=0, mounts_text="")
    drive = fact["devices"][0]
    assert drive["health_passed"] is False and drive["exit_status_words"] == ["disk failing"]
    assert fact["status"] == "crit"
    assert [c for c in fact["checks"] if c["check"] == "smart_health"][0]["message"].endswith("replace it")


def derive(tmp_path, capture, old, new):
    """A variant of a real capture, made here: ``old`` (which must be in it) replaced by ``new``; its path."""
    with open(os.path.join(FIXTURES, capture), encoding="utf-8") as handle:
        text = handle.read()
    assert old in text, (capture, old)
    derived = tmp_path / ("derived-" + capture)
    derived.write_text(text.replace(old, new), encoding="utf-8")
    return str(derived)


def test_garbled_output_without_json_is_unknown_and_keeps_other_drives(tmp_path):
    garbled = derive(tmp_path, "text-nvme-twsc-tsc3an1t0-smartctl75.txt",
                     "Temperature:                        43 Celsius", "Temperature:                        ?? Celsius")
    path, _log = install_fake_smartctl(tmp_path / "bin", {
        "/dev/nvme0": {"type": "nvme", "text": garbled},
        "/dev/nvme1": {"type": "nvme", "text": "text-nvme-toshiba-kbg30zmv256g-28pct-used.txt"}})
    fact, warnings = gather({"smartctl_path": path}, euid=0, mounts_text="")
    bad, good = fact["devices"]
    assert bad["state"] == "garbled" and bad["temperature_c"] is None and bad["data_written_bytes"] is None
    assert any("pySMART could not parse" in w for w in warnings)
    read = bad["checks"][0]
    assert [c["check"] for c in bad["checks"]] == ["smart_read"] and read["status"] == "unknown"
    assert "pySMART could not parse smartctl's text output (ValueError: invalid literal for int()" in read["message"]
    assert read["message"].endswith("smartctl --json gave nothing about the drive: read it by hand with smartctl -a /dev/nvme0")
    assert good["wear_pct_used"] == 28


def _garbled_seagate(tmp_path):
    """The Seagate smartctl 6.4 capture with one flag byte garbled, on which pySMART raises (derived here)."""
    return derive(tmp_path, "text-sata-hdd-seagate-st2000nm000a-smartctl64.txt",
                  "  9 Power_On_Hours          0x0032", "  9 Power_On_Hours          0x00g2")


def test_failing_drive_is_crit_whatever_the_text_parse_did(tmp_path):
    """smart_status.passed false, exit status 216 (a real USB JMicron capture): crit, with a garbled text,
    with text that says PASSED (another drive's clean capture) and with no text at all."""
    path, _log = install_fake_smartctl(tmp_path / "bin", {
        "/dev/sdb": {"type": "sat", "text": _garbled_seagate(tmp_path),
                     "json": "json-usb-sat-hdd-wd-scorpio-blue-failing-exit216.json"},
        "/dev/sdc": {"type": "sat", "text": "text-sata-hdd-seagate-st2000nm000a-smartctl64.txt",
                     "json": "json-usb-sat-hdd-wd-scorpio-blue-failing-exit216.json"},
        "/dev/sdd": {"type": "sat", "json": "json-usb-sat-hdd-wd-scorpio-blue-failing-exit216.json"}})
    fact, _warnings = gather({"smartctl_path": path}, euid=0, mounts_text="")
    garbled, passed_text, no_text = fact["devices"]
    assert garbled["state"] == "garbled" and garbled["smart_supported"] is True
    assert garbled["model"] == "WDC WD3200BEVT-60ZCT0" and garbled["health_passed"] is False
    assert garbled["exit_status"] == 216 and garbled["exit_status_words"] == [
        "disk failing", "prefail attributes at or below threshold", "error log has errors", "self-test log has errors"]
    assert garbled["reallocated_sectors"] == 535 and garbled["pending_sectors"] == 1 and garbled["power_on_hours"] == 16402
    by_check = dict((c["check"], c) for c in garbled["checks"])
    assert by_check["smart_health"]["status"] == "crit"
    assert by_check["smart_health"]["message"].endswith("failed its SMART health self-assessment: back up its data now and replace it")
    # the text could not be parsed, and --json gave every field the checks read: said, not hidden
    assert by_check["smart_read"]["status"] == "ok" and "0x00g2" in by_check["smart_read"]["message"]
    assert by_check["self_test"]["status"] == "warn" and "Completed: read failure" in by_check["self_test"]["message"]
    assert by_check["pending_sectors"]["status"] == "warn"
    assert garbled["status"] == "crit"
    for drive in (passed_text, no_text):
        assert drive["health_passed"] is False and drive["status"] == "crit"
        assert [c["status"] for c in drive["checks"] if c["check"] == "smart_health"] == ["crit"]
    assert fact["status"] == "crit"


def test_garbled_text_names_what_json_did_not_give(tmp_path):
    """A health-only JSON answer (smartctl -jH, a real 7.0 capture) behind a garbled text: health is judged,
    the fields nobody read are named and the read is unknown, not ok."""
    path, _log = install_fake_smartctl(tmp_path / "bin", {
        "/dev/sdc": {"type": "sat", "text": _garbled_seagate(tmp_path), "json": "json-sata-health-only-jH.json"}})
    fact, _warnings = gather({"smartctl_path": path}, euid=0, mounts_text="")
    drive = fact["devices"][0]
    by_check = dict((c["check"], c) for c in drive["checks"])
    assert drive["health_passed"] is True and by_check["smart_health"]["status"] == "ok"
    assert by_check["smart_read"]["status"] == "unknown"
    assert "smartctl --json did not give temperature_c, power_on_hours, wear_pct_used, data_written_bytes" \
        in by_check["smart_read"]["message"]
    assert fact["status"] == "warn"  # no self-test log was read: warn outranks unknown


def test_nvme_critical_warning_from_the_text_is_crit(tmp_path):
    """The TWSC capture with its Critical Warning line set to 0x04 (derived here): pySMART reads it."""
    derived = derive(tmp_path, "text-nvme-twsc-tsc3an1t0-smartctl75.txt",
                     "Critical Warning:                   0x00", "Critical Warning:                   0x04")
    path, _log = install_fake_smartctl(tmp_path / "bin", {
        "/dev/nvme0": {"type": "nvme", "text": derived},
        "/dev/nvme1": {"type": "nvme", "text": "text-nvme-twsc-tsc3an1t0-smartctl75.txt"}})
    fact, _warnings = gather({"smartctl_path": path}, euid=0, mounts_text="")
    critical, clean = fact["devices"]
    assert critical["critical_warning"] == 4 and clean["critical_warning"] == 0
    check = [c for c in critical["checks"] if c["check"] == "critical_warning"][0]
    assert check["status"] == "crit" and check["value"] == 4
    assert "NVMe critical warning 0x04 (NVM subsystem reliability degraded)" in check["message"]
    assert [c["status"] for c in clean["checks"] if c["check"] == "critical_warning"] == ["ok"]
    assert critical["status"] == "crit"


@pytest.mark.parametrize("separator", [u"\u2019", u"\u00a0", u"\u2009", "'"], ids=["rsquo", "nbsp", "thinsp", "apostrophe"])
def test_locale_thousands_separators_parse(tmp_path, separator):
    """The WD SN850X capture (smartctl 7.4, a de_CH-like locale: 2\u2019000\u2019398...) as it is, and with its
    separators replaced (derived here) by the no-break space, the thin space and the apostrophe."""
    derived = derive(tmp_path, "text-nvme-wd-sn850x-2tb-smartctl74.txt", u"\u2019", separator)
    path, _log = install_fake_smartctl(tmp_path / "bin", {"/dev/nvme0": {"type": "nvme", "text": derived}})
    fact, warnings = gather({"smartctl_path": path}, euid=0, mounts_text="")
    drive = fact["devices"][0]
    assert drive["state"] == "active" and not [w for w in warnings if "pySMART" in w]
    assert drive["model"] == "WDS200T1X0E-00AFY0" and drive["capacity_bytes"] == 2000398934016
    assert drive["data_written_bytes"] == 49987853 * 512000 and drive["power_on_hours"] == 6433
    assert drive["unsafe_shutdowns"] == 35 and drive["temperature_c"] == 42 and drive["wear_pct_used"] == 1


def test_smartctl_missing(tmp_path):
    fact, _warnings = gather({"smartctl_path": str(tmp_path / "nope")}, euid=0)
    assert fact["present"] is False and "install smartmontools" in fact["reason"]
    assert fact["devices"] == [] and fact["checks"][0]["check"] == "smartctl_present"
    # nothing was read: could not look (a missing tool is not a finding on the drives), and the message says what to install
    assert fact["checks"][0]["status"] == "unknown" and fact["status"] == "unknown"
    assert fact["checks"][0]["message"].startswith("could not look: smartctl not found")
    assert fact["checks"][0]["message"].count("ssd_wear_install: true") == 1


def test_not_root_says_become(tmp_path):
    path, _log = install_fake_smartctl(tmp_path, {"/dev/sda": {"type": "sat", "json": "json-open-failed-windows-exit2.json"}})
    fact, _warnings = gather({"smartctl_path": path, "devices": ["/dev/sda:sat"]}, euid=1000, mounts_text="")
    drive = fact["devices"][0]
    assert drive["state"] == "unreadable" and drive["smart_supported"] is None
    assert drive["exit_status_words"] == ["device open failed"]
    assert "needs root (become: true)" in drive["reason"] and "Open failed" in drive["reason"]
    assert drive["checks"][0]["check"] == "smart_read" and drive["checks"][0]["status"] == "unknown"
    access = [c for c in fact["checks"] if c["check"] == "smart_access"][0]
    assert access["status"] == "unknown" and access["message"].startswith("could not look: smart_facts runs without root")
    assert "become: true" in access["message"] and fact["status"] == "unknown"


@pytest.mark.parametrize("euid, words", [
    (1000, "smartctl could not open the drive as uid 1000; smart_facts needs root (become: true)"),
    (0, "root could not open the drive; check that the device exists and that this host lets root open it"),
])
def test_permission_denied_is_unknown_with_the_reason_and_the_fix(tmp_path, euid, words):
    """smartctl 7.3 --json run without root on an NVMe drive (a real capture): exit status 2, Permission denied.
    It was ok, "no SMART data ...; nothing to check": the drive was never looked at."""
    path, _log = install_fake_smartctl(tmp_path, {
        "/dev/nvme0": {"type": "nvme", "json": "json-nvme-open-permission-denied-exit2.json"}})
    fact, _warnings = gather({"smartctl_path": path}, euid=euid, mounts_text="")
    drive = fact["devices"][0]
    assert drive["state"] == "unreadable" and drive["exit_status"] == 2
    assert drive["reason"].startswith("Smartctl open device: /dev/nvme0 failed: Permission denied: ")
    assert words in drive["reason"]
    read = drive["checks"][0]
    assert [c["check"] for c in drive["checks"]] == ["smart_read"] and read["status"] == "unknown"
    assert read["subject"] == {"device": "/dev/nvme0"} and words in read["message"]
    assert fact["status"] == "unknown"  # not root: smart_access could not look either


def test_output_cut_after_the_banner_is_unknown_not_ok(tmp_path):
    """The Seagate capture cut after smartctl's banner (derived here), no --json: it was ok, "no SMART data"."""
    with open(os.path.join(FIXTURES, "text-sata-hdd-seagate-st2000nm000a-smartctl64.txt")) as handle:
        banner = "".join(handle.readlines()[:3])
    cut = tmp_path / "cut.txt"
    cut.write_text(banner)
    path, _log = install_fake_smartctl(tmp_path / "bin", {"/dev/sdb": {"type": "sat", "text": str(cut)}})
    fact, _warnings = gather({"smartctl_path": path}, euid=0, mounts_text="")
    drive = fact["devices"][0]
    assert drive["state"] == "unreadable" and drive["checks"][0]["status"] == "unknown"
    assert "smartctl gave no SMART data and no reason (exit status: 0); read it by hand with smartctl -a /dev/sdb" \
        in drive["checks"][0]["message"]
    assert fact["status"] == "unknown"


def test_error_log_exit_bit_gives_a_warning(scanned):
    """The WD HC550 capture exits 64 (one error in its log); the Micron 7450 capture exits 0."""
    by_name = scanned[3]
    log = [c for c in by_name["/dev/sdd"]["checks"] if c["check"] == "error_log"][0]
    assert log["status"] == "warn" and log["value"] == 1 and log["subject"] == {"device": "/dev/sdd"}
    assert "error log has errors (1 entries): read them (smartctl -l error, or -l xerror)" in log["message"]
    assert [c["status"] for c in by_name["/dev/nvme3"]["checks"] if c["check"] == "error_log"] == ["ok"]


def test_a_garbled_json_answer_from_smartctl_73_is_not_called_older_than_7(tmp_path):
    """smartctl 7.3 (the stand-in's banner) answering --json with text (a text capture served as JSON)."""
    path, _log = install_fake_smartctl(tmp_path, {"/dev/nvme0": {
        "type": "nvme", "text": "text-nvme-twsc-tsc3an1t0-smartctl75.txt", "json": "text-nvme-twsc-tsc3an1t0-smartctl75.txt"}})
    fact, warnings = gather({"smartctl_path": path}, euid=0, mounts_text="")
    assert fact["smartctl_version"] == "7.3" and fact["devices"][0]["state"] == "active"
    notes = [w for w in warnings if "--json" in w]
    assert notes == ["/dev/nvme0: smartctl --json: smartctl 7.3 printed something that is not JSON: "
                     "'smartctl 7.5 2025-04-30 r5714 [x86_64-linux-6.14.0-22-generic] (local build)'"]


def test_type_detected_with_d_test_and_wake_reads_a_standby_disk(tmp_path):
    path, log = install_fake_smartctl(tmp_path, {
        "/dev/nvme0": {"type": "nvme", "text": "text-nvme-samsung-970evoplus-500gb-smartctl72.txt"},
        "/dev/sdb": {"type": "sat", "text": "text-sata-hdd-seagate-st2000nm000a-smartctl64.txt", "standby": True}})
    fact, _warnings = collect.collect(run_command, params(smartctl_path=path, devices=["/dev/nvme0", "/dev/sdb:sat"], wake=True),
                                      euid=0, mounts_text="")
    samsung, hdd = fact["devices"]
    assert ["-d", "test", "/dev/nvme0"] in calls(log)  # pySMART asks smartctl for the type
    assert samsung["smartctl_type"] == "nvme" and samsung["nand_type"] == "tlc"
    assert samsung["model"] == "Samsung SSD 970 EVO Plus 500GB" and samsung["data_written_bytes"] == 1954515 * 512000
    assert samsung["unsafe_shutdowns"] == 4 and samsung["temperature_c"] == 41
    # wake: true drops -n standby, so the standby disk is read (and spun up)
    assert hdd["state"] == "active" and hdd["power_on_hours"] == 1380
    assert not [argv for argv in calls(log) if "standby" in argv]


def test_without_pysmart_the_json_drives_are_read_and_the_area_says_unknown(tmp_path, monkeypatch):
    """pySMART not installed (as on a fresh host): never a failed module; --json gives what it gives."""
    monkeypatch.setattr(smartctl, "HAS_PYSMART", False)
    monkeypatch.setattr(smartctl, "PYSMART_IMPORT_ERROR", ImportError("No module named 'pySMART'"))
    path, log = install_fake_smartctl(tmp_path, {
        "/dev/nvme2": {"type": "nvme", "json": "json-nvme-intel-p4500-2tb-75pct-used.json"},
        # smartctl 6.4 text only: this stand-in answers --json as 6.x does (UNRECOGNIZED OPTION)
        "/dev/sdh": {"type": "sat", "text": "text-sata-hdd-seagate-st2000nm000a-smartctl64.txt"}})
    fact, warnings = gather({"smartctl_path": path}, euid=0, mounts_text="")
    assert fact["present"] is True and fact["pysmart_present"] is False
    p4500, old = fact["devices"]
    # the JSON capture's own numbers: 5014522069 data units x 512000 bytes, 75 % used
    assert p4500["state"] == "active" and p4500["data_written_bytes"] == 5014522069 * 512000
    assert p4500["wear_pct_used"] == 75 and p4500["model"] == "INTEL SSDPE2KX020T7"
    assert [c["status"] for c in p4500["checks"] if c["check"] == "wear"] == ["warn"]
    assert old["state"] == "unreadable" and old["smart_supported"] is None and old["exit_status"] == 1
    read = old["checks"][0]
    assert read["check"] == "smart_read" and read["status"] == "unknown"
    assert "pySMART is not installed" in read["message"] and "gpufleet.maintenance.prerequisites" in read["message"]
    library = [c for c in fact["checks"] if c["check"] == "pysmart_present"][0]
    assert library["status"] == "unknown" and library["subject"] == {}
    assert "1 of 2 drives read from smartctl --json alone" in library["message"]
    assert library["message"].endswith("run the gpufleet.maintenance.prerequisites role (it installs pySMART in the "
                                       "collection's virtual environment on the host)")
    assert fact["status"] == "warn"  # the worn P4500 outranks what could not be read
    assert any("pySMART is not importable" in w for w in warnings)
    assert not [argv for argv in calls(log) if "--all" in argv]  # the text was never asked for


def test_without_pysmart_nothing_read_is_unknown_not_ok(tmp_path, monkeypatch):
    monkeypatch.setattr(smartctl, "HAS_PYSMART", False)
    path, _log = install_fake_smartctl(tmp_path, {
        "/dev/sdh": {"type": "sat", "text": "text-sata-hdd-seagate-st2000nm000a-smartctl64.txt"}})
    fact, _warnings = gather({"smartctl_path": path}, euid=0, mounts_text="")
    assert fact["status"] == "unknown"
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("pysmart_present", "unknown"), ("smart_read", "unknown")]


@pytest.mark.parametrize("timeout", [0, -5])
def test_a_timeout_below_one_second_is_refused_before_anything_runs(tmp_path, timeout):
    """timeout=0 ran smartctl with no time limit (a hung drive hung the play); -5 read nothing and said ok."""
    path, log = install_fake_smartctl(tmp_path, DRIVES)
    with pytest.raises(AreaError, match=r"^smart: timeout must be at least 1 \(got %d\)$" % timeout):
        gather({"smartctl_path": path, "timeout": timeout}, euid=0, mounts_text="")
    assert calls(log) == []
    assert params(smartctl_path=path, timeout=1)["timeout"] == 1


def test_readings_cover_what_growth_and_rate_checks_need_and_what_the_history_kept(scanned):
    """Every number a growth or rate check compares between runs is recorded, per drive."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import extract

    fact = scanned[0]
    rows = extract("smart", fact, AREA.readings)
    by_metric = {}
    for metric, subject, value in rows:
        by_metric.setdefault(metric, {})[subject] = value
    # the Intel P4500 capture (JSON): its own counters
    p4500 = "device=/dev/nvme2"
    assert by_metric["smart.devices.data_written_bytes"][p4500] == 5014522069 * 512000
    assert by_metric["smart.devices.wear_pct_used"][p4500] == 75
    for metric in ("media_errors", "unsafe_shutdowns", "power_on_hours", "critical_warning", "error_log_entries"):
        assert p4500 in by_metric["smart.devices.%s" % metric], metric
    # the WD HC550 (SATA): reallocated and pending sectors
    assert by_metric["smart.devices.reallocated_sectors"]["device=/dev/sdd"] == 0
    assert by_metric["smart.devices.pending_sectors"]["device=/dev/sdd"] == 0


def test_the_now_option_is_the_time_of_the_reading(tmp_path):
    """A replay passes its simulated time (the ssd_wear role passes gpufleet_now): it is the time base of
    the write rate against the previous reading; without it the host's clock is."""
    path, dummy = install_fake_smartctl(tmp_path / "smartctl", {"/dev/nvme1": DRIVES["/dev/nvme1"]})
    fact, dummy = gather({"smartctl_path": path, "now": 1767225600}, euid=0, mounts_text="")
    assert fact["collected_epoch_s"] == 1767225600
    before = int(time.time())
    fact, dummy = gather({"smartctl_path": path}, euid=0, mounts_text="")
    assert before <= fact["collected_epoch_s"] <= int(time.time())
