# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vram_guard area's check: did a GPU's VRAM stay exhausted, and what was done about it.

The decisions themselves (which GPUs stayed, which fell) are made by ``_ops/vram_guard.py``; this
file turns them into the ``vram_exhaustion`` results. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable, fmt_number

CHECKS = CheckTable(
    Check("vram_exhaustion", "A GPU whose VRAM stayed at or above the threshold across two readings, and the restart "
                             "of the inference service it caused.",
          subject=("gpu",), or_host=True, thresholds=(("threshold_pct", 95),), unit=" %",
          fix="if it recurs, look for a leak or a model too big for the card",
          reads=("gpus[].used_pct", "stayed[].second_pct", "fell[].second_pct")),
)


FIX_UNREAD = ("nothing is restarted for a GPU that cannot be read: see the gpu area's checks of this host "
              "(gpu_present, gpu_lost) for why")


def label(reading):
    return "%s GPU %s" % ("NVIDIA" if reading.get("vendor") == "nvidia" else "AMD", reading.get("gpu"))


def pct(value):
    try:
        return "%s %%" % fmt_number(float(value))
    except (TypeError, ValueError):
        return "n/a"


def service_label(service):
    return "%s (%s)" % (service["name"], service.get("kind", "systemd"))


def evaluate(data, params):
    """``vram_exhaustion`` results of one guard run.

    ``data``: the fact's ``gpus`` (first reading), ``stayed``, ``fell``, ``restarts``, ``threshold_pct``
    and ``recheck_s``; ``params``: ``services`` (configured), ``gpu_present`` (whether any GPU tooling
    answered), ``check_mode`` and ``unread`` (why the GPUs could not be read, or None). What could not
    be read is ``unknown``, never "nothing to guard"; the decisions themselves do not change.
    """
    check = CHECKS["vram_exhaustion"]
    threshold, recheck_s = data["threshold_pct"], data["recheck_s"]
    first, stayed, fell, restarts = data["gpus"], data["stayed"], data["fell"], data["restarts"]
    results = []
    if not params["gpu_present"] and params.get("unread"):
        results.append(check.unknown("the GPUs could not be read (%s)" % params["unread"], threshold=threshold,
                                     fix=FIX_UNREAD))
    elif not params["gpu_present"]:
        results.append(check.result("ok", None, threshold, "no GPU found: nothing to guard"))
    elif not stayed and not fell:
        shown = ", ".join("%s %s" % (label(r), pct(r["used_pct"])) for r in first) or "no VRAM reading"
        known = [r["used_pct"] for r in first if r.get("used_pct") is not None]
        results.append(check.result("ok", max(known) if known else None, threshold,
                                    "VRAM below %s on every GPU (%s)" % (pct(threshold), shown)))
    for reading in first:
        if reading.get("used_pct") is None:
            results.append(check.unknown("%s does not report its VRAM use" % label(reading), threshold=threshold,
                                         subject={"gpu": reading["gpu"]}, fix=FIX_UNREAD, vendor=reading["vendor"]))
    for reading in fell:
        if reading["second_pct"] is None:
            again = "%s VRAM was %s and could not be read again after %d s" % (
                label(reading), pct(reading["first_pct"]), recheck_s)
            results.append(check.unknown(
                again,
                value=reading["first_pct"], threshold=threshold, subject={"gpu": reading["gpu"]}, fix=FIX_UNREAD,
                vendor=reading["vendor"]))
            continue
        results.append(check.result(
            "ok", reading["second_pct"], threshold,
            "%s VRAM was %s and fell to %s within %d s: a busy runner, nothing restarted"
            % (label(reading), pct(reading["first_pct"]), pct(reading["second_pct"]), recheck_s),
            subject={"gpu": reading["gpu"]}, vendor=reading["vendor"]))
    failed = [r for r in restarts if r.get("error")]
    done = [r for r in restarts if not r.get("error")]
    for reading in stayed:
        what = "%s VRAM stayed at or above %s for %d s (%s, then %s)" % (
            label(reading), pct(threshold), recheck_s, pct(reading["first_pct"]), pct(reading["second_pct"])) \
            if reading["second_pct"] is not None else "%s VRAM is %s (at or above %s)" % (
                label(reading), pct(reading["first_pct"]), pct(threshold))
        value = reading["second_pct"] if reading["second_pct"] is not None else reading["first_pct"]
        ident = dict(subject={"gpu": reading["gpu"]}, vendor=reading["vendor"])
        if not params["services"]:
            results.append(check.result(
                "crit", value, threshold, "%s and no service is configured to restart" % what,
                fix="find the process holding the memory (nvidia-smi / amd-smi process) and set "
                    "gpufleet_vram_restart_services", **ident))
        elif failed:
            results.append(check.result(
                "crit", value, threshold, "%s; restarting failed: %s" % (
                    what, "; ".join("%s: %s" % (service_label(r), r["error"]) for r in failed)),
                fix="restart it by hand and read its log", **ident))
        else:
            verb = "would restart" if params["check_mode"] else "restarted"
            results.append(check.result(
                "warn", value, threshold, "%s: %s %s; %s" % (what, verb, ", ".join(service_label(r) for r in done),
                                                             check.fix),
                fix="", **ident))
    return results
