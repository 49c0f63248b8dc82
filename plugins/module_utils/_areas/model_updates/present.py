# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the model_updates area is shown: one summary line. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def summary_lines(fact):
    """Summary lines of the ``gpufleet_model_updates`` fact (the weekly model update check)."""
    checks = [c for c in fact.get("checks") or [] if c.get("check") == "model_update_available"]
    if not checks:
        audit = [c for c in fact.get("checks") or [] if c.get("check") == "model_update_audit"]
        return ["model updates: %s" % (audit[0].get("message") if audit else "nothing compared")]
    newer = [c["subject"]["model"] for c in checks if c.get("status") == "warn"]
    unknown = [c["subject"]["model"] for c in checks if c.get("status") == "unknown"]
    parts = ["%d compared" % len(checks)]
    if newer:
        parts.append("newer upstream: %s (read the changelog before switching)" % ", ".join(newer))
    if unknown:
        parts.append("not compared: %s" % ", ".join(unknown))
    if not newer and not unknown:
        parts.append("all current")
    return ["model updates: %s" % "; ".join(parts)]


def metrics(fact, fam):
    """Per model compared: 1 when a newer version is upstream, 0 when not; nothing for a model not compared."""
    for check in (fact or {}).get("checks") or []:
        if check.get("check") != "model_update_available" or check.get("status") not in ("ok", "warn"):
            continue
        fam.add("gpufleet_model_update_available", "1 when upstream serves a newer version of the model (read the "
                "changelog before switching), 0 when it serves the one on the host.", "gauge",
                {"model": check["subject"]["model"], "source": check.get("source")}, 1 if check["status"] == "warn" else 0)
