# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end of every cadence run in one pass on the controller: record → query → sections →
report → alerts, on one database connection.

:func:`run` is what the ``cadence_report`` action plugin calls. Nothing in it stops the others:
a damaged history costs the history row (the file is moved aside, a new one started, and a
``crit`` controller problem says so), a report that cannot be written still lets the alerts go
out, one bad alert target does not stop the other targets.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _alerts, _history, _report, _sections, _summary, _trends


def _open_and_record(path, args, now, record):
    """``(conn, history answer fields)``: the connection (or None) after recording this run."""
    fields = {"path": path, "run_id": None, "error": None, "error_status": None, "recorded": False,
              "schema_version": _history.SCHEMA_VERSION, "now": now, "moved_aside": None}
    conn = None
    try:
        conn = _history.connect(path, timeout=args["timeout_s"], readonly=not record)
        if record:
            fields["run_id"] = _history.record_run(conn, args["cadence"], now, args["hosts"], args["failed_hosts"],
                                                   args["step_failures"])
            fields["recorded"] = True
        return conn, fields
    except _history.HistoryError as exc:
        if conn is not None:
            conn.close()
            conn = None
        fields.update(error=str(exc), error_status="warn")
        if not (exc.damaged and record):
            return None, fields
    # The file is damaged: keep it for inspection, start a new one, and say so loudly.
    try:
        aside = _history.move_aside(path, now)
        conn = _history.connect(path, timeout=args["timeout_s"])
        fields["run_id"] = _history.record_run(conn, args["cadence"], now, args["hosts"], args["failed_hosts"],
                                               args["step_failures"])
        fields.update(recorded=True, moved_aside=aside, error_status="crit",
                      error="%s; it was moved aside to %s and a new history was started (trends restart from "
                            "this run): look at the old file when you have time, and check the disk it is on"
                            % (fields["error"], aside))
    except _history.HistoryError as exc:
        if conn is not None:
            conn.close()
            conn = None
        fields.update(error_status="crit", error="%s; starting a new one failed too: %s" % (fields["error"], exc))
    return conn, fields


def run(args, now, history_path, check_mode=False, poster=_alerts.post):
    """One cadence's end. ``args`` are validated by ``_action_specs.CADENCE_REPORT``.

    Returns ``{history, trends, summaries, statuses, files, report_error, status, counts, problems, charts,
    alerts, sent, emails, alert_error}`` (``summaries``: each host's summary lines, trend checks included;
    ``statuses``: each host's worst status, see :func:`summaries`);
    ``report_error`` is set when the report files could not be written (the action
    fails after the alerts went out).
    """
    record = args["record"] and not check_mode
    hosts, failed = args["hosts"], args["failed_hosts"]
    conn, history = _open_and_record(history_path, args, now, record)
    try:
        answer = dict(history)
        if conn is not None:
            try:
                answer.update(_history.query(
                    conn, set(hosts) | set(failed), now, trend_metrics=args["trend_metrics"],
                    trend_days=args["trend_days"], maxima_days=args["maxima_days"],
                    incidents_days=args["incidents_days"], energy_days=args["energy_days"],
                    energy_price_per_kwh=float(args["section_options"].get("energy_price_per_kwh") or 0.0)))
            except _history.HistoryError as exc:
                answer.update(error=str(exc), error_status="warn")
        hosts = _with_trend_checks(conn, args, hosts, now, answer)
        for key in ("trends", "maxima", "incidents", "energy", "last"):
            answer.setdefault(key, [] if key == "trends" else {})
        options = dict(args["section_options"], trend_metrics=args["trend_metrics"])
        sections = _sections.sections(args["cadence"], answer, hosts, options)
        if answer.get("trend_waiting"):
            sections.append({"title": "Trend checks waiting for history (not a verdict yet)",
                             "lines": ["%s %s" % (host, check["message"]) for host in sorted(answer["trend_waiting"])
                                       for check in answer["trend_waiting"][host]]})
        controller = _sections.controller_checks(args["cadence"], now)
        if controller:
            sections.append({"title": "The collection's compatibility data", "lines": _sections.check_lines(controller)})
        report = _report.build(args["cadence"], now, hosts, failed, answer, args["charts"], sections,
                               check_mode=check_mode, step_failures=args["step_failures"],
                               controller_checks=controller)
        files, report_error = {}, None
        try:
            files = _report.write(report, args["dest"], args["formats"], now)
        except (IOError, OSError) as exc:
            report_error = ("writing the %s report under %s: %s: set gpufleet_report_dir to a writable directory "
                            "with free space" % (args["cadence"], args["dest"], exc))
        alerts, sent, emails, alert_error = _decide_and_send(conn, args, report, files, now, check_mode, poster)
    finally:
        if conn is not None:
            conn.close()
    lines, statuses = summaries(hosts, args["step_failures"])
    return {"history": answer, "trends": answer.get("trend_facts") or {}, "summaries": lines, "statuses": statuses,
            "files": files, "report_error": report_error,
            "status": report["status"],
            "counts": report["counts"], "problems": report["problems"], "charts": _report.drawn_charts(report),
            "alerts": alerts, "sent": sent, "emails": emails, "alert_error": alert_error}


def _with_trend_checks(conn, args, hosts, now, answer):
    """``hosts`` with a ``gpufleet_trends`` fact where the enabled trend checks have history (and those
    checks added to this run in the history), so the report, the summary and the alerts take them like
    the checks of any area. Without a history the hosts are returned as they are (the history problem says why)."""
    if not args["trend_checks"] or conn is None:
        return hosts
    try:
        rows = _history.query(conn, hosts, now, trend_metrics=_trends.patterns(args["trend_checks"]),
                              trend_days=args["trend_check_days"])["trends"]
        waiting = {}
        found = _trends.facts(rows, hosts, args["trend_checks"], args["trend_thresholds"], now, args["trend_check_days"],
                              waiting=waiting)
        answer["trend_waiting"] = waiting
        if found and answer.get("run_id") is not None:
            _history.record_checks(conn, answer["run_id"], now, dict((h, {_trends.FACT: f}) for h, f in found.items()))
    except _history.HistoryError as exc:
        answer.update(error="trend checks: %s" % exc, error_status="warn")
        return hosts
    answer["trend_facts"] = found
    result = dict(hosts)
    for host, fact in found.items():
        result[host] = dict(hosts[host] or {}, **{_trends.FACT: fact})
    return result


def _decide_and_send(conn, args, report, files, now, check_mode, poster):
    if not args["alert_targets"]:
        return [], [], [], None
    errors = _alerts.validate_targets(args["alert_targets"])
    if errors:
        return [], [], [], "gpufleet_alert_webhooks: %s" % "; ".join(errors)
    alert_error = None
    state = {}
    if conn is not None:
        try:
            state = _history.alert_state(conn)
        except _history.HistoryError as exc:
            alert_error = "alert state not available, every problem counts as new: %s" % exc
    else:
        alert_error = "alert state not available (no history), every problem counts as new"
    checked = set(args["hosts"]) | set(args["failed_hosts"]) | set(["controller"])
    alerts, new_state = _alerts.decide(state, _alerts.keyed(report["problems"]), checked, now,
                                       args["alert_repeat_hours"], checked_areas=_alerts.looked_at(report))
    sent, emails = [], []
    if alerts and not check_mode:
        link = files.get("html") or (list(files.values())[0] if files else None)
        sent, emails = _alerts.send(args["alert_targets"], alerts, args["cadence"], link, args["timeout_s"], poster)
    if conn is not None and not check_mode and all(s["ok"] for s in sent):
        try:
            _history.save_alert_state(conn, new_state)
        except _history.HistoryError as exc:
            alert_error = "alert state not saved: %s" % exc
    return alerts, sent, emails, alert_error


def summaries(hosts, step_failures=None):
    """``({host: summary lines}, {host: status})`` of the reached hosts (``hosts``: their ``gpufleet_*`` facts,
    trend checks included), one summary per host.

    The lines: a host whose step failed (``step_failures``, ``{host: "task: message"}``) is CRIT with a
    ``step_failed`` line, as in the report (``run/step_failed``), above the facts it gathered before. The
    status (``ok|unknown|warn|crit``, as the ``health_summary`` filter gives it) leaves the failed step out:
    the role fails such a host for its step (``fleet_report_fail_failed_steps``). The role's verdict reads
    the statuses, so a run that fails hosts on request summarises each host here, not again in a task per host."""
    step_failures = step_failures or {}
    lines, statuses = {}, {}
    for host, facts in hosts.items():
        facts = dict(facts or {})
        summary = _summary.summary(facts)
        statuses[host] = summary["status"]
        if step_failures.get(host):
            facts["gpufleet_run"] = {"status": "crit", "checks": [_report.step_failed_check(step_failures[host])]}
            summary = _summary.summary(facts)
        lines[host] = summary["lines"]
    return lines, statuses
