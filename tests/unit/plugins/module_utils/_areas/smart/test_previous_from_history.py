"""SMART rates and growth compare with the controller's history (a quarter ago), never the fact cache.

A real SQLite history records a quarterly run; the ``history`` query's newest readings become
smart_facts' ``previous`` (the smart_previous filter); the area's checks then see the write rate,
the days until the rated TBW and the growth of media errors and unsafe shutdowns. Numbers by hand.
"""

import copy
import json
import os

from ansible_collections.gpufleet.maintenance.plugins.filter.cadence import smart_previous
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import AREA, checks, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.smartctl_record import from_json
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _history
from testlib.smartctl import FIXTURES

DAY = 86400.0
T0 = 1764000000.0
FIXTURE = "json-nvme-intel-p4500-2tb-75pct-used.json"


def _drive(**changes):
    with open(os.path.join(FIXTURES, FIXTURE)) as handle:
        record = from_json(json.load(handle))
    record.update(state="active", smart_supported=True)
    record = parse.finish_record(record, {}, {})
    record.update(changes)
    return record


def _fact(at, *records):
    return {"schema_version": 1, "present": True, "as_root": True, "collected_epoch_s": at,
            "devices": [copy.deepcopy(r) for r in records]}


def _record(conn, run_ts, fact):
    _history.record_run(conn, "quarterly", run_ts, {"box1": {"gpufleet_smart": fact}})


def _previous(conn, now):
    answer = _history.query(conn, ["box1"], now, last_metric_like=["smart.%"])
    return smart_previous(answer["last"].get("box1"))


def _evaluate(fact, previous):
    params = AREA.validate({"previous": previous, "rated_tbw": {}})
    return checks.evaluate(fact, params)


def test_a_quarter_later_the_rate_projection_and_growth_come_from_the_history(tmp_path):
    """2,567,435,299,328,000 bytes written now; 91 days ago 9.1e12 bytes less: 1e11 bytes/day.

    Rated 2630 TBW: (2630e12 - 2567.435299328e12) / 1e11 = 625.6 -> 625 days. Media errors 0 -> 2 (crit),
    unsafe shutdowns 100 -> 103 (warn, 3 since).
    """
    conn = _history.connect(str(tmp_path / "history.db"))
    now_drive = _drive(rated_tbw=2630, serial="P4500-1", media_errors=2, unsafe_shutdowns=103)
    name = now_drive["name"]
    before = dict(now_drive, data_written_bytes=now_drive["data_written_bytes"] - 91 * 10 ** 11, media_errors=0,
                  unsafe_shutdowns=100)
    _record(conn, T0 + 60, _fact(T0, before))  # the controller records a minute after the host read the drive
    previous = _previous(conn, T0 + 91 * DAY)
    assert previous["devices"][0]["name"] == name and previous["devices"][0]["collected_epoch_s"] == T0
    assert previous["devices"][0]["media_errors"] == 0 and previous["devices"][0]["unsafe_shutdowns"] == 100
    fact = _fact(T0 + 91 * DAY, now_drive)
    found = _evaluate(fact, previous)
    drive = fact["devices"][0]
    assert drive["write_rate_bytes_per_day"] == 100000000000
    assert drive["projected_days_to_rated_tbw"] == 625
    by_name = dict((c["check"], c) for c in found)
    assert by_name["media_errors"]["status"] == "crit" and "grew from 0 to 2" in by_name["media_errors"]["message"]
    assert by_name["unsafe_shutdowns"]["status"] == "warn" and "3 unsafe shutdowns" in by_name["unsafe_shutdowns"]["message"]
    conn.close()


def test_a_drive_missing_from_the_newest_run_keeps_the_time_of_the_run_that_saw_it(tmp_path):
    conn = _history.connect(str(tmp_path / "history.db"))
    a = _drive(name="/dev/nvme0", serial="A")
    b = _drive(name="/dev/nvme1", serial="B")
    _record(conn, T0 + 60, _fact(T0, a, b))
    _record(conn, T0 + 30 * DAY + 60, _fact(T0 + 30 * DAY, a))
    previous = _previous(conn, T0 + 91 * DAY)
    times = dict((d["name"], d["collected_epoch_s"]) for d in previous["devices"])
    assert times == {"/dev/nvme0": T0 + 30 * DAY, "/dev/nvme1": T0 + 60}
    assert previous["collected_epoch_s"] == T0 + 30 * DAY
    later_b = dict(b, data_written_bytes=b["data_written_bytes"] + 91 * 10 ** 11)
    fact = _fact(T0 + 91 * DAY + 60, later_b)
    _evaluate(fact, previous)
    # 9.1e12 bytes over exactly 91 days since the run that last saw /dev/nvme1.
    assert fact["devices"][0]["write_rate_bytes_per_day"] == 100000000000
    conn.close()


def test_an_empty_history_gives_no_previous_and_says_so(tmp_path):
    conn = _history.connect(str(tmp_path / "history.db"))
    assert _previous(conn, T0) == {}
    assert smart_previous(None) == {}
    fact = _fact(T0, _drive())
    _evaluate(fact, {})
    assert fact["devices"][0]["rate_reason"] == "no previous snapshot of this drive"
    conn.close()


def test_the_readings_the_comparison_needs_are_recorded():
    recorded = set(r.path for r in AREA.readings)
    for key in parse.PREVIOUS_READINGS:
        assert "devices[].%s" % key in recorded
    assert "collected_epoch_s" in recorded
