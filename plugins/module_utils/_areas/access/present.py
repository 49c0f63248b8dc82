# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the access area is shown: one summary line, and its Prometheus families. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import fmt_number


def summary_lines(fact):
    """Summary lines of the ``gpufleet_access`` fact (the weekly access review)."""
    if not any(c.get("check") == "access_log" and c.get("status") == "ok" for c in fact.get("checks") or []):
        return ["access: no access log read (%s)" % (", ".join(fact.get("log_paths") or []) or "none given")]
    classes = fact.get("status_classes") or {}
    return ["access: %d requests in %s days (%s per hour, peak %d), 4xx %d, 5xx %d (%s %%), 401 peak %d per minute, "
            "%d unknown client(s)" % (
                fact.get("requests") or 0, fmt_number((fact.get("window") or {}).get("days") or 0),
                fmt_number(fact.get("requests_per_hour") or 0), fact.get("peak_requests_per_hour") or 0,
                classes.get("4xx", 0), classes.get("5xx", 0), fmt_number(fact.get("server_errors_pct") or 0),
                fact.get("unauthorized_peak_per_min") or 0, fact.get("unknown_clients") or 0)]


def metrics(fact, fam):
    """The week's front door in Prometheus families (base units: ratios 0..1; nothing for a log not read)."""
    fact = fact or {}
    if not any(c.get("check") == "access_log" and c.get("status") == "ok" for c in fact.get("checks") or []):
        return
    pct = fact.get("server_errors_pct")
    fam.add("gpufleet_access_requests_per_hour", "Requests per hour at the front door over the review window.", "gauge",
            {}, fact.get("requests_per_hour"))
    fam.add("gpufleet_access_server_errors_ratio", "Share of the window's requests answered 5xx (0..1).", "gauge",
            {}, None if pct is None else pct / 100.0)
    fam.add("gpufleet_access_unauthorized_peak_per_minute", "The most 401 answers in one minute of the window.", "gauge",
            {}, fact.get("unauthorized_peak_per_min"))
    fam.add("gpufleet_access_unknown_clients", "Client addresses outside the known networks in the window.", "gauge",
            {}, fact.get("unknown_clients"))
