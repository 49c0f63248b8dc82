"""_tools/smartctl.py and smartctl_record.py: exit-status words, the scan, and drive records from real --json captures."""

import json
import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import smartctl, smartctl_record
from testlib.smartctl import FIXTURES


def load_json(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return json.load(handle)


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
    assert smartctl.decode_exit_status(rc) == words


def test_parse_scan_skips_failed_opens_and_comments():
    lines = ["/dev/sda -d sat # /dev/sda [SAT], ATA device",
             "/dev/nvme0 -d nvme # /dev/nvme0, NVMe device",
             "# /dev/sdb -d scsi # failed: Permission denied",
             "/dev/sdc -d scsi # /dev/sdc, SCSI device open failed: No such device",
             "/dev/bus/0 -d megaraid,16 # /dev/bus/0 [megaraid_disk_16], SCSI device", ""]
    assert smartctl.parse_scan(lines) == [("/dev/sda", "sat"), ("/dev/nvme0", "nvme"),
                                          ("/dev/sdc", "scsi"), ("/dev/bus/0", "megaraid,16")]


@pytest.mark.parametrize("kind, protocol, transport, expected", [
    ("nvme", "NVMe", None, "nvme"), ("sat", "ATA", None, "sata"), ("sat+megaraid,0", "ATA", None, "sata"),
    ("scsi", "SCSI", "SAS (SPL-3)", "sas"), ("scsi", "SCSI", None, "scsi"), ("sntasmedia", None, None, "usb"),
    ("usbjmicron", None, None, "usb"), (None, None, None, None),
])
def test_interface_name(kind, protocol, transport, expected):
    assert smartctl_record.interface_name(kind, protocol, transport) == expected


@pytest.mark.parametrize("status, passed", [
    ("Completed without error", True), ("Completed: read failure", False), ("Completed: electrical failure", False),
    ("Aborted by host", None), ("Self-test routine in progress", None), ("Interrupted (host reset)", None),
])
def test_self_test_passed(status, passed):
    assert smartctl_record.self_test_passed(status) is passed


@pytest.mark.parametrize("attrs, expected", [
    ({"Wear_Leveling_Count": {"value": 81, "raw": "278"}}, 19),
    ({"Media_Wearout_Indicator": {"value": 86, "raw": "0"}}, 14),
    ({"SSD_Life_Left": {"value": 98, "raw": "98"}}, 2),
    ({"Percent_Lifetime_Remain": {"value": 12, "raw": "88"}}, 88),
    ({"Power_On_Hours": {"value": 97, "raw": "10"}}, None),
    ({"Wear_Leveling_Count": {"value": 253, "raw": "0"}}, None),  # not a percentage: never guessed
])
def test_ata_wear(attrs, expected):
    assert smartctl_record.ata_wear(attrs)[0] == expected


def test_ata_data_written_units_and_unknown_block_size():
    assert smartctl_record.ata_data_written({"Lifetime_Writes_GiB": {"raw": "398"}}, None) == (398 * 1024 ** 3, None)
    assert smartctl_record.ata_data_written({"Host_Writes_32MiB": {"raw": "10"}}, None) == (10 * 32 * 1024 ** 2, None)
    assert smartctl_record.ata_data_written({"Total_LBAs_Written": {"raw": "1000"}}, 4096) == (4096000, None)
    written, reason = smartctl_record.ata_data_written({"Total_LBAs_Written": {"raw": "1000"}}, None)
    assert written is None and "logical block size is not" in reason
    written, reason = smartctl_record.ata_data_written({}, 512)
    assert written is None and "no host-writes attribute" in reason


def test_nvme_data_written_never_a_false_zero():
    assert smartctl_record.nvme_data_written(1506179) == (771163648000, None)
    assert smartctl_record.nvme_data_written(0, 0) == (0, None)  # a new drive
    written, reason = smartctl_record.nvme_data_written(0, 17318425)
    assert written is None and "17318425 host write commands" in reason
    assert smartctl_record.nvme_data_written(None)[0] is None


def test_from_json_nvme_intel_660p():
    record = smartctl_record.from_json(load_json("json-nvme-intel-660p-1tb-qlc.json"))
    assert record["model"] == "INTEL SSDPEKNW010T8" and record["serial"] == "BTNH93710FS91P0B"
    assert record["interface"] == "nvme" and record["rotational"] is False
    assert record["data_written_bytes"] == 7773431 * 512000 == 3979996672000
    assert record["unsafe_shutdowns"] == 43 and record["power_on_hours"] == 2401
    assert record["available_spare_threshold_pct"] == 10 and record["wear_pct_used"] == 0


def test_from_json_sata_ssds():
    samsung = smartctl_record.from_json(load_json("json-sata-ssd-samsung-860evo-500gb-x.json"))
    assert samsung["wear_pct_used"] == 19 and samsung["wear_source"].startswith("Wear_Leveling_Count")
    assert samsung["data_written_bytes"] == 64777770148 * 512
    assert samsung["power_on_hours"] == 14551 and samsung["crc_errors"] == 0
    kingston = smartctl_record.from_json(load_json("json-sata-ssd-kingston-a400-120gb-exit4.json"))
    assert kingston["wear_pct_used"] == 2 and kingston["data_written_bytes"] == 398 * 1024 ** 3
    assert kingston["unsafe_shutdowns"] == 3 and kingston["exit_status"] == 4
    pm893 = smartctl_record.from_json(load_json("json-sata-ssd-samsung-pm893-240gb.json"))
    assert pm893["wear_pct_used"] == 2 and pm893["data_written_bytes"] == 652566252 * 512


def test_from_json_open_failed_has_no_device():
    record = smartctl_record.from_json(load_json("json-open-failed-windows-exit2.json"))
    assert record["exit_status"] == 2 and record["model"] is None
    assert "Open failed" in record["messages"][0]
    assert smartctl_record.from_json(["not", "a", "dict"]) is None


def test_parse_json_text_errors():
    assert smartctl.parse_json_text("=======> UNRECOGNIZED OPTION: json")[0] is None
    doc, error = smartctl.parse_json_text('{"smartctl": {')
    assert doc is None and error.startswith("garbled JSON")


@pytest.mark.parametrize("text, expected", [
    (u"Namespace 1 Size/Capacity:          2\u2019000\u2019398\u2019934\u2019016 [2.00 TB]",
     "Namespace 1 Size/Capacity:          2,000,398,934,016 [2.00 TB]"),
    (u"Data Units Written:                 49\u00a0987\u00a0853 [25.5 TB]", "Data Units Written:                 49,987,853 [25.5 TB]"),
    (u"Power On Hours:                     6\u202f433", "Power On Hours:                     6,433"),
    (u"Host Read Commands:                 483\u2009239\u2009411", "Host Read Commands:                 483,239,411"),
    ("Unsafe Shutdowns:                   1'035", "Unsafe Shutdowns:                   1,035"),
    ("PCI Vendor/Subsystem ID:            0x15b7", "PCI Vendor/Subsystem ID:            0x15b7"),
    (u"Model Number:  it's 12\u20191234", u"Model Number:  it's 12\u20191234"),  # not a group of three
])
def test_normalise_digit_groups(text, expected):
    assert smartctl.normalise_digit_groups(text) == expected


@pytest.mark.parametrize("version, words", [
    ("7.3", "smartctl 7.3 printed something that is not JSON: 'smartctl 7.3 banner'"),
    ("6.4", "not JSON (smartctl 6.4 is older than 7.0, which added --json)"),
    (None, "not JSON (smartctl before 7.0 has no --json, or its output is garbled)"),
])
def test_parse_json_text_names_the_version_it_knows(version, words):
    assert smartctl.parse_json_text("smartctl 7.3 banner\nmore", version) == (None, words)


def test_open_failed_is_not_unsupported():
    denied = ["Smartctl open device: /dev/nvme0 failed: Permission denied"]
    assert smartctl.open_failed_reason(denied) == denied[0] and smartctl.unsupported_reason(denied) is None
    virtual = ["/dev/vda: Unable to detect device type"]
    assert smartctl.unsupported_reason(virtual) == virtual[0] and smartctl.open_failed_reason(virtual) is None
