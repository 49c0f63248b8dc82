# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the vram_guard area is shown: one summary line. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.vram_guard.checks import label, pct, service_label


def summary_lines(fact):
    """Summary lines of ``gpufleet_vram_guard``."""
    if fact.get("restarts"):
        return ["vram guard: %s" % "; ".join(
            "%s %s" % (service_label(r), "failed: %s" % r["error"] if r.get("error")
                       else ("restarted" if r.get("restarted") else "would restart")) for r in fact["restarts"])]
    if fact.get("stayed"):
        return ["vram guard: VRAM stayed exhausted on %s, nothing restarted" % ", ".join(label(r) for r in fact["stayed"])]
    if not fact.get("gpus"):
        return ["vram guard: no GPU reading, nothing to guard"]
    return ["vram guard: no restart needed (threshold %s)" % pct(fact.get("threshold_pct"))]
