# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The access area's checks: the table (data) and the verdicts over a week of the front door's log.

Unusual volume against the earlier weeks is a trend check (``trends/request_volume``, judged on the
controller from the history of ``access.requests_per_hour``). Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable, fmt_number
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import iso

INT = {"type": "int"}
CHECKS = CheckTable(
    Check("access_log", "Whether each access log could be read and is in nginx's combined format.",
          subject=("path",), fix="give the front door's access_log path (combined format) and read it as root (become: true)"),
    Check("unauthorized_burst", "The most 401 answers in one minute of the window: a client trying keys, or one "
          "left with a revoked key.", thresholds=(("unauthorized_burst_warn_per_min", 20, INT),), unit=" per minute",
          fix="see which client it was (the fact's unauthorized_minutes); block it at the firewall or the nginx site, "
              "or give the client its new key",
          reads=("unauthorized_peak_per_min",)),
    Check("server_error_rate", "The share of requests the front door answered with a 5xx (the runner down, slow or "
          "crashing behind it).", thresholds=(("server_error_warn_pct", 1.0), ("server_error_crit_pct", 5.0),
                                              ("server_error_min_requests", 50, INT)), unit=" %",
          fix="read the nginx error log and the runner's journal for the hours with 5xx (502: runner down, 504: "
              "slower than proxy_read_timeout)",
          reads=("server_errors_pct",)),
    Check("unknown_clients", "Client addresses outside the known networks (known_clients) that reached the front door.",
          thresholds=(("unknown_clients_warn", 1, INT),),
          fix="if they should not reach it, close the door to them (firewall, allow/deny in the nginx site, tailnet ACL); "
              "if they should, add their network to known_clients",
          reads=("unknown_clients",)),
)


def _by_path(data):
    """``{log path: [file results]}``: each log given with its rotated files."""
    groups = dict((path, []) for path in data.get("log_paths") or [])
    for result in data.get("files") or []:
        owners = sorted((p for p in groups if result["path"].startswith(p)), key=len)
        if owners:
            groups[owners[-1]].append(result)
    return groups


def log_checks(data):
    """One ``access_log`` result per log path: read (ok), not read (unknown), or in another format (unknown)."""
    row = CHECKS["access_log"]
    results = []
    for path, files in sorted(_by_path(data).items()):
        read = [f for f in files if f["error"] is None]
        if not read:
            why = "; ".join("%s: %s" % (f["path"], f["error"]) for f in files) or "%s: no such file" % path
            results.append(row.unknown(why, subject={"path": path}))
            continue
        lines = sum(f["lines"] for f in read)
        parsed = sum(f["parsed"] for f in read)
        if lines and not parsed:
            results.append(row.unknown("%s: none of its %d lines is in nginx's combined format" % (path, lines),
                                       subject={"path": path}, fix="set the front door's access_log to the combined format"))
            continue
        other = lines - parsed
        unread = ["%s: %s" % (f["path"], f["error"]) for f in files if f["error"]]
        message = "%s: %d request(s) in the window from %d file(s)%s%s" % (
            path, sum(f["in_window"] for f in read), len(read),
            "; %d line(s) in another format left out" % other if other else "",
            "; not read: %s" % ", ".join(unread) if unread else "")
        results.append(row.result("ok", parsed, None, message, subject={"path": path}))
    return results


def burst_check(data, limits):
    row = CHECKS["unauthorized_burst"]
    peak = data.get("unauthorized_peak_per_min") or 0
    limit = limits["unauthorized_burst_warn_per_min"]
    if peak >= limit:
        worst = data["unauthorized_minutes"][0]
        message = "%d answers 401 in the minute from %s, most to %s (warning at %d per minute; %d in the window)" % (
            peak, iso(worst["minute_epoch"]), worst["top_client"], limit, data.get("unauthorized") or 0)
        return row.result("warn", peak, limit, message)
    return row.result("ok", peak, limit, "at most %d answers 401 in a minute (%d in the window)" % (peak, data.get("unauthorized") or 0))


def server_error_check(data, limits):
    row = CHECKS["server_error_rate"]
    requests, errors = data.get("requests") or 0, data.get("server_errors") or 0
    if requests < limits["server_error_min_requests"]:
        if errors:
            return row.result("warn", data.get("server_errors_pct"), None, "%d of %d request(s) answered 5xx (too few "
                              "requests for a rate)" % (errors, requests))
        return row.result("ok", data.get("server_errors_pct"), None, "no 5xx in %d request(s)" % requests)
    level = row.level(data["server_errors_pct"], limits, "the share of 5xx answers")
    level["message"] = "%s (%d of %d requests)" % (level["message"], errors, requests)
    return level


def unknown_clients_check(data, limits):
    row = CHECKS["unknown_clients"]
    count, limit = data.get("unknown_clients") or 0, limits["unknown_clients_warn"]
    if count >= limit and count:
        listed = ", ".join("%s (%d requests, %d answered 2xx, %d x 401)" % (
            c["client"], c["requests"], c["ok_2xx"], c["unauthorized"]) for c in data.get("unknown_client_list") or [])
        return row.result("warn", count, limit, "%d client address(es) outside the known networks reached the front door: "
                                                "%s%s" % (count, listed, ", ..." if count > len(data.get("unknown_client_list") or []) else ""))
    return row.result("ok", count, limit, "%d client address(es), %s outside the known networks" % (
        data.get("clients") or 0, fmt_number(count) if count else "none"))


def evaluate(data, params):
    """Every check of the access area; the request checks are unknown when no log could be read."""
    results = log_checks(data)
    if not any(r["status"] == "ok" for r in results):
        reason = "no access log could be read (see access_log)" if results else "no access log given (log_paths)"
        for name in ("unauthorized_burst", "server_error_rate", "unknown_clients"):
            results.append(CHECKS[name].unknown(reason, fix=CHECKS["access_log"].fix))
        return results
    limits = params["thresholds"]
    results.extend([burst_check(data, limits), server_error_check(data, limits), unknown_clients_check(data, limits)])
    return results
