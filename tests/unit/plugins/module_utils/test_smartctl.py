"""_smartctl: exit-status words, normalisation, and the real pySMART parser against replayed captures.

The stand-in smartctl (tests/testlib/fake_smartctl.py) replays the captures under
tests/unit/fixtures/smartctl/ (see PROVENANCE.md there); pySMART's own Device/Smartctl code parses
them, through the collection's runner (coreutils timeout, LC_ALL=C).
"""

import json
import os
import subprocess

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _smart_checks, _smartctl
from testlib.smartctl import FIXTURES, calls, install_fake_smartctl


def run_command(args, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
    """AnsibleModule.run_command's contract, with subprocess (the unit layer has no module)."""
    env = dict(os.environ)
    env.update(environ_update or {})
    proc = subprocess.run(args, capture_output=True, text=True, env=env, input=data, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def load_json(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return json.load(handle)


# ---------------------------------------------------------------- pure functions


@pytest.mark.parametrize("rc, words", [
    (0, []),
    (1, ["command line error"]),
    (2, ["device open failed"]),
    (4, ["SMART command failed"]),
    (8, ["disk failing"]),
    (16, ["prefail attributes at or below threshold"]),
    (32, ["attributes were at threshold in the past"]),
    (64, ["error log has errors"]),
    (128, ["self-test log has errors"]),
    (0xC8, ["disk failing", "error log has errors", "self-test log has errors"]),
    (None, None),
    (300, ["killed or not run (exit status 300)"]),
    ("x", ["not a smartctl exit status: 'x'"]),
])
def test_decode_exit_status(rc, words):
    assert _smartctl.decode_exit_status(rc) == words


def test_parse_scan_skips_failed_opens_and_comments():
    lines = ["/dev/sda -d sat # /dev/sda [SAT], ATA device",
             "/dev/nvme0 -d nvme # /dev/nvme0, NVMe device",
             "# /dev/sdb -d scsi # failed: Permission denied",
             "/dev/sdc -d scsi # /dev/sdc, SCSI device open failed: No such device",
             "/dev/bus/0 -d megaraid,16 # /dev/bus/0 [megaraid_disk_16], SCSI device", ""]
    assert _smartctl.parse_scan(lines) == [("/dev/sda", "sat"), ("/dev/nvme0", "nvme"),
                                           ("/dev/sdc", "scsi"), ("/dev/bus/0", "megaraid,16")]


@pytest.mark.parametrize("kind, protocol, transport, expected", [
    ("nvme", "NVMe", None, "nvme"), ("sat", "ATA", None, "sata"), ("sat+megaraid,0", "ATA", None, "sata"),
    ("scsi", "SCSI", "SAS (SPL-3)", "sas"), ("scsi", "SCSI", None, "scsi"), ("sntasmedia", None, None, "usb"),
    ("usbjmicron", None, None, "usb"), (None, None, None, None),
])
def test_interface_name(kind, protocol, transport, expected):
    assert _smartctl.interface_name(kind, protocol, transport) == expected


@pytest.mark.parametrize("status, passed", [
    ("Completed without error", True), ("Completed: read failure", False), ("Completed: electrical failure", False),
    ("Aborted by host", None), ("Self-test routine in progress", None), ("Interrupted (host reset)", None),
])
def test_self_test_passed(status, passed):
    assert _smartctl.self_test_passed(status) is passed


def test_summarize_self_tests_takes_the_newest_of_each_kind_with_ages():
    entries = [{"type": "Short offline", "status": "Completed without error", "lifetime_hours": "990"},
               {"type": "Extended offline", "status": "Completed: read failure", "lifetime_hours": 900},
               {"type": "Short offline", "status": "Completed: read failure", "lifetime_hours": 10}]
    result = _smartctl.summarize_self_tests(entries, 1000)
    assert result["count"] == 3
    assert result["short"] == {"status": "Completed without error", "passed": True, "lifetime_hours": 990, "age_hours": 10}
    assert result["long"]["passed"] is False and result["long"]["age_hours"] == 100


@pytest.mark.parametrize("attrs, expected", [
    ({"Wear_Leveling_Count": {"value": 81, "raw": "278"}}, 19),
    ({"Media_Wearout_Indicator": {"value": 86, "raw": "0"}}, 14),
    ({"SSD_Life_Left": {"value": 98, "raw": "98"}}, 2),
    ({"Percent_Lifetime_Remain": {"value": 12, "raw": "88"}}, 88),
    ({"Power_On_Hours": {"value": 97, "raw": "10"}}, None),
    ({"Wear_Leveling_Count": {"value": 253, "raw": "0"}}, None),  # not a percentage: never guessed
])
def test_ata_wear(attrs, expected):
    assert _smartctl.ata_wear(attrs)[0] == expected


def test_ata_data_written_units_and_unknown_block_size():
    assert _smartctl.ata_data_written({"Lifetime_Writes_GiB": {"raw": "398"}}, None) == (398 * 1024 ** 3, None)
    assert _smartctl.ata_data_written({"Host_Writes_32MiB": {"raw": "10"}}, None) == (10 * 32 * 1024 ** 2, None)
    assert _smartctl.ata_data_written({"Total_LBAs_Written": {"raw": "1000"}}, 4096) == (4096000, None)
    written, reason = _smartctl.ata_data_written({"Total_LBAs_Written": {"raw": "1000"}}, None)
    assert written is None and "logical block size is not" in reason
    written, reason = _smartctl.ata_data_written({}, 512)
    assert written is None and "no host-writes attribute" in reason


def test_nvme_data_written_never_a_false_zero():
    assert _smartctl.nvme_data_written(1506179) == (771163648000, None)
    assert _smartctl.nvme_data_written(0, 0) == (0, None)  # a new drive
    written, reason = _smartctl.nvme_data_written(0, 17318425)
    assert written is None and "17318425 host write commands" in reason
    assert _smartctl.nvme_data_written(None)[0] is None


@pytest.mark.parametrize("path, key", [
    ("/dev/nvme0n1p2", "nvme0"), ("/dev/nvme0", "nvme0"), ("/dev/nvme12n1", "nvme12"), ("/dev/sda1", "sda"),
    ("/dev/sdab", "sdab"), ("/dev/vda3", "vda"), ("/dev/mmcblk0p1", "mmcblk0"), ("/dev/bus/0", "0"),
])
def test_disk_key(path, key):
    assert _smartctl.disk_key(path) == key


def test_critical_paths_follow_device_mapper_slaves(tmp_path):
    sysfs = tmp_path / "sys"
    (sysfs / "class" / "block" / "dm-0" / "slaves" / "nvme1n1p3").mkdir(parents=True)
    store = tmp_path / "models"
    store.mkdir()
    mounts = "/dev/dm-0 %s ext4 rw 0 0\n/dev/sda1 / ext4 rw 0 0\n" % store
    result = _smartctl.critical_path_disks([str(store), "/", str(tmp_path / "absent")], mounts, str(sysfs))
    assert result == {str(store): ["nvme1"], "/": ["sda"]}


def test_from_json_nvme_intel_660p():
    record = _smartctl.from_json(load_json("json-nvme-intel-660p-1tb-qlc.json"))
    assert record["model"] == "INTEL SSDPEKNW010T8" and record["serial"] == "BTNH93710FS91P0B"
    assert record["interface"] == "nvme" and record["rotational"] is False
    assert record["data_written_bytes"] == 7773431 * 512000 == 3979996672000
    assert record["unsafe_shutdowns"] == 43 and record["power_on_hours"] == 2401
    assert record["available_spare_threshold_pct"] == 10 and record["wear_pct_used"] == 0


def test_from_json_sata_ssds():
    samsung = _smartctl.from_json(load_json("json-sata-ssd-samsung-860evo-500gb-x.json"))
    assert samsung["wear_pct_used"] == 19 and samsung["wear_source"].startswith("Wear_Leveling_Count")
    assert samsung["data_written_bytes"] == 64777770148 * 512
    assert samsung["power_on_hours"] == 14551 and samsung["crc_errors"] == 0
    kingston = _smartctl.from_json(load_json("json-sata-ssd-kingston-a400-120gb-exit4.json"))
    assert kingston["wear_pct_used"] == 2 and kingston["data_written_bytes"] == 398 * 1024 ** 3
    assert kingston["unsafe_shutdowns"] == 3 and kingston["exit_status"] == 4
    pm893 = _smartctl.from_json(load_json("json-sata-ssd-samsung-pm893-240gb.json"))
    assert pm893["wear_pct_used"] == 2 and pm893["data_written_bytes"] == 652566252 * 512


def test_from_json_open_failed_has_no_device():
    record = _smartctl.from_json(load_json("json-open-failed-windows-exit2.json"))
    assert record["exit_status"] == 2 and record["model"] is None
    assert "Open failed" in record["messages"][0]
    assert _smartctl.from_json(["not", "a", "dict"]) is None


def test_parse_json_text_errors():
    assert _smartctl.parse_json_text("=======> UNRECOGNIZED OPTION: json")[0] is None
    doc, error = _smartctl.parse_json_text('{"smartctl": {')
    assert doc is None and error.startswith("garbled JSON")


def test_merge_keeps_pysmart_and_fills_gaps():
    primary = dict(_smartctl.empty_device("/dev/sda"), model="A", data_written_reason="x is unknown", messages=["m1"])
    fallback = dict(_smartctl.empty_device("/dev/sda"), model="B", serial="S", data_written_bytes=5, messages=["m1", "m2"])
    merged = _smartctl.merge(primary, fallback)
    assert merged["model"] == "A" and merged["serial"] == "S"
    assert merged["data_written_bytes"] == 5 and merged["data_written_reason"] is None
    assert merged["messages"] == ["m1", "m2"]


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
    fact, warnings = _smartctl.collect(run_command, smartctl_path=path, euid=0, mounts_text="", now=1000000,
                                       rated_tbw={"INTEL SSDPE2KX020T7": 2630, "TTSQA253HX07141": 600})
    _smart_checks.evaluate(fact)
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
    fact, _warnings = _smartctl.collect(run_command, smartctl_path=path, devices=["/dev/bus/0:megaraid,28", "/dev/vdz"],
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
    fact, _warnings = _smartctl.collect(run_command, smartctl_path=path, euid=0, mounts_text="")
    _smart_checks.evaluate(fact)
    drive = fact["devices"][0]
    assert drive["health_passed"] is False and drive["exit_status_words"] == ["disk failing"]
    assert fact["status"] == "crit"
    assert [c for c in fact["checks"] if c["check"] == "smart_health"][0]["message"].endswith("replace it")


def test_garbled_output_warns_and_keeps_other_drives(tmp_path):
    garbled = tmp_path / "garbled.txt"
    with open(os.path.join(FIXTURES, "text-nvme-twsc-tsc3an1t0-smartctl75.txt")) as handle:
        garbled.write_text(handle.read().replace("Temperature:                        43 Celsius",
                                                 "Temperature:                        ?? Celsius"))
    path, _log = install_fake_smartctl(tmp_path / "bin", {
        "/dev/nvme0": {"type": "nvme", "text": str(garbled)},
        "/dev/nvme1": {"type": "nvme", "text": "text-nvme-toshiba-kbg30zmv256g-28pct-used.txt"}})
    fact, warnings = _smartctl.collect(run_command, smartctl_path=path, euid=0, mounts_text="")
    _smart_checks.evaluate(fact)
    bad, good = fact["devices"]
    assert bad["state"] == "garbled" and bad["temperature_c"] is None and bad["data_written_bytes"] is None
    assert any("pySMART could not parse" in w for w in warnings)
    assert bad["checks"][0]["status"] == "warn"
    assert good["wear_pct_used"] == 28


def test_smartctl_missing(tmp_path):
    fact, _warnings = _smartctl.collect(run_command, smartctl_path=str(tmp_path / "nope"), euid=0)
    _smart_checks.evaluate(fact)
    assert fact["present"] is False and "install smartmontools" in fact["reason"]
    assert fact["devices"] == [] and fact["checks"][0]["check"] == "smartctl_present"


def test_not_root_says_become(tmp_path):
    path, _log = install_fake_smartctl(tmp_path, {"/dev/sda": {"type": "sat", "json": "json-open-failed-windows-exit2.json"}})
    fact, _warnings = _smartctl.collect(run_command, smartctl_path=path, devices=["/dev/sda:sat"], euid=1000, mounts_text="")
    _smart_checks.evaluate(fact)
    drive = fact["devices"][0]
    assert drive["smart_supported"] is False and drive["exit_status_words"] == ["device open failed"]
    assert "needs root (become: true)" in drive["reason"] and "Open failed" in drive["reason"]
    access = [c for c in fact["checks"] if c["check"] == "smart_access"][0]
    assert access["status"] == "warn" and "become: true" in access["message"]


def test_type_detected_with_d_test_and_wake_reads_a_standby_disk(tmp_path):
    path, log = install_fake_smartctl(tmp_path, {
        "/dev/nvme0": {"type": "nvme", "text": "text-nvme-samsung-970evoplus-500gb-smartctl72.txt"},
        "/dev/sdb": {"type": "sat", "text": "text-sata-hdd-seagate-st2000nm000a-smartctl64.txt", "standby": True}})
    fact, _warnings = _smartctl.collect(run_command, smartctl_path=path, devices=["/dev/nvme0", "/dev/sdb:sat"],
                                        euid=0, mounts_text="", wake=True)
    samsung, hdd = fact["devices"]
    assert ["-d", "test", "/dev/nvme0"] in calls(log)  # pySMART asks smartctl for the type
    assert samsung["smartctl_type"] == "nvme" and samsung["nand_type"] == "tlc"
    assert samsung["model"] == "Samsung SSD 970 EVO Plus 500GB" and samsung["data_written_bytes"] == 1954515 * 512000
    assert samsung["unsafe_shutdowns"] == 4 and samsung["temperature_c"] == 41
    # wake: true drops -n standby, so the standby disk is read (and spun up)
    assert hdd["state"] == "active" and hdd["power_on_hours"] == 1380
    assert not [argv for argv in calls(log) if "standby" in argv]
