# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the tls area is shown: one summary line per front door. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import with_unit


def summary_lines(fact):
    lines = []
    for entry in fact.get("endpoints") or []:
        if entry.get("days_left") is None:
            lines.append("tls %s: no certificate expiry read (%s)" % (entry.get("endpoint"), entry.get("error")))
        else:
            lines.append("tls %s: expires %s (%s left)" % (entry.get("endpoint"), entry.get("not_after"),
                                                            with_unit(entry.get("days_left"), " days")))
    return lines or ["tls: no endpoints checked"]


def metrics(fact, fam):
    for entry in fact.get("endpoints") or []:
        days = entry.get("days_left")
        fam.add("gpufleet_tls_certificate_expiry_seconds", "Time until a front door's TLS certificate expires.", "gauge",
                {"endpoint": entry.get("endpoint")}, None if days is None else days * 86400)
