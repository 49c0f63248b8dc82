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

import json
import re

from ansible.module_utils.six.moves.urllib.parse import urlsplit
from ansible.module_utils.urls import open_url

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import status_rank

TARGET_TYPES = ("webhook", "slack", "email")


def alert_key(area, check, subject=""):
    """``gpu/memory_temperature/gpu=0``: the subject text keeps checks of different subjects apart."""
    return "%s/%s/%s" % (area, check, subject or "")


def keyed(problems):
    """The report's problem rows → ``{(host, key): {status, message}}`` (the worst of a key wins)."""
    result = {}
    for problem in problems:
        key = (problem["host"], alert_key(problem["area"], problem["check"], problem.get("subject")))
        if status_rank(problem["status"]) >= status_rank(result.get(key, {}).get("status", "ok")):
            result[key] = {"status": problem["status"], "message": problem.get("message") or ""}
    return result


def looked_at(report):
    """``{host: areas}`` a report's run really judged: the areas with a fact on each host (an unreachable
    host: none), ``run`` for every host, and the controller's own areas."""
    result = dict((row["host"], set(a for a, status in row["areas"].items() if status is not None) | set(["run"]))
                  for row in report.get("hosts") or [])
    result["controller"] = set(report.get("controller_areas") or ["history"])
    return result


def decide(state, problems, checked_hosts, now, repeat_hours, checked_areas=None):
    """Return ``(alerts, new_state)``.

    ``state`` and ``problems`` are keyed by ``(host, key)``; ``checked_hosts`` are the hosts this
    run looked at (failed ones included): a saved problem of such a host that is gone now is
    resolved; saved problems of other hosts are kept untouched. With ``checked_areas``
    (``{host: areas}``, :func:`looked_at`) only a saved problem whose area this run judged on that
    host is resolved: a daily run does not resolve the quarterly SMART warning it never read, nor
    an unreachable host's GPU problem.
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
        looked = key[0] in checked and (checked_areas is None
                                        or key[1].split("/", 1)[0] in checked_areas.get(key[0], ()))
        if looked:
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


def secrets_of(target):
    """The strings of a target that must never be shown: its URL, the URL's user info and password
    (and the pieces a URL parser may cut a password into at ``/``, ``?`` or ``#``), header values and
    the mail password; longest first."""
    found = set()
    url = str(target.get("url") or "")
    if url:
        found.add(url)
        rest = url.split("://", 1)[-1]
        if "@" in rest:
            userinfo = rest.rsplit("@", 1)[0]
            password = userinfo.split(":", 1)[1] if ":" in userinfo else ""
            found.update(piece for piece in [userinfo, password] + re.split(r"[/?#]", password) if len(piece) >= 3)
    found.update(str(v) for v in (target.get("headers") or {}).values() if v)
    if target.get("password"):
        found.add(str(target["password"]))
    return sorted(found, key=len, reverse=True)


def redact(text, target):
    """``text`` with every secret of ``target`` replaced by ``********``."""
    text = str(text)
    for secret in secrets_of(target):
        text = text.replace(secret, "********")
    return text


def post(name, kind, target, body, timeout):
    """POST one webhook/Slack body; never raises, and the error it returns names no secret."""
    headers = {"Content-Type": "application/json"}
    headers.update(target.get("headers") or {})
    url = str(target.get("url") or "")
    try:
        urlsplit(url).port  # a password with "/" makes the parser read a port: raises here, nothing is sent
    except ValueError:
        return {"name": name, "type": kind, "ok": False, "status": None,
                "error": "the URL cannot be parsed (a '/', '?' or '#' in the user or password must be written "
                         "%2F, %3F or %23)"}
    try:
        response = open_url(url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST",
                            timeout=timeout, validate_certs=target.get("validate_certs", True))
        return {"name": name, "type": kind, "ok": True, "status": response.getcode(), "error": None}
    except Exception as exc:  # pylint: disable=broad-except
        # One bad target (a malformed URL, a refused connection, an HTTP error) must not stop the
        # others, the report or the run; whatever the library says is shown without the secrets.
        status = getattr(exc, "code", None)
        reason = getattr(exc, "reason", None) or exc
        error = "HTTP %s %s" % (status, reason) if isinstance(status, int) else "%s: %s" % (type(exc).__name__, reason)
        return {"name": name, "type": kind, "ok": False, "status": status if isinstance(status, int) else None,
                "error": redact(error, target)}


def send(targets, alerts, cadence, report_path, timeout, poster=post):
    """Post the alerts to every webhook/Slack target; ``(sent, emails)``: the outcome of each post,
    and the mail bodies the playbook sends with community.general.mail."""
    sent, emails = [], []
    for position, target in enumerate(targets or []):
        kind = target.get("type", "webhook")
        name = target.get("name") or "%s %d" % (kind, position)
        body = payload(kind, alerts, cadence, report_path)
        if kind == "email":
            emails.append({"target": position, "name": name, "subject": body["subject"], "body": body["body"]})
            continue
        sent.append(poster(name, kind, target, body, timeout))
    return sent, emails


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
