"""The smart area's checks: write rates and endurance projections (numbers worked by hand), thresholds, summary."""

import copy
import json
import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.filter.cadence import smart_previous
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import AREA, checks, parse, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.smartctl_record import empty_device, from_json
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _history, _summary
from testlib.smartctl import FIXTURES

DAY = 86400


def drive_from(fixture, **changes):
    with open(os.path.join(FIXTURES, fixture)) as handle:
        record = from_json(json.load(handle))
    record.update(state="active", smart_supported=True)
    record = parse.finish_record(record, {}, {})
    record.update(changes)
    return record


def fact_of(*records, **extra):
    fact = {"schema_version": 1, "present": True, "as_root": True, "collected_epoch_s": extra.pop("at", 0),
            "devices": [copy.deepcopy(r) for r in records]}
    fact.update(extra)
    return fact


def evaluate(fact, previous=None, thresholds=None):
    """The area's verdicts on ``fact`` with these options, set on it as Area.gather sets them."""
    params = AREA.validate({"previous": previous, "thresholds": thresholds})
    found = checks.evaluate(fact, params)
    fact.update(thresholds=params["thresholds"], checks=found, status=worst_status(found))
    return fact


def checks_of(record, name):
    return [c for c in record["checks"] if c["check"] == name]


def test_two_snapshots_of_the_same_drive_rate_and_projection():
    """Intel P4500: 5014522069 data units = 2,567,435,299,328,000 bytes (2567.44 TB) written now.

    The previous snapshot, 20 days earlier, had 2,000,000 data units (1.024 TB) less:
    rate = 1.024e12 / 20 = 51.2e9 bytes/day. Rated 2630 TBW: remaining = 2630e12 - 2567.435299328e12
    = 62.564700672e12 bytes; / 51.2e9 = 1221.97 -> 1221 days (ok, over 180).
    """
    now = drive_from("json-nvme-intel-p4500-2tb-75pct-used.json", rated_tbw=2630, serial="P4500-1")
    assert now["data_written_bytes"] == 2567435299328000
    before = dict(now, data_written_bytes=now["data_written_bytes"] - 2000000 * 512000, unsafe_shutdowns=104)
    fact = evaluate(fact_of(now, at=1000 + 20 * DAY), fact_of(before, at=1000))
    drive = fact["devices"][0]
    assert drive["write_rate_bytes_per_day"] == 51200000000
    assert drive["projected_days_to_rated_tbw"] == 1221
    projection = checks_of(drive, "tbw_projection")[0]
    assert projection["status"] == "ok" and projection["value"] == 1221 and projection["threshold"] == 180
    shutdowns = checks_of(drive, "unsafe_shutdowns")[0]
    assert shutdowns["status"] == "warn" and shutdowns["value"] == 106 and "2 unsafe shutdowns" in shutdowns["message"]


def test_projection_within_180_days_warns():
    """Rated 2600 TBW: remaining = 2600e12 - 2567.435299328e12 = 32.564700672e12 bytes.

    Previous snapshot 7 days earlier with 1.4 TB less: rate = 1.4e12 / 7 = 200e9 bytes/day;
    32.564700672e12 / 200e9 = 162.8 -> 162 days (warn, at or under 180).
    """
    now = drive_from("json-nvme-intel-p4500-2tb-75pct-used.json", rated_tbw=2600, serial="P4500-2")
    before = dict(now, data_written_bytes=now["data_written_bytes"] - 1400000000000)
    drive = evaluate(fact_of(now, at=7 * DAY), fact_of(before, at=0))["devices"][0]
    assert drive["write_rate_bytes_per_day"] == 200000000000
    assert drive["projected_days_to_rated_tbw"] == 162
    check = checks_of(drive, "tbw_projection")[0]
    assert check["status"] == "warn" and "about 162 days at 0.20 TB/day" in check["message"]


def test_rate_without_rated_tbw_and_past_rated():
    now = drive_from("json-nvme-intel-660p-1tb-qlc.json")
    before = dict(now, data_written_bytes=now["data_written_bytes"] - 10 ** 11)
    drive = evaluate(fact_of(now, at=2 * DAY), fact_of(before, at=0))["devices"][0]
    assert drive["write_rate_bytes_per_day"] == 5 * 10 ** 10
    assert drive["projected_days_to_rated_tbw"] is None and "rated_tbw not given" in drive["rate_reason"]
    past = dict(now, rated_tbw=3)  # 3 TB rated, 3.98 TB written
    drive = evaluate(fact_of(past, at=2 * DAY), fact_of(before, at=0))["devices"][0]
    assert drive["projected_days_to_rated_tbw"] == 0
    assert checks_of(drive, "tbw_projection")[0]["status"] == "warn"


@pytest.mark.parametrize("previous_changes, at, reason", [
    (None, 10 * DAY, "no previous snapshot"),
    ({"data_written_bytes": None}, 10 * DAY, "data written unknown"),
    ({}, 60, "less than an hour apart"),
    ({"data_written_bytes": 10 ** 16}, 10 * DAY, "went down"),
])
def test_no_rate_reasons(previous_changes, at, reason):
    now = drive_from("json-nvme-intel-660p-1tb-qlc.json", rated_tbw=200)
    previous = None if previous_changes is None else fact_of(dict(now, **previous_changes), at=0)
    drive = evaluate(fact_of(now, at=at), previous)["devices"][0]
    assert drive["write_rate_bytes_per_day"] is None and reason in drive["rate_reason"]
    assert not checks_of(drive, "tbw_projection")


def test_previous_is_matched_by_serial_not_position():
    a = drive_from("json-nvme-intel-660p-1tb-qlc.json")
    b = drive_from("json-nvme-micron-7450-3.2tb.json", serial="MICRON-1")
    previous = fact_of(dict(b, media_errors=0), dict(a, media_errors=0), at=0)
    now = fact_of(a, dict(b, media_errors=3), at=DAY)
    fact = evaluate(now, previous)
    micron = fact["devices"][1]
    grew = checks_of(micron, "media_errors")[0]
    assert grew["status"] == "crit" and grew["value"] == 3 and grew["threshold"] == 0
    assert checks_of(fact["devices"][0], "media_errors")[0]["status"] == "ok"


@pytest.mark.parametrize("before, now, status, words", [
    (None, 0, "ok", "0 media errors (no previous snapshot to compare)"),
    (None, 7, "warn", "7 media and data integrity errors (first seen: no previous snapshot to compare)"),
    (7, 7, "warn", "7 media and data integrity errors: back up"),
    (7, 9, "crit", "media errors grew from 7 to 9: back up, run a long self-test, plan the replacement"),
])
def test_nvme_media_errors_warn_on_sight_and_crit_when_they_grow(before, now, status, words):
    """The Intel 660p capture reads 0 media errors; the other counts are set here."""
    drive = drive_from("json-nvme-intel-660p-1tb-qlc.json")
    assert drive["media_errors"] == 0
    previous = None if before is None else fact_of(dict(drive, media_errors=before), at=0)
    check = checks_of(evaluate(fact_of(dict(drive, media_errors=now), at=DAY), previous)["devices"][0], "media_errors")[0]
    assert check["status"] == status and check["value"] == now and words in check["message"]


@pytest.mark.parametrize("warning, status, words", [
    (0, "ok", "no NVMe critical warning"),
    (0x04, "crit", "NVMe critical warning 0x04 (NVM subsystem reliability degraded): back up its data now"),
    (0x09, "crit", "0x09 (available spare below its threshold, media placed in read-only mode)"),
])
def test_nvme_critical_warning_is_crit(warning, status, words):
    """The Intel 660p capture's critical_warning is 0 (read from its JSON); non-zero values are set here."""
    drive = drive_from("json-nvme-intel-660p-1tb-qlc.json")
    assert drive["critical_warning"] == 0
    checked = evaluate(fact_of(dict(drive, critical_warning=warning)))["devices"][0]
    check = checks_of(checked, "critical_warning")[0]
    assert check["status"] == status and words in check["message"]
    assert checked["status"] == ("crit" if warning else "warn")  # warn: no self-test in the capture


def test_disk_failing_exit_bit_is_crit_without_a_verdict():
    drive = drive_from("json-nvme-intel-660p-1tb-qlc.json", health_passed=None, exit_status=8,
                       exit_status_words=["disk failing"])
    check = checks_of(evaluate(fact_of(drive))["devices"][0], "smart_health")[0]
    assert check["status"] == "crit" and "smartctl's exit status says the disk is failing (disk failing)" in check["message"]


def test_reallocated_sectors_that_grew_warn():
    """The Samsung PM893 capture reads 0 reallocated sectors; the earlier snapshot is the capture itself."""
    before = drive_from("json-sata-ssd-samsung-pm893-240gb.json")
    assert before["reallocated_sectors"] == 0
    first = checks_of(evaluate(fact_of(before, at=DAY))["devices"][0], "reallocated_sectors")[0]
    assert first["status"] == "ok" and first["message"].endswith("0 reallocated sectors (no previous snapshot to compare)")
    drive = evaluate(fact_of(dict(before, reallocated_sectors=8), at=DAY), fact_of(before, at=0))["devices"][0]
    grew = checks_of(drive, "reallocated_sectors")[0]
    assert grew["status"] == "warn" and grew["value"] == 8 and grew["threshold"] == 0
    assert grew["subject"] == {"device": before["name"]} and "grew from 0 to 8" in grew["message"]


@pytest.mark.parametrize("changes, check, status", [
    ({"wear_pct_used": 69}, "wear", "ok"),
    ({"wear_pct_used": 70}, "wear", "warn"),
    ({"wear_pct_used": 85}, "wear", "crit"),
    ({"available_spare_pct": 9}, "available_spare", "crit"),
    ({"available_spare_pct": 10}, "available_spare", "ok"),
    ({"temperature_c": 71}, "temperature", "warn"),
    ({"health_passed": False}, "smart_health", "crit"),
    ({"pending_sectors": 8}, "pending_sectors", "warn"),
    ({"backs_paths": ["/var/lib/docker"]}, "qlc_critical_path", "warn"),
    ({"self_tests": {"short": {"status": "Completed: read failure", "passed": False, "lifetime_hours": 2400, "age_hours": 1},
                     "long": None, "count": 1}}, "self_test", "warn"),
    ({"self_tests": {"short": {"status": "Completed without error", "passed": True, "lifetime_hours": 2000, "age_hours": 401},
                     "long": None, "count": 1}}, "self_test", "ok"),
    ({"self_tests": {"short": {"status": "Completed without error", "passed": True, "lifetime_hours": 1000, "age_hours": 1401},
                     "long": None, "count": 1}}, "self_test", "warn"),
])
def test_thresholds(changes, check, status):
    record = drive_from("json-nvme-intel-660p-1tb-qlc.json", **changes)
    drive = evaluate(fact_of(record))["devices"][0]
    assert checks_of(drive, check)[0]["status"] == status
    assert drive["status"] == max((c["status"] for c in drive["checks"]), key=["ok", "warn", "crit"].index)


def test_wear_crit_message_says_replace():
    drive = evaluate(fact_of(drive_from("json-nvme-intel-660p-1tb-qlc.json", wear_pct_used=90)))["devices"][0]
    wear = checks_of(drive, "wear")[0]
    assert wear["threshold"] == 85 and "replace the drive" in wear["message"]


def test_custom_thresholds():
    record = drive_from("json-nvme-intel-p3700-800gb-51pct-spare93.json")
    fact = evaluate(fact_of(record), thresholds={"wear_warn_pct": 40, "wear_crit_pct": 50})
    assert checks_of(fact["devices"][0], "wear")[0]["status"] == "crit"
    assert fact["thresholds"]["wear_crit_pct"] == 50 and fact["thresholds"]["temperature_warn_c"] == 70


def test_summary_section_and_summary_lines():
    worn = drive_from("json-nvme-intel-p4500-2tb-75pct-used.json", name="/dev/nvme6", rated_tbw=2630)
    worn["tbw_used_pct"] = 97.62
    standby = dict(empty_device("/dev/sdb"), state="standby")
    fact = evaluate(fact_of(worn, standby))
    lines = _summary.summary_lines({"gpufleet_smart": fact})
    assert lines[0] == "status: WARN"
    assert lines[1] == ("smart /dev/nvme6: nvme INTEL SSDPE2KX020T7, wear 75 %, tlc, written 2567.44 TB, "
                        "97.62 % of 2630 TBW, 19 C, PASSED [WARN]")
    assert lines[2] == "smart /dev/sdb: standby (not woken)"
    assert any(line.startswith("WARN wear: wear of /dev/nvme6") for line in lines)
    assert present.summary_lines({"present": False, "reason": "smartctl not found"}) == ["smart: smartctl not found"]
    assert present.summary_lines({"present": True, "devices": []}) == ["smart: no drives found by smartctl"]


# --- previous readings from the controller's history (a quarter ago), never the fact cache -----------
# A real SQLite history records a quarterly run; the ``history`` query's newest readings become
# ``previous`` (the smart_previous filter); the checks then see the rate, projection and growth.

T0 = 1764000000.0
FIXTURE = "json-nvme-intel-p4500-2tb-75pct-used.json"


def _record(conn, run_ts, fact):
    _history.record_run(conn, "quarterly", run_ts, {"box1": {"gpufleet_smart": fact}})


def _previous(conn, now):
    answer = _history.query(conn, ["box1"], now, last_metric_like=["smart.%"])
    return smart_previous(answer["last"].get("box1"))


def test_a_quarter_later_the_rate_projection_and_growth_come_from_the_history(tmp_path):
    """2,567,435,299,328,000 bytes written now; 91 days ago 9.1e12 bytes less: 1e11 bytes/day.

    Rated 2630 TBW: (2630e12 - 2567.435299328e12) / 1e11 = 625.6 -> 625 days. Media errors 0 -> 2 (crit),
    unsafe shutdowns 100 -> 103 (warn, 3 since).
    """
    conn = _history.connect(str(tmp_path / "history.db"))
    now_drive = drive_from(FIXTURE, rated_tbw=2630, serial="P4500-1", media_errors=2, unsafe_shutdowns=103)
    name = now_drive["name"]
    before = dict(now_drive, data_written_bytes=now_drive["data_written_bytes"] - 91 * 10 ** 11, media_errors=0,
                  unsafe_shutdowns=100)
    _record(conn, T0 + 60, fact_of(before, at=T0))  # the controller records a minute after the host read the drive
    previous = _previous(conn, T0 + 91 * DAY)
    assert previous["devices"][0]["name"] == name and previous["devices"][0]["collected_epoch_s"] == T0
    assert previous["devices"][0]["media_errors"] == 0 and previous["devices"][0]["unsafe_shutdowns"] == 100
    fact = fact_of(now_drive, at=T0 + 91 * DAY)
    found = evaluate(fact, previous)["checks"]
    drive = fact["devices"][0]
    assert drive["write_rate_bytes_per_day"] == 100000000000
    assert drive["projected_days_to_rated_tbw"] == 625
    by_name = dict((c["check"], c) for c in found)
    assert by_name["media_errors"]["status"] == "crit" and "grew from 0 to 2" in by_name["media_errors"]["message"]
    assert by_name["unsafe_shutdowns"]["status"] == "warn" and "3 unsafe shutdowns" in by_name["unsafe_shutdowns"]["message"]
    # issue 20: growth from the history is read as a PSU / power-loss signal, with the fix
    assert (by_name["unsafe_shutdowns"]["value"], by_name["unsafe_shutdowns"]["threshold"]) == (103, 100)
    assert "since the previous snapshot (100, now 103): growth without planned power-offs points at the PSU or a " \
           "power loss: if nobody cut the power on purpose, suspect the PSU or the mains" in by_name["unsafe_shutdowns"]["message"]
    conn.close()


def test_a_drive_missing_from_the_newest_run_keeps_the_time_of_the_run_that_saw_it(tmp_path):
    conn = _history.connect(str(tmp_path / "history.db"))
    a = drive_from(FIXTURE, name="/dev/nvme0", serial="A")
    b = drive_from(FIXTURE, name="/dev/nvme1", serial="B")
    _record(conn, T0 + 60, fact_of(a, b, at=T0))
    _record(conn, T0 + 30 * DAY + 60, fact_of(a, at=T0 + 30 * DAY))
    previous = _previous(conn, T0 + 91 * DAY)
    times = dict((d["name"], d["collected_epoch_s"]) for d in previous["devices"])
    assert times == {"/dev/nvme0": T0 + 30 * DAY, "/dev/nvme1": T0 + 60}
    assert previous["collected_epoch_s"] == T0 + 30 * DAY
    later_b = dict(b, data_written_bytes=b["data_written_bytes"] + 91 * 10 ** 11)
    fact = fact_of(later_b, at=T0 + 91 * DAY + 60)
    evaluate(fact, previous)
    # 9.1e12 bytes over exactly 91 days since the run that last saw /dev/nvme1.
    assert fact["devices"][0]["write_rate_bytes_per_day"] == 100000000000
    conn.close()


def test_an_empty_history_gives_no_previous_and_says_so(tmp_path):
    conn = _history.connect(str(tmp_path / "history.db"))
    assert _previous(conn, T0) == {}
    assert smart_previous(None) == {}
    fact = fact_of(drive_from(FIXTURE), at=T0)
    evaluate(fact, {})
    assert fact["devices"][0]["rate_reason"] == "no previous snapshot of this drive"
    conn.close()


def test_the_readings_the_comparison_needs_are_recorded():
    recorded = set(r.path for r in AREA.readings)
    for key in parse.PREVIOUS_READINGS:
        assert "devices[].%s" % key in recorded
    assert "collected_epoch_s" in recorded


@pytest.mark.parametrize("age_hours, status, value, threshold", [
    (840, "ok", 840, 840),     # 35 days (the table's default) x 24 hours: still recent, threshold in hours
    (841, "warn", None, 35),   # one power-on hour older: no recent self-test, threshold in days
])
def test_self_test_age_limit_is_35_days_of_power_on_hours(age_hours, status, value, threshold):
    test = {"status": "Completed without error", "passed": True, "lifetime_hours": 5000, "age_hours": age_hours}
    record = drive_from("json-nvme-intel-660p-1tb-qlc.json", self_tests={"short": test, "long": None, "count": 1})
    [check] = checks_of(evaluate(fact_of(record))["devices"][0], "self_test")
    assert (check["status"], check["value"], check["threshold"]) == (status, value, threshold)


@pytest.mark.parametrize("warning, status, words", [
    (0, "ok", None),
    (0x20, "crit", "persistent memory region read-only"),        # NVMe base spec, SMART log byte 0 bit 5
    (0x24, "crit", "NVM subsystem reliability degraded, persistent memory region read-only"),  # bits 2 and 5
])
def test_nvme_critical_warning_bits_are_named_from_the_spec_and_zero_is_wanted(warning, status, words):
    record = drive_from("json-nvme-intel-660p-1tb-qlc.json", critical_warning=warning)
    [check] = checks_of(evaluate(fact_of(record))["devices"][0], "critical_warning")
    assert (check["status"], check["value"], check["threshold"]) == (status, warning, 0)
    if words:
        assert ": NVMe critical warning 0x%02x (%s): " % (warning, words) in check["message"]


@pytest.mark.parametrize("changes, status, value", [
    ({"health_passed": True, "exit_status": 0}, "ok", True),
    ({"health_passed": False, "exit_status": 0}, "crit", False),
    # smartctl's exit status bit 3 (0x08): "SMART status check returned DISK FAILING", the self-assessment read as passed
    ({"health_passed": True, "exit_status": 0x08, "exit_status_words": ["disk failing"]}, "crit", True),
])
def test_smart_health_value_is_the_self_assessment_and_the_wanted_value_is_passed(changes, status, value):
    record = drive_from("json-nvme-intel-660p-1tb-qlc.json", **changes)
    [check] = checks_of(evaluate(fact_of(record))["devices"][0], "smart_health")
    assert (check["status"], check["value"], check["threshold"]) == (status, value, True)


def test_no_drive_found_is_unknown_not_ok():
    """A container or VM sees no drive: the area read nothing, so it says so (issue 18: never ok for what was not read)."""
    params = AREA.validate({})
    [check] = checks.evaluate({"present": True, "as_root": True, "devices": []}, params)
    assert (check["check"], check["status"], check["subject"]) == ("smart_read", "unknown", {})
    assert "smartctl found no drive to read" in check["message"] and "ssd_wear_devices" in check["message"]


@pytest.mark.parametrize("before, status", [(98, "warn"), (99, "warn"), (100, None), (None, None)])
def test_unsafe_shutdowns_growth_is_a_psu_signal_with_the_fix(before, status):
    """The P4500 capture counts 100 unsafe shutdowns (set here); growth since the previous snapshot warns, naming the
    PSU and power loss and what to check; no growth, or no previous count, gives no verdict."""
    now = drive_from(FIXTURE, serial="P4500-US", unsafe_shutdowns=100)
    previous = fact_of(dict(now, unsafe_shutdowns=before), at=0)
    drive = evaluate(fact_of(now, at=30 * DAY), previous)["devices"][0]
    found = checks_of(drive, "unsafe_shutdowns")
    if status is None:
        assert found == []
        return
    [result] = found
    grew = 100 - before
    assert (result["status"], result["value"], result["threshold"]) == (status, 100, before)
    assert result["message"] == (
        "%s (%s): %d unsafe shutdowns since the previous snapshot (%d, now 100): growth without planned power-offs "
        "points at the PSU or a power loss: %s" % (drive["name"], drive["model"], grew, before, checks.FIX_UNSAFE_SHUTDOWNS))
    for words in ("PSU", "psu_load", "power_brake", "UPS", "power cabling"):
        assert words in result["message"], words
