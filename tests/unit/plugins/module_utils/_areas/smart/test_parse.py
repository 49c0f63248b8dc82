"""The smart area's pure record handling: self-test ages, disk keys, pySMART and --json merged."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.smartctl_record import empty_device


def test_summarize_self_tests_takes_the_newest_of_each_kind_with_ages():
    entries = [{"type": "Short offline", "status": "Completed without error", "lifetime_hours": "990"},
               {"type": "Extended offline", "status": "Completed: read failure", "lifetime_hours": 900},
               {"type": "Short offline", "status": "Completed: read failure", "lifetime_hours": 10}]
    result = parse.summarize_self_tests(entries, 1000)
    assert result["count"] == 3
    assert result["short"] == {"status": "Completed without error", "passed": True, "lifetime_hours": 990, "age_hours": 10}
    assert result["long"]["passed"] is False and result["long"]["age_hours"] == 100


@pytest.mark.parametrize("path, key", [
    ("/dev/nvme0n1p2", "nvme0"), ("/dev/nvme0", "nvme0"), ("/dev/nvme12n1", "nvme12"), ("/dev/sda1", "sda"),
    ("/dev/sdab", "sdab"), ("/dev/vda3", "vda"), ("/dev/mmcblk0p1", "mmcblk0"), ("/dev/bus/0", "0"),
])
def test_disk_key(path, key):
    assert parse.disk_key(path) == key


def test_merge_keeps_pysmart_and_fills_gaps():
    primary = dict(empty_device("/dev/sda"), model="A", data_written_reason="x is unknown", messages=["m1"])
    fallback = dict(empty_device("/dev/sda"), model="B", serial="S", data_written_bytes=5, messages=["m1", "m2"])
    merged = parse.merge(primary, fallback)
    assert merged["model"] == "A" and merged["serial"] == "S"
    assert merged["data_written_bytes"] == 5 and merged["data_written_reason"] is None
    assert merged["messages"] == ["m1", "m2"]


def test_rated_tbw_takes_numbers_above_zero_and_names_the_rest():
    assert parse.rated_tbw({"INTEL SSDPEKNW010T8": "200", "S4EW": 600}) == {"INTEL SSDPEKNW010T8": 200.0, "S4EW": 600.0}
    with pytest.raises(parse.RatedTbwError, match="^rated_tbw: values must be numbers of TB written: "):
        parse.rated_tbw({"x": "lots"})
    with pytest.raises(parse.RatedTbwError, match=r"^rated_tbw: values must be numbers of TB written above 0 \(a: 0.0, b: -3.0\)$"):
        parse.rated_tbw({"b": -3, "a": 0, "c": 1})
