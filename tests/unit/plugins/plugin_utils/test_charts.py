"""The report's chart decisions (issue 18): axis ranges, series styles, coinciding series, legend
layout, "no data yet" reasons. Expected values are worked out by hand from the rule in the
module's docstring, not read back from the code."""

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _charts as c

NS = "{http://www.w3.org/2000/svg}"
T0 = 1764000000.0
DAY = 86400.0


@pytest.mark.parametrize("span, step", [
    (100, 20),     # 100 / 5 = 20 -> 2 x 10
    (0.45, 0.1),   # 0.09 -> 10 x 0.01
    (83, 20),      # 16.6 -> 2 x 10
    (12, 2.5),     # 2.4 -> 2.5 x 1
    (1, 0.2),      # 0.2 -> 2 x 0.1
    (7, 2),        # 1.4 -> 2 x 1
    (5000, 1000),  # 1000 -> 1 x 1000
])
def test_nice_step(span, step):
    assert c.nice_step(span) == pytest.approx(step)


def test_percent_axis_is_0_to_100_however_small_the_change():
    # The report of issue 18: disk use between 24.4 and 24.6 % drew a 24.4-24.6 axis.
    scale = c.axis([24.4, 24.5, 24.6], "%")
    assert (scale["min"], scale["max"], scale["step"]) == (0, 100, 20)
    assert scale["ticks"] == [0, 20, 40, 60, 80, 100]


def test_percent_axis_grows_past_100_only_when_a_value_does():
    # 130 % (an over-quota volume): span 130 -> 26 per tick -> step 50 -> 0..150
    scale = c.axis([20.0, 130.0], "%")
    assert (scale["min"], scale["max"], scale["ticks"]) == (0, 150, [0, 50, 100, 150])


def test_other_units_start_at_zero_and_end_on_a_round_step():
    # GPU temperatures 45-83 °C: span 83 -> step 20 -> 0..100
    assert c.axis([45.0, 83.0], "°C")["ticks"] == [0, 20, 40, 60, 80, 100]
    # TTFT 0.31-0.45 s: step 0.1 -> 0..0.5
    scale = c.axis([0.31, 0.45], "s")
    assert scale["ticks"] == pytest.approx([0, 0.1, 0.2, 0.3, 0.4, 0.5])
    # a limit is on the axis even above every value: 90 -> 18 -> step 20 -> 0..100
    assert c.axis([10.0], "°C", limit=90)["max"] == 100


def test_all_zero_data_gets_a_span_of_one_and_negatives_are_kept():
    assert c.axis([0.0, 0.0], "s")["ticks"] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    # -5..10: span 15 -> 3 -> step 5
    assert c.axis([-5.0, 10.0], "°C")["ticks"] == [-5, 0, 5, 10]


def test_the_first_four_series_differ_in_colour_dash_and_marker():
    styles = [c.series_style(i) for i in range(4)]
    for key in ("colour", "dash", "marker"):
        assert len(set(s[key] for s in styles)) == 4, key
    # two series on top of each other, whichever pair of the first eight, still differ in dash or marker
    eight = [c.series_style(i) for i in range(8)]
    for i in range(8):
        for j in range(i + 1, 8):
            assert (eight[i]["dash"], eight[i]["marker"]) != (eight[j]["dash"], eight[j]["marker"])


def test_coinciding_series_point_to_the_first_one():
    a = {"label": "a", "points": [[1, 5.0], [2, 5.0]]}
    b = {"label": "b", "points": [[1, 5.0], [2, 6.0]]}
    same_as_a = {"label": "c", "points": [[1, 5.0], [2, 5.0]]}
    again = {"label": "d", "points": [[1, 5.0], [2, 5.0]]}
    assert c.coinciding([a, b, same_as_a, again]) == {2: 0, 3: 0}
    assert c.coinciding([a, b]) == {}


def test_legend_wraps_instead_of_running_labels_together():
    # width 640, left 56, right 16: a row ends at 624. Entry width = 30 + 6.6 per char; gap 14.
    labels = ["a" * 20, "b" * 20, "c" * 20, "d" * 5]
    placed = c.legend_layout(labels)
    # "a": 56..218 (30 + 132); "b" starts at 232, ends 394; "c" at 408 ends 570; "d" at 584 needs 63 -> 647 > 624: next row
    assert [(p["x"], p["row"]) for p in placed] == [(56, 0), (232, 0), (408, 0), (56, 1)]
    # a label longer than a row (568 px = 81 characters after the swatch) is cut to end inside the chart
    long_one = c.legend_layout(["x" * 200])[0]
    assert long_one["row"] == 0 and long_one["text"] == "x" * 78 + "..."


def test_legend_entries_never_overlap():
    labels = ["host-%d path=/srv/models/%s" % (i, "x" * i) for i in range(12)]
    placed = c.legend_layout(labels, width=390)
    by_row = {}
    for entry in placed:
        width = c.LEGEND_SWATCH_W + len(entry["text"]) * c.LEGEND_CHAR_W
        assert entry["x"] + width <= 390 - c.PAD_R
        by_row.setdefault(entry["row"], []).append((entry["x"], entry["x"] + width))
    for spans in by_row.values():
        for (_s1, e1), (s2, _e2) in zip(spans, spans[1:]):
            assert s2 >= e1


@pytest.mark.parametrize("pattern, area", [
    ("gpu.%.temperature\\_c", "gpu"), ("llm\\_probe.%ttft%\\_s", "llm_probe"), ("host.disks.used\\_pct", "host"),
    ("smart.devices.wear\\_pct\\_used", "smart"), ("%", ""),
])
def test_chart_area(pattern, area):
    assert c.chart_area(pattern) == area


def _fact(area):
    return "gpufleet_" + area


def test_no_data_reasons():
    spec = {"title": "SSD wear", "metric_like": "smart.devices.wear\\_pct\\_used"}
    history = {"path": "/h.db", "run_id": 1, "trends": []}
    assert c.no_data_reason(spec, history, {"a": {"gpufleet_host": {}}}, _fact) == (
        "the smart area is not gathered by this cadence and no earlier run in the history's trend window "
        "recorded smart.devices.wear\\_pct\\_used")
    hosts = {"b": {"gpufleet_smart": {"status": "unknown"}}, "a": {"gpufleet_smart": {"status": "ok"}}}
    assert c.no_data_reason(spec, history, hosts, _fact) == (
        "the smart area was read on 2 host(s) (a ok, b unknown) but none reported smart.devices.wear\\_pct\\_used: "
        "no such device or service there, or it could not be read (see the problems)")
    assert c.no_data_reason(spec, {"error": "database is locked"}, hosts, _fact) == (
        "the history could not be read in this run (database is locked)")
    assert c.no_data_reason(spec, {}, hosts, _fact) == "no history was kept in this run"


def test_first_run_note():
    one = {"series": [{"points": [[T0, 1.0]]}, {"points": [[T0, 2.0]]}]}
    two = {"series": [{"points": [[T0, 1.0]]}, {"points": [[T0, 2.0], [T0 + DAY, 3.0]]}]}
    assert c.first_runs_note(one).startswith("first run: ")
    assert c.first_runs_note(two) is None and c.first_runs_note({"series": []}) is None


def test_svg_draws_identical_series_both_visibly_and_says_they_coincide():
    pts = [[T0, 24.4], [T0 + DAY, 24.6]]
    chart = {"title": "Disk use", "unit": "%", "metric_like": "host.disks.used\\_pct", "limit": None,
             "series": [{"label": "a path=/", "points": pts}, {"label": "b path=/", "points": [list(p) for p in pts]}]}
    root = ET.fromstring(c.svg_chart(chart))
    assert (root.get("data-y-min"), root.get("data-y-max")) == ("0", "100")
    groups = root.findall("%sg[@class='series']" % NS)
    assert [(g.get("data-marker"), g.get("data-dash")) for g in groups] == [("circle", ""), ("square", "7 4")]
    assert [g.find("%spolyline" % NS).get("stroke-dasharray") for g in groups] == [None, "7 4"]
    # both drawn with hollow markers at the same places
    assert [[p.get("data-value") for p in g.findall("%spath" % NS)] for g in groups] == [["24.4", "24.6"]] * 2
    assert all(p.get("fill") == "none" for g in groups for p in g.findall("%spath" % NS))
    legend = [t.text for t in root.iter("%stext" % NS) if t.text and "path=/" in t.text]
    assert legend == ["a path=/", "b path=/ (same values as a path=/)"]
    # y of 24.4 % on a 0-100 axis of 192 px from y=28: 28 + (1 - 0.244) * 192 = 173.2
    first = groups[0].find("%spolyline" % NS).get("points").split()[0]
    assert first.endswith(",173.2")


def test_no_data_panel_says_why():
    panel = c.no_data_panel({"title": "GPU temperature", "unit": "°C", "metric_like": "gpu.%", "no_data": "a <b>"})
    assert panel == ('<div class="chart no-data" data-metric="gpu.%"><strong>GPU temperature (°C)</strong>'
                     '<p>No data yet: a &lt;b&gt;</p></div>')
