"""The report sections of each cadence, from the history's answers."""

from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _sections as c


def test_sections_per_cadence():
    history = {"maxima": {"box": {"gpu.gpus.temperature_c": {"0": 83.0}}},
               "energy": {"box": {"kwh": 100.0, "cost": 30.0, "days": 30, "series": 1}},
               "trends": [{"host": "box", "metric": "gpu.gpus.memory_temperature_c", "subject": "0", "last": 92.0, "max": 92.0, "slope_per_30d": 14.0},
                          {"host": "box", "metric": "host.disks.used_pct", "subject": "/", "last": 20.0, "max": 20.0, "slope_per_30d": 0.0}],
               "incidents": {"box": {"crit_runs": 10, "warn_runs": 3, "failed_runs": 2}, "fine": {"crit_runs": 0, "warn_runs": 0, "failed_runs": 0}}}
    assert c.sections("daily", history) == []
    weekly = c.sections("weekly", history)
    assert weekly[0]["lines"] == ["box gpu.gpus.temperature_c [0]: max 83"]
    monthly = c.sections("monthly", history, options={"energy_price_per_kwh": 0.3, "currency": "EUR", "trend_rising_warn_per_30d": 3,
                                                      "trend_metrics": ["gpu.%memory\\_temperature\\_c"]})
    assert monthly[0]["lines"] == ["box: 100 kWh over 30 days, 30 EUR", "fleet: 100 kWh, 30 EUR at 0.3 EUR/kWh"]
    assert monthly[1]["lines"] == ["box gpu.gpus.memory_temperature_c [0]: last 92, max 92, +14.0 per 30 days (rising: look at cooling, dust and fans)"]
    quarterly = c.sections("quarterly", {}, options={"physical_checklist": ["dust"]})
    assert quarterly[1]["lines"] == ["[ ] dust"]
    annual = c.sections("annual", history, {"box": {"gpufleet_host": {"kernel_release": "6.1.0-28-amd64"}},
                                            "new": {"gpufleet_host": {"kernel_release": "6.18.4"}}},
                        {"past_it_crit_runs": 12, "newest_versions": {"kernel": {"version": "6.12.48", "released": "2025-09"}}})
    assert annual[0]["lines"][0] == "box: 10 run(s) critical, 3 warning, 2 failed (past it: plan a replacement or a rebuild)"
    assert annual[0]["lines"][1] == "fine: 0 run(s) critical, 0 warning, 0 failed"
    assert annual[1]["lines"] == ["box: kernel 6.1.0-28-amd64, newest in the collection's data 6.12.48 (released 2025-09)",
                                  "new: kernel 6.18.4 (current against the collection's data)"]


def test_empty_history_sections_say_so():
    assert c.sections("weekly", {})[0]["lines"] == ["no temperature readings in the history for this window"]
    assert "energy needs" in c.sections("monthly", {})[0]["lines"][0]


def test_the_annual_cadence_judges_the_age_of_the_collections_data():
    import calendar

    stale = calendar.timegm((2027, 12, 1, 12, 0, 0))
    assert c.controller_checks("monthly", stale) == []
    checks = c.controller_checks("annual", stale)
    assert [(area, check["check"], check["status"], check["subject"]) for area, check in checks] == [
        ("driver_stack", "compatibility_data_age", "warn", {"table": "cuda"}),
        ("driver_stack", "compatibility_data_age", "warn", {"table": "rocm"})]
    lines = c.check_lines(checks)
    assert lines[0].startswith("WARN the collection's CUDA toolkit to minimum NVIDIA driver table was checked") and "update the collection" in lines[0]
    fresh = c.controller_checks("annual", calendar.timegm((2026, 12, 1, 0, 0, 0)))
    assert [check["status"] for _area, check in fresh] == ["ok", "ok"]
