# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The short health summary of one host at the end of a cadence run, one section per area.

``summary(facts)`` takes the ``gpufleet_*`` facts a host has and returns ``{status, lines,
problems}``: the status is the worst of the areas' (``ok`` < ``unknown`` < ``warn`` < ``crit``),
the lines are a status headline, each area's summary lines in registry order, then the checks
that are not ok, worst first. Every area the registry knows has a section; a fact the registry
does not know is still counted in the status and its problems are listed. Controller-side;
pure functions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import status_rank, worst_status


def _facts_in_order(facts):
    known = [(area, facts[area.fact]) for area in registry.present_in(facts)]
    others = [(None, facts[name]) for name in sorted(facts)
              if name.startswith("gpufleet_") and registry.of_fact(name) is None and isinstance(facts[name], dict)]
    return known + others


def summary(facts):
    """``{status, lines, problems}`` of one host's ``gpufleet_*`` facts."""
    if not isinstance(facts, dict):
        raise TypeError("summary expects a dict of gpufleet_* facts, got %s" % type(facts).__name__)
    lines, statuses, problems = [], [], []
    for area, fact in _facts_in_order(facts):
        statuses.append(fact.get("status") or worst_status(fact.get("checks") or []))
        if area is not None and area.present is not None:
            lines.extend(area.present(fact))
        for check in fact.get("checks") or []:
            if isinstance(check, dict) and check.get("status") != "ok":
                problems.append(check)
    problems.sort(key=lambda check: -status_rank(check.get("status")))
    status = worst_status(statuses)
    lines.insert(0, "status: %s" % status.upper())
    for check in problems:
        lines.append("%s %s: %s" % (str(check.get("status", "")).upper(), check.get("check"), check.get("message")))
    return {"status": status, "lines": lines, "problems": problems}


def summary_lines(facts):
    """The lines of :func:`summary` (a status headline, the sections, then non-ok checks)."""
    return summary(facts)["lines"]
