# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's trend charts: axis, series styles, legend layout, "no data yet" reasons, and the
inline SVG. Pure functions, no Ansible import; ``_report`` builds the chart dicts with them.

Axis rule (issue 18: "Disk use" spanned 24.4-24.6 % and a 0.2-point change looked like a cliff):

- a percentage chart (unit ``%``) runs from 0 to 100, wider only when a value or the limit lies
  outside;
- any other unit runs from zero (the axis includes 0: a GPU at 60 °C is drawn at 60 % of a
  0-100 °C axis, not as a line at the top of a 59.8-60.2 axis) to the largest value or limit,
  rounded up to a round step; all-zero data gets a span of 1;
- ticks are 1, 2, 2.5 or 5 times a power of ten, about five of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import day as _day
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import iso

PERCENT_UNITS = ("%", "pct")
TICKS = 5
STEP_FACTORS = (1, 2, 2.5, 5, 10)
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
# Dash patterns and marker shapes cycle with other periods than the colours, so two series that lie
# on top of each other (two hosts with the same disk use) still differ in dash and marker.
DASHES = ("", "7 4", "2 3", "10 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond", "cross")

WIDTH = 640
PAD_L, PAD_R, PAD_T = 56, 16, 28
PLOT_H = 192
LEGEND_ROW_H = 16
LEGEND_CHAR_W = 6.6   # average advance of an 11 px sans-serif character, generous
LEGEND_SWATCH_W = 30  # the dash sample and the marker before a label
LEGEND_GAP_W = 14


def _eps(value):
    return abs(value) * 1e-9 + 1e-12


def nice_step(span, ticks=TICKS):
    """The smallest step of 1, 2, 2.5, 5 × 10^k that cuts ``span`` into at most ``ticks`` parts."""
    if span <= 0:
        return 1.0
    raw = span / float(ticks)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in STEP_FACTORS:
        if raw <= factor * magnitude + _eps(raw):
            return factor * magnitude
    return 10 * magnitude  # not reached: factor 10 always fits


def axis(values, unit, limit=None):
    """``{"min", "max", "step", "ticks"}`` of a chart's value axis (the rule in the module doc)."""
    values = list(values) + ([limit] if limit is not None else [])
    low = min(values + [0.0])
    high = max(values + [0.0])
    if unit in PERCENT_UNITS:
        high = max(high, 100.0)
    if high - low <= 0:
        high = low + 1.0
    step = nice_step(high - low)
    low = math.floor(low / step + _eps(low / step)) * step
    high = math.ceil(high / step - _eps(high / step)) * step
    count = int(round((high - low) / step))
    return {"min": low, "max": high, "step": step, "ticks": [round(low + i * step, 10) for i in range(count + 1)]}


def series_style(index):
    """Colour, dash pattern and marker shape of the ``index``-th series of a chart."""
    return {"colour": COLOURS[index % len(COLOURS)], "dash": DASHES[index % len(DASHES)],
            "marker": MARKERS[index % len(MARKERS)]}


def coinciding(series):
    """``{index: index of the first earlier series with the very same points}``: series that a
    reader would otherwise take for one line. The legend says so."""
    same = {}
    for index, entry in enumerate(series):
        for earlier in range(index):
            if earlier not in same and series[earlier]["points"] == entry["points"]:
                same[index] = earlier
                break
    return same


def legend_layout(labels, width=WIDTH, left=PAD_L, right=PAD_R, char_w=LEGEND_CHAR_W):
    """Where each legend entry goes: ``[{"x", "row", "text"}]``, left to right, wrapping to a new
    row before an entry would pass ``width - right``. An entry wider than a whole row gets a row
    of its own and its text shortened with "..." so that it ends inside the chart."""
    usable = width - left - right
    most_chars = max(int((usable - LEGEND_SWATCH_W) // char_w), 4)
    placed = []
    x, row = left, 0
    for label in labels:
        text = label if len(label) <= most_chars else label[:most_chars - 3] + "..."
        entry_w = LEGEND_SWATCH_W + len(text) * char_w
        if x > left and x + entry_w > width - right:
            x, row = left, row + 1
        placed.append({"x": x, "row": row, "text": text})
        x += entry_w + LEGEND_GAP_W
    return placed


def chart_area(metric_like):
    """The area a chart's LIKE pattern reads: what comes before the first ``.`` or wildcard
    (``llm\\_probe.%ttft%`` → ``llm_probe``); metrics are named ``<area>.<reading>``."""
    out = []
    escaped = False
    for char in metric_like or "":
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ".%_":
            break
        else:
            out.append(char)
    return "".join(out)


def no_data_reason(spec, history, hosts, fact_name):
    """Why a chart the cadence asks for has no series, in words for the "no data yet" panel.

    ``history``: the history answer (``error``); ``hosts``: this run's ``{host: {fact: dict}}``;
    ``fact_name(area)``: the fact an area writes."""
    if history.get("error"):
        return "the history could not be read in this run (%s)" % history["error"]
    if not history.get("path") and history.get("run_id") is None and "trends" not in history:
        return "no history was kept in this run"
    area = chart_area(spec.get("metric_like", ""))
    fact = fact_name(area)
    read = sorted(host for host, facts in hosts.items() if isinstance((facts or {}).get(fact), dict))
    if not read:
        return ("the %s area is not gathered by this cadence and no earlier run in the history's trend window "
                "recorded %s" % (area, spec.get("metric_like")))
    states = sorted("%s %s" % (host, hosts[host][fact].get("status") or "n/a") for host in read)
    return ("the %s area was read on %d host(s) (%s) but none reported %s: no such device or service there, "
            "or it could not be read (see the problems)" % (area, len(read), ", ".join(states), spec.get("metric_like")))


def first_runs_note(chart):
    """A note when every series has a single point: the line and the slope need two runs."""
    if chart["series"] and all(len(s["points"]) == 1 for s in chart["series"]):
        return "first run: one point per series; a trend line and its slope need at least 2 runs"
    return None


# ---------------------------------------------------------------- SVG

def esc(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def num(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return ("%.2f" % value).rstrip("0").rstrip(".")
    return str(value)


def marker_path(shape, cx, cy, size=4.5):
    """SVG path data of a marker centred on (cx, cy)."""
    s = size
    if shape == "square":
        return "M%.1f %.1fh%.1fv%.1fh%.1fz" % (cx - s * .8, cy - s * .8, s * 1.6, s * 1.6, -s * 1.6)
    if shape == "triangle":
        return "M%.1f %.1fL%.1f %.1fL%.1f %.1fz" % (cx, cy - s, cx + s, cy + s * .8, cx - s, cy + s * .8)
    if shape == "diamond":
        return "M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fz" % (cx, cy - s, cx + s, cy, cx, cy + s, cx - s, cy)
    if shape == "cross":
        return "M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f" % (cx - s, cy - s, cx + s, cy + s, cx - s, cy + s, cx + s, cy - s)
    return "M%.1f %.1fa%.1f %.1f 0 1 0 %.1f 0a%.1f %.1f 0 1 0 %.1f 0" % (cx - s, cy, s, s, 2 * s, s, s, -2 * s)


def _legend_labels(series):
    same = coinciding(series)
    return [s["label"] + (" (same values as %s)" % series[same[i]]["label"] if i in same else "")
            for i, s in enumerate(series)]


def svg_chart(chart, width=WIDTH):
    """One line chart as an inline ``<svg>``: per series a dashed/solid polyline and one hollow
    marker (``class="point"``, ``data-ts``, ``data-value``) per point; a legend that wraps."""
    points = [p for s in chart["series"] for p in s["points"]]
    ts_min = min(p[0] for p in points)
    ts_max = max(p[0] for p in points)
    if ts_max == ts_min:
        ts_min, ts_max = ts_min - 43200, ts_max + 43200
    scale = axis([p[1] for p in points], chart.get("unit", ""), chart.get("limit"))
    legend = legend_layout(_legend_labels(chart["series"]), width)
    rows = (legend[-1]["row"] + 1) if legend else 0
    plot_w = width - PAD_L - PAD_R
    axis_y = PAD_T + PLOT_H
    height = axis_y + 34 + rows * LEGEND_ROW_H

    def x(ts):
        return PAD_L + (ts - ts_min) / float(ts_max - ts_min) * plot_w

    def y(value):
        return PAD_T + (1 - (value - scale["min"]) / float(scale["max"] - scale["min"])) * PLOT_H

    out = ['<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="%d" height="%d" '
           'viewBox="0 0 %d %d" data-metric="%s" data-y-min="%s" data-y-max="%s" aria-label="%s">' % (
               width, height, width, height, esc(chart.get("metric_like", "")), num(scale["min"]), num(scale["max"]),
               esc(chart["title"]))]
    out.append('<title>%s</title>' % esc(chart["title"]))
    out.append('<text x="%d" y="18" font-size="14" font-weight="bold">%s%s</text>' % (
        PAD_L, esc(chart["title"]), (" (%s)" % esc(chart["unit"])) if chart.get("unit") else ""))
    for tick in scale["ticks"]:
        out.append('<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>' % (PAD_L, y(tick), PAD_L + plot_w, y(tick)))
        out.append('<text class="tick" x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>' % (PAD_L - 4, y(tick) + 4, num(float(tick))))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>' % (PAD_L, axis_y, PAD_L + plot_w, axis_y))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>' % (PAD_L, PAD_T, PAD_L, axis_y))
    out.append('<text x="%d" y="%d" font-size="11">%s</text>' % (PAD_L, axis_y + 16, _day(ts_min)))
    out.append('<text x="%d" y="%d" font-size="11" text-anchor="end">%s</text>' % (PAD_L + plot_w, axis_y + 16, _day(ts_max)))
    if chart.get("limit") is not None:
        out.append('<line class="limit" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#d62728" stroke-dasharray="4 3"/>' % (
            PAD_L, y(chart["limit"]), PAD_L + plot_w, y(chart["limit"])))
    for index, series in enumerate(chart["series"]):
        style = series_style(index)
        dash = (' stroke-dasharray="%s"' % style["dash"]) if style["dash"] else ""
        coords = " ".join("%.1f,%.1f" % (x(p[0]), y(p[1])) for p in series["points"])
        out.append('<g class="series" data-label="%s" data-points="%d" data-marker="%s" data-dash="%s">' % (
            esc(series["label"]), len(series["points"]), style["marker"], style["dash"]))
        out.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>' % (style["colour"], dash, coords))
        for ts, value in series["points"]:
            out.append('<path class="point" d="%s" fill="none" stroke="%s" stroke-width="1.6" data-ts="%s" data-value="%s">'
                       '<title>%s %s: %s</title></path>' % (
                           marker_path(style["marker"], x(ts), y(value)), style["colour"], iso(ts), num(value),
                           esc(series["label"]), iso(ts), num(value)))
        out.append('</g>')
        entry = legend[index]
        base = axis_y + 34 + entry["row"] * LEGEND_ROW_H - 4
        out.append('<g class="legend-entry" data-row="%d"><line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"%s/>'
                   '<path d="%s" fill="none" stroke="%s" stroke-width="1.6"/>'
                   '<text x="%.1f" y="%d" font-size="11" fill="%s">%s</text></g>' % (
                       entry["row"], entry["x"], base - 4, entry["x"] + 24, base - 4, style["colour"], dash,
                       marker_path(style["marker"], entry["x"] + 12, base - 4, 3.5), style["colour"],
                       entry["x"] + LEGEND_SWATCH_W, base, style["colour"], esc(entry["text"])))
    out.append('</svg>')
    return "".join(out)


def no_data_panel(chart):
    """The HTML panel that stands where a chart without data would be."""
    return ('<div class="chart no-data" data-metric="%s"><strong>%s%s</strong><p>No data yet: %s</p></div>' % (
        esc(chart.get("metric_like", "")), esc(chart["title"]), (" (%s)" % esc(chart["unit"])) if chart.get("unit") else "",
        esc(chart.get("no_data") or "no series")))
