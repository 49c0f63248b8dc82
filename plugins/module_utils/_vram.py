# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``gpufleet_vram_guard``: restart the inference service only when VRAM *stays* exhausted.

A runner that leaks VRAM (or a model loaded twice) leaves every GPU near 100 % until someone
restarts it; a runner that is merely busy peaks for a few seconds. So the guard reads the GPUs,
and only when a GPU is at or above the threshold reads them again after ``recheck_s`` seconds:
a GPU still at or above the threshold both times "stayed", and only then are the configured
services restarted. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import make_check, worst_status

SCHEMA_VERSION = 1
SERVICE_KINDS = ("systemd", "container")
# vendor -> the key of a GPU's VRAM use in the gpufleet_gpu fact
_USED_KEY = {"nvidia": "memory_used_pct", "amd": "vram_used_pct"}


def validate(threshold_pct, recheck_s, services):
    """Problems with the options the argument spec cannot express (a list of strings, empty when fine).

    ``services`` entries are ``{name, kind}`` as the argument spec leaves them (name given, kind one
    of SERVICE_KINDS).
    """
    problems = []
    if threshold_pct is None or not 0 < threshold_pct <= 100:
        problems.append("threshold_pct must be above 0 and at most 100, got %s" % threshold_pct)
    if recheck_s is None or not 0 <= recheck_s <= 3600:
        problems.append("recheck_s must be between 0 and 3600 seconds, got %s" % recheck_s)
    seen = set()
    for service in services or []:
        name = service["name"].strip()
        if not name:
            problems.append("services: every entry needs a name")
            continue
        key = (service.get("kind") or "systemd", name)
        if key in seen:
            problems.append("services: %s (%s) is listed twice" % (name, key[0]))
        seen.add(key)
    return problems


def gpu_readings(fact):
    """Every GPU of a ``gpufleet_gpu`` fact: ``[{vendor, gpu, name, used_pct}]`` (``used_pct`` may be None)."""
    readings = []
    for vendor in ("nvidia", "amd"):
        for gpu in ((fact or {}).get(vendor) or {}).get("gpus") or []:
            readings.append({"vendor": vendor, "gpu": gpu.get("index"), "name": gpu.get("name"),
                             "used_pct": gpu.get(_USED_KEY[vendor])})
    return readings


def gpu_present(fact):
    """Whether a ``gpufleet_gpu`` fact found NVIDIA or AMD GPU tooling."""
    fact = fact or {}
    return bool((fact.get("nvidia") or {}).get("present") or (fact.get("amd") or {}).get("present"))


def exhausted(readings, threshold_pct):
    """The readings at or above ``threshold_pct`` (a GPU that reports no VRAM use never counts)."""
    return [r for r in readings if r.get("used_pct") is not None and r["used_pct"] >= threshold_pct]


def _key(reading):
    return (reading.get("vendor"), reading.get("gpu"))


def decide(first, second, threshold_pct):
    """Compare two readings of the GPUs; returns ``{stayed, fell}``.

    ``first`` and ``second`` are ``gpu_readings`` lists (``second`` is None when no second look was
    taken, i.e. ``recheck_s`` is 0: then every exhausted GPU counts as stayed). ``stayed`` lists
    the GPUs exhausted in both, with ``first_pct`` and ``second_pct``; ``fell`` the ones that
    were exhausted at first and no longer are (or vanished).
    """
    high = exhausted(first, threshold_pct)
    if second is None:
        return {"stayed": [dict(r, first_pct=r["used_pct"], second_pct=None) for r in high], "fell": []}
    later = dict((_key(r), r) for r in second)
    stayed, fell = [], []
    for reading in high:
        again = later.get(_key(reading))
        now = again.get("used_pct") if again else None
        entry = dict(reading, first_pct=reading["used_pct"], second_pct=now)
        entry["used_pct"] = now
        if now is not None and now >= threshold_pct:
            stayed.append(entry)
        else:
            fell.append(entry)
    return {"stayed": stayed, "fell": fell}


def _label(reading):
    return "%s GPU %s" % ("NVIDIA" if reading.get("vendor") == "nvidia" else "AMD", reading.get("gpu"))


def _pct(value):
    try:
        return ("%.1f" % float(value)).rstrip("0").rstrip(".") + " %"
    except (TypeError, ValueError):
        return "n/a"


def _service_label(service):
    return "%s (%s)" % (service["name"], service.get("kind", "systemd"))


def build_fact(first, decision, restarts, threshold_pct, recheck_s, services, gpu_present, check_mode=False):
    """The ``gpufleet_vram_guard`` fact with its checks.

    ``restarts``: ``[{name, kind, restarted, error}]`` of the services acted on (empty when none
    was restarted); ``gpu_present``: whether any GPU tooling answered.
    """
    checks = []
    threshold = threshold_pct
    if not gpu_present:
        checks.append(make_check("vram_exhaustion", "ok", None, threshold,
                                 "no GPU found: nothing to guard"))
    elif not decision["stayed"] and not decision["fell"]:
        shown = ", ".join("%s %s" % (_label(r), _pct(r["used_pct"])) for r in first) or "no VRAM reading"
        known = [r["used_pct"] for r in first if r.get("used_pct") is not None]
        top = max(known) if known else None
        checks.append(make_check("vram_exhaustion", "ok", top, threshold,
                                 "VRAM below %s on every GPU (%s)" % (_pct(threshold), shown)))
    for reading in decision["fell"]:
        checks.append(make_check(
            "vram_exhaustion", "ok", reading["second_pct"], threshold,
            "%s VRAM was %s and fell to %s within %d s: a busy runner, nothing restarted"
            % (_label(reading), _pct(reading["first_pct"]), _pct(reading["second_pct"]), recheck_s),
            gpu=reading["gpu"], vendor=reading["vendor"]))
    failed = [r for r in restarts if r.get("error")]
    done = [r for r in restarts if not r.get("error")]
    for reading in decision["stayed"]:
        stayed = "%s VRAM stayed at or above %s for %d s (%s, then %s)" % (
            _label(reading), _pct(threshold), recheck_s, _pct(reading["first_pct"]), _pct(reading["second_pct"])) \
            if reading["second_pct"] is not None else "%s VRAM is %s (at or above %s)" % (
                _label(reading), _pct(reading["first_pct"]), _pct(threshold))
        ident = dict(gpu=reading["gpu"], vendor=reading["vendor"])
        value = reading["second_pct"] if reading["second_pct"] is not None else reading["first_pct"]
        if not services:
            checks.append(make_check("vram_exhaustion", "crit", value, threshold,
                                     "%s and no service is configured to restart: find the process holding the "
                                     "memory (nvidia-smi / amd-smi process) and set gpufleet_vram_restart_services" % stayed,
                                     **ident))
        elif failed:
            checks.append(make_check("vram_exhaustion", "crit", value, threshold,
                                     "%s; restarting failed: %s: restart it by hand and read its log" % (
                                         stayed, "; ".join("%s: %s" % (_service_label(r), r["error"]) for r in failed)),
                                     **ident))
        else:
            verb = "would restart" if check_mode else "restarted"
            checks.append(make_check("vram_exhaustion", "warn", value, threshold,
                                     "%s: %s %s; if it recurs, look for a leak or a model too big for the card"
                                     % (stayed, verb, ", ".join(_service_label(r) for r in done)), **ident))
    return {
        "schema_version": SCHEMA_VERSION,
        "threshold_pct": threshold_pct,
        "recheck_s": recheck_s,
        "gpus": first,
        "stayed": decision["stayed"],
        "fell": decision["fell"],
        "restarts": restarts,
        "checks": checks,
        "status": worst_status(checks),
    }


def summary_section(fact):
    """Summary lines of ``gpufleet_vram_guard``."""
    if fact.get("restarts"):
        return ["vram guard: %s" % "; ".join(
            "%s %s" % (_service_label(r), "failed: %s" % r["error"] if r.get("error")
                       else ("restarted" if r.get("restarted") else "would restart")) for r in fact["restarts"])]
    if fact.get("stayed"):
        return ["vram guard: VRAM stayed exhausted on %s, nothing restarted" % ", ".join(_label(r) for r in fact["stayed"])]
    if not fact.get("gpus"):
        return ["vram guard: no GPU reading, nothing to guard"]
    return ["vram guard: no restart needed (threshold %s)" % _pct(fact.get("threshold_pct"))]
