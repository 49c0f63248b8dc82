# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report of a cadence run: one dict (the JSON), rendered as Markdown and as one
self-contained HTML page with inline SVG charts.

``build(...)`` takes the ``gpufleet_*`` facts of each host, the failed hosts and the history
answers; ``render_markdown`` / ``render_html`` / ``svg_chart`` turn it into text. The JSON layout
is documented in docs/report-schema.json. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import (
    STATUSES,
    status_rank,
    subject_of,
    subject_text,
    worst_status,
)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import atomic_write
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import day as _day
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import iso
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _charts

REPORT_SCHEMA_VERSION = 1
PROJECTION_HORIZON_DAYS = 36500


def projection(trend, limit, now):
    """Days until a rising trend reaches ``limit`` and that date, or None when flat/falling/past."""
    slope = trend.get("slope_per_30d")
    last = trend.get("last")
    if slope is None or last is None or slope <= 0 or limit is None:
        return None
    if last >= limit:
        return {"limit": limit, "days": 0, "date": _day(now)}
    days = (limit - last) / (slope / 30.0)
    if days > PROJECTION_HORIZON_DAYS:
        return None   # a date centuries away is no date (and past the calendar it cannot be written)
    return {"limit": limit, "days": round(days, 1), "date": _day(now + days * 86400.0)}


def _fact_name(area):
    known = registry.known(area)
    return known.fact if known is not None else "gpufleet_" + area


def _areas_of(hosts):
    """The areas of the facts the hosts have: registry order first, then facts it does not know."""
    names = set(name for facts in hosts.values() for name in (facts or {})
                if name.startswith("gpufleet_") and isinstance(facts[name], dict))
    known = [name for name in registry.NAMES if registry.fact_name(name) in names]
    return known + sorted(name[len("gpufleet_"):] for name in names if registry.of_fact(name) is None)


def _problem(host, area, check):
    """The report's problem row of one check result that is not ok."""
    return {"host": host, "area": area, "check": check.get("check"), "subject": subject_text(subject_of(check)),
            "status": check.get("status"), "value": check.get("value"), "threshold": check.get("threshold"),
            "message": check.get("message", "")}


def step_failed_check(failure):
    """The ``step_failed`` check of a host whose cadence step failed (``failure``: ``"task: message"``), as
    the report lists it (area ``run``) and the host's printed summary shows it."""
    return {"check": "step_failed", "status": "crit", "value": None, "threshold": None, "message": "failed: %s" % failure}


def host_rows(hosts, failed_hosts=None, step_failures=None):
    """``(areas, rows, problems)``: one row per host (its status per area), and every check that is
    not ok, worst first. A host in ``failed_hosts`` did not finish the run (unreachable): a
    ``run/reachable`` problem and no facts. A host in ``step_failures`` (``{host: "task: message"}``)
    had a step fail: it keeps the facts gathered before, with a ``run/step_failed`` problem naming the
    task and its message. The report, the alerts and the history all read problems from here."""
    failed_hosts = dict(failed_hosts or {})
    step_failures = dict(step_failures or {})
    areas = _areas_of(hosts)
    rows = []
    problems = []
    for host in sorted(set(hosts) | set(failed_hosts)):
        facts = hosts.get(host) or {}
        row = {"host": host, "reachable": host not in failed_hosts, "areas": {}}
        if host in failed_hosts:
            message = failed_hosts[host] or "the host failed or was unreachable during the run"
            problems.append({"host": host, "area": "run", "check": "reachable", "subject": "", "status": "crit",
                             "value": None, "threshold": None, "message": message})
        if step_failures.get(host):
            row["failed_step"] = step_failures[host]
            problems.append(_problem(host, "run", step_failed_check(step_failures[host])))
        for area in areas:
            fact = facts.get(_fact_name(area))
            if not isinstance(fact, dict):
                row["areas"][area] = None
                continue
            row["areas"][area] = fact.get("status") or worst_status(fact.get("checks") or [])
            for check in fact.get("checks") or []:
                if isinstance(check, dict) and check.get("status", "ok") != "ok":
                    problems.append(_problem(host, area, check))
        statuses = [s for s in row["areas"].values() if s] + (["crit"] if host in failed_hosts or row.get("failed_step") else [])
        row["status"] = worst_status(statuses)
        rows.append(row)
    rows.sort(key=lambda r: (-status_rank(r["status"]), r["host"]))
    problems.sort(key=lambda p: (-status_rank(p["status"]), p["host"], p["area"], str(p["check"])))
    return areas, rows, problems


def build(cadence, now, hosts, failed_hosts=None, history=None, charts=None, sections=None, check_mode=False,
          step_failures=None, controller_checks=None):
    """Return the report dict.

    ``hosts``: ``{host: {gpufleet_x: fact}}``; ``failed_hosts``: ``{host: reason}``;
    ``history``: the ``history`` action's answer (``run_id``, ``error``, ``trends``...);
    ``charts``: ``[{title, metric_like, unit, limit}]`` matched against ``history.trends``; every
    chart asked for is in the report: one without series says why in ``no_data``;
    ``sections``: ``[{title, lines}]`` added by the cadence (maxima, energy, checklist...);
    ``controller_checks``: ``[(area, check result)]`` judged on the controller (the age of the
    collection's data): the non-ok ones are problems of the host ``controller``.
    """
    history = dict(history or {})
    areas, rows, problems = host_rows(hosts, failed_hosts, step_failures)
    chart_list = []
    for spec in charts or []:
        chart = _chart(spec, history.get("trends") or [], now)
        chart["no_data"] = None if chart["series"] else _charts.no_data_reason(spec, history, hosts, _fact_name)
        chart["note"] = _charts.first_runs_note(chart)
        chart_list.append(chart)
    if history.get("error"):
        problems.append({"host": "controller", "area": "history", "check": "history_database", "subject": "",
                         "status": history.get("error_status") or "warn", "value": None, "threshold": None,
                         "message": history["error"]})
    for area, check in controller_checks or []:
        if check.get("status", "ok") != "ok":
            problems.append(_problem("controller", area, check))
    problems.sort(key=lambda p: (-status_rank(p["status"]), p["host"], p["area"], str(p["check"])))
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "cadence": cadence,
        "generated_at": iso(now),
        "check_mode": bool(check_mode),
        "status": worst_status([r["status"] for r in rows] + [p["status"] for p in problems]),
        "counts": dict((s, sum(1 for r in rows if r["status"] == s)) for s in STATUSES),
        "areas": areas,
        "hosts": rows,
        "problems": problems,
        "charts": chart_list,
        "sections": list(sections or []),
        "history": {"path": history.get("path"), "run_id": history.get("run_id"), "error": history.get("error")},
        "controller_areas": sorted(set(["history"]) | set(area for area, _check in controller_checks or [])),
    }


def like(pattern, text):
    """SQL LIKE with ``\\`` as escape (``%`` any run, ``_`` one character), for chart specs."""
    import re
    parts = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    regex = "^" + "".join(parts) + "$"
    return re.match(regex, text) is not None


def _chart(spec, trends, now):
    series = []
    for trend in trends:
        if not like(spec.get("metric_like", ""), trend.get("metric", "")) or not trend.get("points"):
            continue
        label = trend["host"] + (" %s" % trend["subject"] if trend.get("subject") else "")
        entry = {"label": label, "host": trend["host"], "metric": trend["metric"], "subject": trend.get("subject", ""),
                 "points": trend["points"], "slope_per_30d": trend.get("slope_per_30d"), "last": trend.get("last")}
        if spec.get("limit") is not None:
            entry["projection"] = projection(trend, spec["limit"], now)
        series.append(entry)
    return {"title": spec.get("title", spec.get("metric_like")), "unit": spec.get("unit", ""),
            "metric_like": spec.get("metric_like"), "limit": spec.get("limit"), "series": series}


# ---------------------------------------------------------------- rendering

_esc = _charts.esc
_num = _charts.num
svg_chart = _charts.svg_chart


def _series_note(series):
    notes = []
    if series.get("slope_per_30d") is not None:
        notes.append("%+g per 30 days" % series["slope_per_30d"])
    projected = series.get("projection")
    if projected:
        notes.append("reaches %s in %s days (%s)" % (_num(projected["limit"]), _num(projected["days"]), projected["date"]))
    return ", ".join(notes)


CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}
.crit{background:#f8d0d0}.warn{background:#fbecc0}.unknown{background:#e0d8f0}.ok{background:#d8f0d8}.none{color:#999}
.chart{display:block;margin:1em 0;border:1px solid #eee;max-width:100%;height:auto}
.no-data{padding:.8em 1em;background:#f6f6f6;color:#555}.no-data p{margin:.3em 0 0}
.scroll{overflow-x:auto;max-width:100%}li,p{overflow-wrap:anywhere}
"""


def drawn_charts(report):
    """How many of the report's charts have data (the others are "no data yet" panels)."""
    return sum(1 for chart in report["charts"] if chart["series"])


def host_state(row):
    """What the fleet table says of a host: unreachable, failed (a step failed), or its status."""
    if not row["reachable"]:
        return "unreachable"
    if row.get("failed_step"):
        return "failed: %s" % row["failed_step"]
    return row["status"]


def _counts_text(report):
    counts = report["counts"]
    return "%d crit, %d warn, %d unknown, %d ok" % (counts["crit"], counts["warn"], counts.get("unknown", 0), counts["ok"])


def render_html(report):
    """The whole report as one HTML page (no external resources)."""
    title = "gpufleet %s report %s" % (report["cadence"], report["generated_at"])
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
           '<meta name="viewport" content="width=device-width, initial-scale=1"><title>%s</title><style>%s</style></head><body>' % (_esc(title), CSS)]
    out.append('<h1>%s</h1>' % _esc(title))
    out.append('<p id="status" class="%s">Fleet status: <strong>%s</strong> (%s)%s</p>' % (
        report["status"], report["status"].upper(), _counts_text(report), " (check mode)" if report.get("check_mode") else ""))
    out.append('<h2>Fleet</h2><div class="scroll"><table id="fleet"><thead><tr><th>host</th><th>status</th>%s</tr></thead><tbody>' % "".join(
        "<th>%s</th>" % _esc(area) for area in report["areas"]))
    for row in report["hosts"]:
        cells = "".join('<td class="%s">%s</td>' % (row["areas"].get(a) or "none", _esc(row["areas"].get(a) or "n/a"))
                        for a in report["areas"])
        out.append('<tr data-host="%s" data-status="%s"><td>%s</td><td class="%s">%s</td>%s</tr>' % (
            _esc(row["host"]), row["status"], _esc(row["host"]), row["status"],
            _esc(host_state(row)), cells))
    out.append('</tbody></table></div>')
    out.append('<h2>Problems</h2>')
    if report["problems"]:
        out.append('<div class="scroll"><table id="problems"><thead><tr><th>status</th><th>host</th><th>area</th><th>check</th>'
                   '<th>subject</th><th>message and fix</th></tr></thead><tbody>')
        for p in report["problems"]:
            out.append('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
                p["status"], p["status"].upper(), _esc(p["host"]), _esc(p["area"]), _esc(p["check"]),
                _esc(p["subject"]), _esc(p["message"])))
        out.append('</tbody></table></div>')
    else:
        out.append('<p id="no-problems">Every check is ok.</p>')
    if report["charts"]:
        out.append('<h2>Trends</h2>')
        for chart in report["charts"]:
            out.append(svg_chart(chart) if chart["series"] else _charts.no_data_panel(chart))
            notes = ([chart["note"]] if chart.get("note") else []) + [
                "%s: %s" % (s["label"], _series_note(s)) for s in chart["series"] if _series_note(s)]
            if notes:
                out.append('<ul class="chart-notes">%s</ul>' % "".join("<li>%s</li>" % _esc(n) for n in notes))
    for section in report["sections"]:
        out.append('<h2>%s</h2><ul class="section">%s</ul>' % (
            _esc(section.get("title", "")), "".join("<li>%s</li>" % _esc(line) for line in section.get("lines") or [])))
    history = report.get("history") or {}
    out.append('<p class="history">History: %s%s</p>' % (
        _esc(history.get("path") or "n/a"), (" (run %s)" % history["run_id"]) if history.get("run_id") else ""))
    out.append('</body></html>\n')
    return "\n".join(out)


def render_markdown(report):
    """The report as Markdown (tables, problems, trend notes, sections)."""
    lines = ["# gpufleet %s report %s" % (report["cadence"], report["generated_at"]), "",
             "Fleet status: **%s** (%s)%s" % (
                 report["status"].upper(), _counts_text(report), " (check mode)" if report.get("check_mode") else ""),
             "", "## Fleet", "",
             "| host | status | %s |" % " | ".join(report["areas"]),
             "| --- | --- |%s" % (" --- |" * len(report["areas"]))]
    for row in report["hosts"]:
        lines.append("| %s | %s | %s |" % (
            row["host"], host_state(row).replace("|", "\\|"),
            " | ".join(row["areas"].get(a) or "n/a" for a in report["areas"])))
    lines += ["", "## Problems", ""]
    if not report["problems"]:
        lines.append("Every check is ok.")
    for p in report["problems"]:
        lines.append("- **%s** %s %s/%s%s: %s" % (
            p["status"].upper(), p["host"], p["area"], p["check"],
            (" (%s)" % p["subject"]) if p["subject"] else "", str(p["message"]).replace("\n", " ")))
    if report["charts"]:
        lines += ["", "## Trends", ""]
        for chart in report["charts"]:
            if chart.get("no_data"):
                lines.append("- %s: no data yet: %s" % (chart["title"], chart["no_data"]))
            for series in chart["series"]:
                note = _series_note(series)
                lines.append("- %s, %s: last %s %s%s" % (
                    chart["title"], series["label"], _num(series["last"]), chart["unit"], (", " + note) if note else ""))
    for section in report["sections"]:
        lines += ["", "## %s" % section.get("title", ""), ""]
        lines += ["- %s" % line for line in section.get("lines") or []]
    return "\n".join(lines) + "\n"


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True) + "\n"


RENDERERS = {"html": render_html, "md": render_markdown, "json": render_json}


def report_base(dest, cadence, now):
    """Reserve ``<dest>/<cadence>-<time>`` for this run and return it.

    Runs that start in the same second (three daily runs from cron and by hand) must not overwrite
    each other's report: the name is reserved by creating ``<base>.reserved`` exclusively while
    the files are written, and the next ``-2``, ``-3``... suffix is taken when a reservation or a
    report file of that name exists.
    """
    stamp = "%s-%s" % (cadence, iso(now).replace("-", "").replace(":", ""))
    for attempt in range(1, 1000):
        base = os.path.join(dest, stamp if attempt == 1 else "%s-%d" % (stamp, attempt))
        try:
            os.close(os.open(base + ".reserved", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                continue
            raise
        # Held exclusively now; a run that finished earlier in the same second left its files.
        if any(os.path.exists("%s.%s" % (base, fmt)) for fmt in RENDERERS):
            os.unlink(base + ".reserved")
            continue
        return base
    raise OSError(errno.EEXIST, "no free report name for %s under %s" % (stamp, dest))


def write(report, dest, formats, now):
    """Write the report in each format atomically; returns ``{format: path}``. Raises OSError."""
    if not os.path.isdir(dest):
        os.makedirs(dest)
    base = report_base(dest, report["cadence"], now)
    files = {}
    try:
        for fmt in formats:
            path = "%s.%s" % (base, fmt)
            atomic_write(path, RENDERERS[fmt](report))
            files[fmt] = path
    finally:
        os.unlink(base + ".reserved")
    return files
