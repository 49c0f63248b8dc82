"""trends/request_volume: the front door's requests per hour of the newest weekly run against the median of the
earlier runs of the window, worked out by hand from the points; recorded by the access area, recorded and read
back through a real history database."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import extract
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _history as h
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _trends as t
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._report import like

DAY = 86400.0
T0 = 1764000000.0
METRIC = "access.requests_per_hour"
LIMITS = t.thresholds()


def _row(values, metric=METRIC, host="door"):
    points = [[T0 + i * 7 * DAY, v] for i, v in enumerate(values)]
    return {"host": host, "metric": metric, "subject": "", "points": points, "last": values[-1]}


def test_the_defaults():
    assert (LIMITS["volume_warn_ratio"], LIMITS["volume_crit_ratio"], LIMITS["volume_drop_warn_ratio"]) == (3.0, 10.0, 0.25)


@pytest.mark.parametrize("values, status, ratio, threshold", [
    ([100, 110, 90, 120], "ok", 1.2, 3.0),         # median of 100, 110, 90 is 100
    ([100, 110, 90, 300], "warn", 3.0, 3.0),       # three times the usual week
    ([100, 110, 90, 999], "warn", 9.99, 3.0),
    ([100, 110, 90, 1000], "crit", 10.0, 10.0),
    ([100, 110, 90, 26], "ok", 0.26, 3.0),
    ([100, 110, 90, 25], "warn", 0.25, 0.25),      # a quarter of the usual week: can clients still reach the door?
    ([40, 60, 0], "warn", 0.0, 0.25),              # median of 40 and 60 is 50
])
def test_request_volume(values, status, ratio, threshold):
    check = t.request_volume(_row(values), LIMITS)
    assert (check["check"], check["status"], check["value"], check["threshold"]) == ("request_volume", status, ratio, threshold)
    assert check["subject"] == {}
    if status != "ok" and ratio >= 1:
        assert "leaked key" in check["message"]
    if status != "ok" and ratio < 1:
        assert "check the door from a client" in check["message"]


def test_a_door_that_was_idle_and_is_used_now_warns():
    check = t.request_volume(_row([0, 0, 12.5]), LIMITS)
    assert check["status"] == "warn" and "none in the earlier runs" in check["message"]
    assert t.request_volume(_row([0, 0, 0]), LIMITS)["status"] == "ok"


def test_too_few_weeks_is_waiting():
    check = t.request_volume(_row([100, 300]), LIMITS)
    assert check["status"] == "unknown" and check["waiting"] and "after 1 more run" in check["message"]


def test_through_facts_for_the_enabled_check_only():
    rows = [_row([100, 110, 90, 400]), _row([5, 5, 5, 5], host="quiet")]
    found = t.facts(rows, ["door", "quiet", "nodoor"], ["request_volume"], {}, T0 + 21 * DAY, 90)
    assert sorted(found) == ["door", "quiet"]   # a host the history never saw gives no check
    assert [(c["check"], c["status"]) for c in found["door"]["checks"]] == [("request_volume", "warn")]
    assert found["quiet"]["status"] == "ok"
    assert t.facts(rows, ["door"], ["ttft"], {}, T0 + 21 * DAY, 90) == {}


def test_the_pattern_reads_what_the_access_area_records(tmp_path):
    """The access area declares the reading; the history records it and the trend reads it back."""
    area = registry.area("access")
    metrics = [r.metric(area.name) for r in area.readings]
    assert METRIC in metrics and [m for m in metrics if like(t.METRICS["request_volume"][0], m)] == [METRIC]
    conn = h.connect(str(tmp_path / "history.db"))
    for week, rate in enumerate([100.0, 110.0, 90.0, 420.0]):
        fact = {"requests_per_hour": rate, "requests": int(rate * 168), "checks": [], "status": "ok"}
        assert (METRIC, "", rate) in extract(area.name, fact, area.readings)
        h.record_run(conn, "weekly", T0 + week * 7 * DAY, {"door": {"gpufleet_access": fact}})
    rows = h.query(conn, ["door"], T0 + 21 * DAY, trend_metrics=t.patterns(["request_volume"]), trend_days=90)
    checks = t.host_checks(rows["trends"], ["request_volume"], LIMITS, T0 + 21 * DAY)
    assert [(c["status"], c["value"]) for c in checks] == [("warn", 4.2)]
