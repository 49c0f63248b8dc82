# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alert decisions: what to send after a run, given the saved alert state.

An alert goes out when a check's status changes (new warn/crit, crit → warn, back to ok), and for a
check that is still ``crit`` once per ``repeat_hours``. Nothing else repeats. Pure functions, no
Ansible import; the ``alerts`` action plugin sends what :func:`decide` returns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import status_rank

TARGET_TYPES = ("webhook", "slack", "email")


def alert_key(area, check, subject=""):
    return "%s/%s/%s" % (area, check, subject or "")


def current_problems(hosts, failed_hosts=None):
    """``{host: {gpufleet_x: fact}}`` (+ failed hosts) → ``{(host, key): {status, message}}`` of non-ok checks."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._history import extract_checks
    problems = {}
    for host in sorted(hosts):
        for area, name, subject, status, _value, message in extract_checks(hosts[host] or {}):
            if status != "ok":
                key = (host, alert_key(area, name, subject))
                if status_rank(status) >= status_rank(problems.get(key, {}).get("status", "ok")):
                    problems[key] = {"status": status, "message": message}
    for host in sorted(failed_hosts or {}):
        reason = failed_hosts.get(host) if isinstance(failed_hosts, dict) else None
        problems[(host, alert_key("run", "reachable"))] = {
            "status": "crit", "message": reason or "the host failed or was unreachable during the run: check that "
                                                   "it is up and that SSH and Python work on it"}
    return problems


def decide(state, problems, checked_hosts, now, repeat_hours):
    """Return ``(alerts, new_state)``.

    ``state`` and ``problems`` are keyed by ``(host, key)``; ``checked_hosts`` are the hosts this
    run looked at (failed ones included): a saved problem of such a host that is gone now is
    resolved; saved problems of other hosts are kept untouched.
    """
    if repeat_hours is None or repeat_hours < 0:
        raise ValueError("repeat_hours must be a number of hours >= 0, got %r" % (repeat_hours,))
    alerts = []
    new_state = {}
    checked = set(checked_hosts)
    for key in sorted(problems):
        current = problems[key]
        previous = state.get(key)
        entry = {"status": current["status"], "message": current["message"],
                 "changed_at": now, "sent_at": now}
        reason = None
        if previous is None:
            reason = "new"
        elif previous["status"] != current["status"]:
            reason = "changed"
        else:
            entry["changed_at"] = previous["changed_at"]
            entry["sent_at"] = previous.get("sent_at")
            last = previous.get("sent_at")
            if current["status"] == "crit" and (last is None or now - last >= repeat_hours * 3600.0):
                reason = "still_crit"
                entry["sent_at"] = now
        if reason:
            alerts.append({"host": key[0], "key": key[1], "status": current["status"],
                           "previous": previous["status"] if previous else "ok",
                           "reason": reason, "message": current["message"]})
        new_state[key] = entry
    for key in sorted(state):
        if key in problems:
            continue
        if key[0] in checked:
            alerts.append({"host": key[0], "key": key[1], "status": "ok", "previous": state[key]["status"],
                           "reason": "resolved", "message": "%s is ok again" % key[1]})
        else:
            new_state[key] = state[key]
    alerts.sort(key=lambda a: (-status_rank(a["status"]), a["host"], a["key"]))
    return alerts, new_state


def summary_text(alerts, cadence, report_path=None):
    lines = ["gpufleet %s run: %d alert(s)" % (cadence, len(alerts))]
    for alert in alerts:
        lines.append("[%s] %s %s (%s, was %s): %s" % (
            alert["status"].upper(), alert["host"], alert["key"], alert["reason"].replace("_", " "),
            alert["previous"], alert["message"]))
    if report_path:
        lines.append("report: %s" % report_path)
    return "\n".join(lines)


def payload(target_type, alerts, cadence, report_path=None):
    """The body for one target: generic JSON, a Slack-compatible ``{"text"}``, or mail subject/body."""
    if target_type == "webhook":
        return {"source": "gpufleet.maintenance", "cadence": cadence, "report": report_path, "alerts": alerts}
    if target_type == "slack":
        return {"text": summary_text(alerts, cadence, report_path)}
    if target_type == "email":
        worst = "OK"
        for alert in alerts:
            if status_rank(alert["status"]) > status_rank(worst.lower()):
                worst = alert["status"].upper()
        return {"subject": "[gpufleet %s] %s: %d alert(s)" % (cadence, worst, len(alerts)),
                "body": summary_text(alerts, cadence, report_path)}
    raise ValueError("alert target type must be one of %s, not %r" % (", ".join(TARGET_TYPES), target_type))


def validate_targets(targets):
    """Return a list of error messages for malformed targets (never echoing secrets)."""
    errors = []
    for position, target in enumerate(targets or []):
        if not isinstance(target, dict):
            errors.append("target %d is not a dict" % position)
            continue
        kind = target.get("type", "webhook")
        if kind not in TARGET_TYPES:
            errors.append("target %d (%s): type must be one of %s" % (
                position, target.get("name", "unnamed"), ", ".join(TARGET_TYPES)))
        elif kind in ("webhook", "slack") and not str(target.get("url", "")).startswith(("http://", "https://")):
            errors.append("target %d (%s): url must start with http:// or https://" % (position, target.get("name", "unnamed")))
        elif kind == "email" and not target.get("to"):
            errors.append("target %d (%s): email targets need 'to'" % (position, target.get("name", "unnamed")))
    return errors


# The options of the alerts action plugin; its documentation stub module declares the same ones.
ARGUMENT_SPEC = dict(
    targets=dict(type="list", elements="dict", default=[], no_log=True),
    cadence=dict(type="str", required=True),
    hosts=dict(type="dict", default={}),
    failed_hosts=dict(type="dict", default={}),
    history_path=dict(type="path"),
    repeat_hours=dict(type="float", default=24),
    report=dict(type="str"),
    timeout_s=dict(type="float", default=10),
    now=dict(type="float"),
)
