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
