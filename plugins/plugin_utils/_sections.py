# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The extra report sections of each cadence (weekly maxima, energy, trends, physical
checklist, incidents, upgrade decision), from the history's answers. Controller-side; pure functions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import cuda
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._report import like


def _fmt(value, digits=1):
    if value is None:
        return "n/a"
    return ("%.*f" % (digits, value)).rstrip("0").rstrip(".")


def maxima_lines(maxima):
    lines = []
    for host in sorted(maxima or {}):
        for metric in sorted(maxima[host]):
            for subject, value in sorted(maxima[host][metric].items()):
                lines.append("%s %s%s: max %s" % (host, metric, (" [%s]" % subject) if subject else "", _fmt(value)))
    return lines or ["no temperature readings in the history for this window"]


def energy_lines(energy, price, currency):
    lines = []
    total_kwh = 0.0
    for host in sorted(energy or {}):
        total_kwh += energy[host]["kwh"]
        lines.append("%s: %s kWh over %s days, %s %s" % (host, _fmt(energy[host]["kwh"], 2), energy[host]["days"],
                                                         _fmt(energy[host]["cost"], 2), currency))
    if lines:
        lines.append("fleet: %s kWh, %s %s at %s %s/kWh" % (_fmt(total_kwh, 2), _fmt(total_kwh * price, 2), currency,
                                                            _fmt(price, 3), currency))
    return lines or ["no power readings in the history for this window (energy needs the GPU facts' power draw)"]


def _version_key(text):
    return tuple(int(part) for part in re.findall(r"\d+", str(text).split("-", 1)[0])[:4])


def trend_lines(trends, rising_warn_per_30d=None, patterns=None):
    lines = []
    for trend in trends or []:
        if patterns and not any(like(p, trend.get("metric", "")) for p in patterns):
            continue
        slope = trend.get("slope_per_30d")
        note = "" if slope is None else ", %+.1f per 30 days" % slope
        if rising_warn_per_30d is not None and slope is not None and slope >= rising_warn_per_30d:
            note += " (rising: look at cooling, dust and fans)"
        lines.append("%s %s%s: last %s, max %s%s" % (trend["host"], trend["metric"],
                                                     (" [%s]" % trend["subject"]) if trend.get("subject") else "",
                                                     _fmt(trend.get("last")), _fmt(trend.get("max")), note))
    return lines


def incident_lines(incidents, past_it_crit_runs):
    lines = []
    for host in sorted(incidents or {}):
        item = incidents[host]
        past = item["crit_runs"] + item["failed_runs"] >= past_it_crit_runs
        lines.append("%s: %d run(s) critical, %d warning, %d failed%s" % (
            host, item["crit_runs"], item["warn_runs"], item["failed_runs"],
            " (past it: plan a replacement or a rebuild)" if past else ""))
    return lines or ["no runs in the history for this window"]


def version_lines(hosts, newest):
    """Compare the versions the hosts report with the collection's newest known (``newest``)."""
    lines = []
    for host in sorted(hosts or {}):
        facts = hosts[host] or {}
        kernel = (facts.get("gpufleet_host") or {}).get("kernel_release")
        driver = (facts.get("gpufleet_driver_stack") or {}).get("driver_version")
        cuda = (facts.get("gpufleet_driver_stack") or {}).get("cuda_version")
        for label, have, key in (("kernel", kernel, "kernel"), ("NVIDIA driver", driver, "nvidia_driver"),
                                 ("CUDA", cuda, "cuda")):
            known = (newest or {}).get(key) or {}
            if have is None:
                continue
            if known.get("version") and _version_key(have) < _version_key(known["version"]):
                lines.append("%s: %s %s, newest in the collection's data %s (released %s)" % (
                    host, label, have, known["version"], known.get("released", "n/a")))
            else:
                lines.append("%s: %s %s (current against the collection's data)" % (host, label, have))
    return lines or ["no version facts gathered"]


def controller_checks(cadence, now):
    """``[(area, check result)]`` the cadence judges on the controller at ``now`` (epoch seconds):
    the annual one, the age of the collection's compatibility tables (data that goes stale)."""
    if cadence != "annual":
        return []
    today = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc).date()
    return [("driver_stack", check) for check in cuda.data_age_checks(today)]


def check_lines(checks):
    """One line per ``(area, check result)``: its status and message."""
    return ["%s %s" % (check["status"].upper(), check["message"]) for _area, check in checks]


def sections(cadence, history, hosts=None, options=None):
    """The extra report sections of a cadence: ``[{title, lines}]``."""
    options = dict(options or {})
    history = dict(history or {})
    result = []
    if cadence == "weekly":
        result.append({"title": "Temperature maxima of the week", "lines": maxima_lines(history.get("maxima"))})
    if cadence == "monthly":
        result.append({"title": "Energy", "lines": energy_lines(
            history.get("energy"), options.get("energy_price_per_kwh", 0.0), options.get("currency", ""))})
        result.append({"title": "Memory-junction and temperature trends",
                       "lines": trend_lines(history.get("trends"), options.get("trend_rising_warn_per_30d"), options.get("trend_metrics"))
                       or ["no temperature history yet"]})
    if cadence == "quarterly":
        result.append({"title": "Fan speed and temperature trends (a fan working harder at the same temperature hints at dust)",
                       "lines": trend_lines(history.get("trends"), options.get("trend_rising_warn_per_30d"), options.get("trend_metrics"))
                       or ["no fan or temperature history yet"]})
        result.append({"title": "Physical checklist (to do)",
                       "lines": ["[ ] %s" % item for item in options.get("physical_checklist") or []]})
    if cadence == "annual":
        result.append({"title": "Incidents per box over the year",
                       "lines": incident_lines(history.get("incidents"), options.get("past_it_crit_runs", 12))})
        result.append({"title": "Upgrade decision: versions against the collection's data",
                       "lines": version_lines(hosts, options.get("newest_versions"))})
    return result
