# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the package_pin area is shown: one summary line per held package. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def summary_lines(fact):
    lines = []
    for entry in fact.get("packages") or []:
        held = "held" if entry.get("held_after") else "NOT held"
        line = "pin %s %s (pinned at %s, %s)" % (entry.get("name"), entry.get("installed_version") or "not installed",
                                                 entry.get("pinned_version") or "-", held)
        if entry.get("newer_version"):
            line += ", %s available" % entry["newer_version"]
        if entry.get("drift"):
            line += ": DRIFT: %s" % entry.get("drift_reason")
        lines.append(line)
    return lines or ["pin: no package of the GPU stack is installed"]
