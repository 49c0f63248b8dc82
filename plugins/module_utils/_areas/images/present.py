# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the images area is shown: one summary line for the pin audit. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def summary_lines(fact):
    """Summary lines of the ``gpufleet_images`` fact (the monthly image audit)."""
    entries = fact.get("entries") or []
    if not entries:
        return ["images: %s" % ((fact.get("checks") or [{}])[0].get("message") or "nothing audited")]
    counts = {}
    for entry in entries:
        counts[entry.get("status")] = counts.get(entry.get("status"), 0) + 1
    updates = len([e for e in entries if e.get("update_available")])
    return ["images: %d pinned (%s)%s" % (
        len(entries), ", ".join("%d %s" % (counts[k], k) for k in sorted(counts)),
        ", %d with an update upstream" % updates if updates else "")]
