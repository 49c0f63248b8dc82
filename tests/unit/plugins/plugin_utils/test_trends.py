"""Trend checks from the history: slopes, days left and drift worked out by hand from the points."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _history as h
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _report as report
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _trends as t

DAY = 86400.0
T0 = 1764000000.0  # 2025-11-24T16:00:00Z


def _row(values, metric="host.disks.used_pct", subject="path=/", step_days=30, host="box1"):
    points = [[T0 + i * step_days * DAY, v] for i, v in enumerate(values)]
    return {"host": host, "metric": metric, "subject": subject, "points": points, "last": values[-1] if values else None}


def _now(row):
    return row["points"][-1][0]


LIMITS = t.thresholds()


# --- memory junction ------------------------------------------------------------------------------

def test_junction_sustained_rise_warns_with_the_day_it_reaches_92():
    row = _row([78, 81, 84], "gpu.nvidia.gpus.memory_temperature_c", "gpu=0")
    check = t.memory_junction(row, LIMITS, _now(row))
    # slope 3 °C per 30 days (exactly linear); 84 → 92 is 8 °C at 0.1 °C/day = 80 days.
    assert check["status"] == "warn"
    assert check["threshold"] == 3.0 and check["value"] == 84
    assert check["slope_per_30d"] == 3.0
    assert check["subject"] == {"gpu": "0"}
    assert "about 80 days" in check["message"] and "repaste" in check["message"]


def test_junction_slow_rise_under_the_limit_is_ok():
    row = _row([78, 79, 80], "gpu.nvidia.gpus.memory_temperature_c", "gpu=0")
    check = t.memory_junction(row, LIMITS, _now(row))
    assert check["status"] == "ok" and check["slope_per_30d"] == 1.0


def test_junction_at_92_warns_even_when_flat_and_crit_when_configured():
    row = _row([92, 92, 92], "gpu.nvidia.gpus.memory_temperature_c", "gpu=1")
    check = t.memory_junction(row, LIMITS, _now(row))
    assert (check["status"], check["threshold"]) == ("warn", 92.0)
    assert "ECC" in check["message"]
    hot = t.memory_junction(_row([95, 96, 97], "gpu.nvidia.gpus.memory_temperature_c", "gpu=1"),
                            t.thresholds({"junction_crit_c": 96}), _now(row))
    assert (hot["status"], hot["threshold"]) == ("crit", 96.0)


def test_too_few_runs_is_unknown_and_says_how_many_more():
    row = _row([78, 80], "gpu.nvidia.gpus.memory_temperature_c", "gpu=0")
    check = t.memory_junction(row, LIMITS, _now(row))
    assert check["status"] == "unknown"
    assert (check["value"], check["threshold"]) == (2, 3)
    assert "after 1 more run" in check["message"]
    assert "after 4 more run" in t.memory_junction(row, t.thresholds({"min_points": 6}), _now(row))["message"]


# --- days to rated TBW ----------------------------------------------------------------------------

def _tbw_rows(rated):
    written = _row([100e12, 130e12, 160e12], "smart.devices.data_written_bytes", "device=/dev/nvme0n1")
    return written, _row([rated] * 3, "smart.devices.rated_tbw", "device=/dev/nvme0n1")


@pytest.mark.parametrize("rated,status,days", [
    (600, "ok", 440),    # 440 TB left at 1 TB/day
    (300, "warn", 140),  # 140 TB left: under 180 days
    (190, "warn", 30),   # exactly 30 days is not under 30
    (185, "crit", 25),
])
def test_tbw_days_from_the_write_rate_over_the_window(rated, status, days):
    written, rated_row = _tbw_rows(rated)
    check = t.tbw(written, rated_row, LIMITS, _now(written))
    assert (check["status"], check["value"]) == (status, days)
    assert check["write_rate_bytes_per_day"] == 1000000000000
    assert check["subject"] == {"device": "/dev/nvme0n1"}
    assert ("plan the replacement" in check["message"]) == (status != "ok")


def test_tbw_without_rated_tbw_gives_no_check_and_too_few_runs_unknown():
    written, _rated = _tbw_rows(300)
    assert t.tbw(written, None, LIMITS, _now(written)) is None
    short = _row([100e12], "smart.devices.data_written_bytes", "device=/dev/sda")
    assert t.tbw(short, _rated, LIMITS, _now(short))["status"] == "unknown"


def test_tbw_runs_within_two_days_have_no_slope_and_are_unknown():
    written = _row([1e12, 2e12, 3e12], "smart.devices.data_written_bytes", "device=/dev/sda", step_days=0.5)
    check = t.tbw(written, _row([300] * 3, "smart.devices.rated_tbw", "device=/dev/sda"), LIMITS, _now(written))
    assert (check["status"], check["value"]) == ("unknown", 3) and "span under two days" in check["message"]


# --- disk fill-up date ----------------------------------------------------------------------------

def test_disk_fill_days_left_at_the_rate_of_the_window():
    row = _row([40, 55, 70])  # +15 % per 30 days, 30 % left: 60 days
    check = t.disk_fill(row, LIMITS, _now(row))
    assert (check["status"], check["value"], check["threshold"]) == ("ok", 60, 30)
    edge = _row([40, 60, 80])  # +20 % per 30 days, 20 % left: 30 days is at the limit, not under it
    assert (t.disk_fill(edge, LIMITS, _now(edge))["status"], t.disk_fill(edge, LIMITS, _now(edge))["value"]) == ("ok", 30)
    faster = _row([41, 62, 83])  # +21 % per 30 days, 17 % left: 24.29 days
    check = t.disk_fill(faster, LIMITS, _now(faster))
    assert (check["status"], check["value"], check["threshold"]) == ("warn", 24, 30)
    assert "2026-02-16" in check["message"]  # T0 + 60 days = 2026-01-23, + 24.29 days
    assert "docker_hygiene" in check["message"]


def test_disk_fill_crit_under_a_week_and_flat_disk_ok():
    row = _row([80, 88, 96])  # +8 %/30 d, 4 % left: 15 days → warn; a week needs +24 %/30 d at 96 %.
    assert t.disk_fill(row, LIMITS, _now(row))["status"] == "warn"
    fast = _row([50, 75, 98])  # slope (98-50)/60 d = 24 %/30 d, 2 % left: 2.5 days
    check = t.disk_fill(fast, LIMITS, _now(fast))
    assert (check["status"], check["value"], check["threshold"]) == ("crit", 2, 7)
    flat = _row([60, 59, 60])
    check = t.disk_fill(flat, LIMITS, _now(flat))
    assert check["status"] == "ok" and check["value"] is None and "not growing" in check["message"]


# --- TTFT and tokens/s against the baseline -------------------------------------------------------

def test_ttft_drift_against_the_oldest_third():
    row = _row([0.4, 0.4, 0.5, 0.9, 1.0, 1.2], "llm_probe.ttft_s.median", "")
    check = t.drift("ttft", row, LIMITS, True)
    # baseline median(0.4, 0.4) = 0.4, now median(1.0, 1.2) = 1.1: 2.75 times.
    assert (check["status"], check["value"], check["threshold"]) == ("warn", 2.75, 2.0)
    assert check["subject"] == {"metric": "llm_probe.ttft_s.median"}
    creep = _row([0.4, 0.5, 0.45, 2.0, 3.0, 11.0], "benchmark.results.ttft_s.p95", "model=gemma3")
    check = t.drift("ttft", creep, LIMITS, True)
    # baseline 0.45, now 7.0: 15.6 times.
    assert (check["status"], check["threshold"]) == ("crit", 5.0) and check["value"] == pytest.approx(15.556, abs=1e-3)
    assert check["subject"] == {"model": "gemma3", "metric": "benchmark.results.ttft_s.p95"}


def test_tokens_per_s_drop():
    row = _row([50, 50, 40, 30], "benchmark.results.tokens_per_s", "model=m")
    check = t.drift("tokens_per_s", row, LIMITS, False)
    # one point per third: 30 / 50 = 0.6, under 0.7 but not under 0.5.
    assert (check["status"], check["value"], check["threshold"]) == ("warn", 0.6, 0.7)
    steady = _row([50, 48, 51], "benchmark.results.tokens_per_s", "model=m")
    assert t.drift("tokens_per_s", steady, LIMITS, False)["status"] == "ok"


# --- wiring: patterns, facts per host, settings ---------------------------------------------------

def test_facts_per_host_only_for_enabled_checks_with_history():
    rows = [_row([40, 60, 90]), _row([78, 81, 84], "gpu.nvidia.gpus.memory_temperature_c", "gpu=0"),
            _row([10, 10, 10], host="box2")]
    found = t.facts(rows, ["box1", "box2", "box3"], ["disk_fill"], {}, T0 + 60 * DAY, 90)
    assert sorted(found) == ["box1", "box2"]  # box3 has no history: no check, not a false ok
    assert [c["check"] for c in found["box1"]["checks"]] == ["disk_fill"]
    # least squares over (0, 40), (30, 60), (60, 90): +25 % per 30 days, 10 % left: 12 days, under 30.
    assert found["box1"]["status"] == "warn"
    assert found["box1"]["checks"][0]["value"] == 12 and found["box1"]["checks"][0]["threshold"] == 30
    assert found["box2"]["status"] == "ok"


def test_ttft_judges_the_per_prompt_median_only():
    """The benchmark area records TTFT median and p95 per model and prompt, and its thresholds sit beside
    them: the trend judges the median (the metric name the benchmark area's readings give)."""
    median = "benchmark.probe.results.ttft_s.median"
    p95 = "benchmark.probe.results.ttft_s.p95"
    rows = [_row([0.4, 0.5, 1.2], median, "model=m,prompt=p"), _row([0.5, 0.9, 3.0], p95, "model=m,prompt=p"),
            _row([10, 10, 10], "benchmark.thresholds.ttft_crit_s", "")]
    found = t.host_checks(rows, ["ttft"], LIMITS, T0)
    # one point per third: 1.2 / 0.4 = 3 times the baseline
    assert [(c["subject"]["metric"], c["status"], c["value"]) for c in found] == [(median, "warn", 3.0)]


def test_patterns_and_unknown_names():
    assert t.patterns(["tbw", "disk_fill"]) == ["host.disks.used\\_pct", "smart.devices.data\\_written\\_bytes",
                                                "smart.devices.rated\\_tbw"]
    with pytest.raises(t.TrendError, match="junction"):
        t.patterns(["junction"])
    with pytest.raises(t.TrendError, match="disk_fill_warn"):
        t.thresholds({"disk_fill_warn": 10})
    with pytest.raises(t.TrendError, match="min_points"):
        t.thresholds({"min_points": 1})


def test_checks_read_metrics_the_history_records():
    """A trend check's input is a reading some area declares: the patterns match recorded metric names."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
    from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._report import like
    declared = [r.metric(area.name) for area in registry.areas() for r in (area.readings or ())]
    for name in ("memory_junction", "tbw", "disk_fill"):
        for pattern in t.METRICS[name]:
            assert any(like(pattern, metric) for metric in declared), (name, pattern)


def test_subject_text_round_trip():
    assert t.parse_subject("device=/dev/nvme0n1") == {"device": "/dev/nvme0n1"}
    assert t.parse_subject("kernel=6.8,module=nvidia") == {"kernel": "6.8", "module": "nvidia"}
    assert t.parse_subject("") == {}


def test_history_trend_leaves_out_rows_after_now(tmp_path):
    conn = h.connect(str(tmp_path / "h.db"))
    for day, value in ((0, 10.0), (30, 20.0), (60, 30.0)):
        facts = {"gpufleet_host": {"disks": [{"path": "/", "used_pct": value}], "checks": []}}
        h.record_run(conn, "daily", T0 + day * DAY, {"box1": facts})
    row = h.trend(conn, "box1", "host.disks.used_pct", "path=/", T0 + 31 * DAY, 90)
    assert [p[1] for p in row["points"]] == [10.0, 20.0]
    conn.close()


def test_a_history_too_short_is_waiting_not_a_verdict():
    """box1: three runs, judged; box2: two runs, waiting (a new install is not 'unknown' for months)."""
    rows = [_row([40, 60, 90]), _row([10, 10], host="box2")]
    waiting = {}
    found = t.facts(rows, ["box1", "box2"], ["disk_fill"], {}, T0 + 60 * DAY, 90, waiting=waiting)
    assert sorted(found) == ["box1"] and found["box1"]["status"] == "warn"
    assert list(waiting) == ["box2"]
    [check] = waiting["box2"]
    assert check["check"] == "disk_fill" and check["waiting"] is True and "after 1 more run(s)" in check["message"]


def test_a_date_past_the_century_is_no_date():
    """Found by the 18-month timeline: a monthly report failed with 'timestamp out of range for platform
    time_t' on a projected date; a slope that reaches its limit only in millions of years gives none."""
    assert t.days_to(31.0, 1e-9, 100.0) is None                  # (100 - 31) / (1e-9 / 30) days: 2 * 10^12
    assert t.days_to(31.0, 0.06, 100.0) == 34500.0               # (100 - 31) / (0.06 / 30): within the century
    row = {"subject": "path=/", "points": [[0, 31.0], [86400 * 10, 31.000000001], [86400 * 20, 31.000000002]]}
    check = t.disk_fill(row, t.thresholds(), 86400 * 20)
    assert check["status"] == "ok" and check["value"] is None and "not growing" in check["message"]
    assert report.projection({"slope_per_30d": 1e-9, "last": 31.0}, 100, 0) is None
    assert report.projection({"slope_per_30d": 3.0, "last": 94.0}, 100, 0) == {"limit": 100, "days": 60.0, "date": "1970-03-02"}


def test_a_day_past_the_calendar_is_said_not_raised():
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import day
    assert day(0) == "1970-01-01" and day(1e20) == "after 9999"
