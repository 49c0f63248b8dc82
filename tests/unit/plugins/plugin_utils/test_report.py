"""The fleet report: table order, problems, charts with every point, projections, renderers."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _history as h
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _report as r

DAY = 86400.0
T0 = 1764000000.0


def _hosts():
    return {
        "ok-box": {"gpufleet_host": {"status": "ok", "checks": [{"check": "disk_used", "status": "ok", "message": "fine"}]}},
        "warm-box": {
            "gpufleet_host": {"status": "warn", "checks": [
                {"check": "disk_used", "path": "/", "status": "warn", "value": 82, "threshold": 80,
                 "message": "disk use of / is 82 % (warning at 80 %): prune old models"}]},
            "gpufleet_gpu": {"status": "ok", "checks": []}},
    }


def _history():
    points = [[T0 + d * DAY, 78.0 + d * 0.5] for d in range(0, 29, 7)]
    wear = [[T0 + d * DAY, 10.0 + d] for d in range(0, 29, 14)]
    return {"run_id": 7, "path": "/x/history.db", "error": None, "trends": [
        {"host": "warm-box", "metric": "gpu.gpus.memory_temperature_c", "subject": "0", "points": points,
         "last": 92.0, "max": 92.0, "slope_per_30d": 15.0},
        {"host": "warm-box", "metric": "smart.devices.percentage_used_pct", "subject": "/dev/nvme0", "points": wear,
         "last": 38.0, "max": 38.0, "slope_per_30d": 30.0}]}


CHARTS = [{"title": "Junction", "metric_like": "gpu.%memory\\_temperature\\_c", "unit": "°C"},
          {"title": "SSD wear", "metric_like": "smart.%used\\_pct", "unit": "%", "limit": 100},
          {"title": "TTFT", "metric_like": "llm%ttft%", "unit": "s"}]


def test_build_orders_worst_first_and_lists_failed_hosts_and_problems():
    report = r.build("daily", T0 + 28 * DAY, _hosts(), {"dead-box": None}, _history(), CHARTS)
    assert [h["host"] for h in report["hosts"]] == ["dead-box", "warm-box", "ok-box"]
    assert report["hosts"][0]["reachable"] is False and report["hosts"][0]["status"] == "crit"
    assert report["areas"] == ["host", "gpu"]  # the registry's order
    assert report["hosts"][2]["areas"] == {"gpu": None, "host": "ok"}
    assert [(p["host"], p["status"], p["check"]) for p in report["problems"]] == [
        ("dead-box", "crit", "reachable"), ("warm-box", "warn", "disk_used")]
    assert report["problems"][1]["subject"] == "path=/"
    assert report["status"] == "crit" and report["counts"] == {"ok": 1, "unknown": 0, "warn": 1, "crit": 1}
    # TTFT has no series: it stays in the report with the reason, for the "no data yet" panel.
    assert [(c["title"], bool(c["series"])) for c in report["charts"]] == [("Junction", True), ("SSD wear", True), ("TTFT", False)]
    assert report["charts"][2]["no_data"] == (
        "the llm area is not gathered by this cadence and no earlier run in the history's trend window recorded llm%ttft%")
    assert report["charts"][0]["no_data"] is None and report["charts"][0]["note"] is None
    wear = report["charts"][1]["series"][0]
    assert wear["projection"] == {"limit": 100, "days": 62.0, "date": "2026-02-22"}
    json.dumps(report)


def test_history_error_is_a_problem_not_a_failure():
    report = r.build("weekly", T0, _hosts(), history={"error": "history database x is locked by another run"})
    problem = [p for p in report["problems"] if p["host"] == "controller"]
    assert [(p["check"], p["status"]) for p in problem] == [("history_database", "warn")]
    assert "locked" in problem[0]["message"]


def test_a_controller_check_that_is_not_ok_is_a_problem_of_the_controller():
    stale = {"check": "compatibility_data_age", "status": "warn", "value": "2026-11", "threshold": "6 months",
             "subject": {"table": "cuda"}, "message": "the CUDA table was checked in 2026-11: update the collection"}
    fresh = dict(stale, status="ok", subject={"table": "rocm"}, message="checked in 2026-11")
    report = r.build("annual", T0, {"ok-box": _hosts()["ok-box"]}, controller_checks=[("driver_stack", stale), ("driver_stack", fresh)])
    assert [(p["host"], p["area"], p["check"], p["subject"], p["status"], p["value"]) for p in report["problems"]] == [
        ("controller", "driver_stack", "compatibility_data_age", "table=cuda", "warn", "2026-11")]
    assert report["status"] == "warn"


def test_svg_has_a_circle_per_point_and_a_limit_line():
    report = r.build("daily", T0 + 28 * DAY, _hosts(), None, _history(), CHARTS)
    svg = r.svg_chart(report["charts"][1])
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    points = root.findall(".//%spath[@class='point']" % ns)
    assert [c.get("data-value") for c in points] == ["10", "24", "38"]
    assert root.findall(".//%sline[@class='limit']" % ns)
    assert root.find(".//%sg" % ns).get("data-points") == "3"
    # A single point (first run) still draws.
    one = dict(report["charts"][0], series=[dict(report["charts"][0]["series"][0], points=[[T0, 5.0]])])
    assert len(ET.fromstring(r.svg_chart(one)).findall(".//%spath[@class='point']" % ns)) == 1


def test_html_is_self_contained_and_escaped():
    hosts = _hosts()
    hosts["warm-box"]["gpufleet_host"]["checks"][0]["message"] = "<script>alert(1)</script>"
    report = r.build("daily", T0 + 28 * DAY, hosts, {"dead-box": None}, _history(), CHARTS)
    html = r.render_html(report)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert not re.search(r"(src|href)=\"(http|//)", html)
    assert html.count('<tr data-host=') == 3
    assert html.count("<svg") == 2
    assert html.count('<div class="chart no-data" data-metric="llm%ttft%">') == 1
    md = r.render_markdown(report)
    assert "| dead-box | unreachable | n/a | n/a |" in md
    assert "reaches 100 in 62 days (2026-02-22)" in md


@pytest.mark.parametrize("points, kwh", [([], 0.0), ([(0, 100.0)], 0.0), ([(0, 100.0), (3600, 100.0)], 0.1),
                                         ([(0, 0.0), (7200, 1000.0)], 1.0), ([(10, 5.0), (5, 5.0)], 0.0)])
def test_energy(points, kwh):
    assert h.energy_kwh(points) == pytest.approx(kwh)


def test_projection_edges():
    assert r.projection({"slope_per_30d": -1, "last": 50}, 100, T0) is None
    assert r.projection({"slope_per_30d": None, "last": 50}, 100, T0) is None
    assert r.projection({"slope_per_30d": 5, "last": 120}, 100, T0)["days"] == 0


@pytest.mark.parametrize("pattern, text, match", [
    ("gpu.%temperature\\_c", "gpu.gpus.temperature_c", True),
    ("gpu.%temperature\\_c", "gpu.gpus.temperatureXc", False),
    ("gpu.%temperature_c", "gpu.gpus.temperatureXc", True),
    ("host.disks.used\\_pct", "host.disks.used_pct", True),
    ("%", "", True),
])
def test_like(pattern, text, match):
    assert r.like(pattern, text) is match


def test_report_matches_the_documented_schema():
    import jsonschema  # pinned in constraints.txt (ansible-lint needs it): always in the dev venv
    import os
    schema_path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "report-schema.json")
    with open(schema_path) as handle:
        schema = json.load(handle)
    report = r.build("daily", T0 + 28 * DAY, _hosts(), {"dead-box": None}, _history(), CHARTS,
                     [{"title": "x", "lines": ["a"]}])
    jsonschema.validate(json.loads(json.dumps(report)), schema)
    report["hosts"][0]["status"] = "bad"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, schema)


def test_an_area_that_could_not_look_is_unknown_in_every_rendering_never_green():
    """Issue 18: the fleet tables showed green 'gpu: ok' and 'docker: ok' for a host where nothing could
    be read, and 'Fleet status: OK ... Every check is ok.'. Two unknown areas and nothing else."""
    hosts = {"blind-box": {
        "gpufleet_gpu": {"status": "unknown", "checks": [
            {"check": "gpu_present", "status": "unknown", "message": "could not look: NVML: Driver Not Loaded: load the driver"}]},
        "gpufleet_docker": {"present": False, "checks": [
            {"check": "docker_present", "status": "unknown",
             "message": "could not look: the Docker SDK for Python is not installed: run the prerequisites role"}]}}}
    report = r.build("daily", T0, hosts)
    row = report["hosts"][0]
    assert row["areas"] == {"gpu": "unknown", "docker": "unknown"} and row["status"] == "unknown"
    assert report["status"] == "unknown" and report["counts"] == {"ok": 0, "unknown": 1, "warn": 0, "crit": 0}
    assert [(p["area"], p["status"]) for p in report["problems"]] == [("docker", "unknown"), ("gpu", "unknown")]
    html = r.render_html(report)
    assert 'Fleet status: <strong>UNKNOWN</strong> (0 crit, 0 warn, 1 unknown, 0 ok)' in html
    assert '<td class="unknown">unknown</td><td class="unknown">unknown</td>' in html
    assert 'class="ok"' not in html and "Every check is ok." not in html
    assert "run the prerequisites role" in html and "Driver Not Loaded" in html   # the reason and the fix are shown
    md = r.render_markdown(report)
    assert "| blind-box | unknown | unknown | unknown |" in md and "Every check is ok." not in md
    assert "- **UNKNOWN** blind-box docker/docker_present: could not look: the Docker SDK" in md
