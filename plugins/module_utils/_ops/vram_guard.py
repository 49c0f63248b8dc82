# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``vram_guard``: restart the inference service only when VRAM *stays* exhausted.

A runner that leaks VRAM (or a model loaded twice) leaves every GPU near 100 % until someone
restarts it; a runner that is merely busy peaks for a few seconds. So the guard reads the GPUs
(gather), and only when a GPU is at or above the threshold reads them again after ``recheck_s``
seconds: a GPU still at or above the threshold both times "stayed" (the plan), and only then are
the configured services restarted (apply; check mode stops before it). The fact is shaped by the
``vram_guard`` area (``_areas/vram_guard``). The decisions are pure functions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import docker as _docker_client
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA as GPU
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.vram_guard import build_fact
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner

# vendor -> the key of a GPU's VRAM use in the gpufleet_gpu fact
_USED_KEY = {"nvidia": "memory_used_pct", "amd": "vram_used_pct"}


def validate(threshold_pct, recheck_s, services):
    """Problems with the options the argument spec cannot express (a list of strings, empty when fine).

    ``services`` entries are ``{name, kind}`` as the argument spec leaves them (name given, kind one
    of the area's SERVICE_KINDS).
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


def unreadable(fact):
    """Why a ``gpufleet_gpu`` fact could not read the GPUs (its ``gpu_present`` check when crit or unknown:
    a GPU whose driver is not loaded, a tool that failed), or None."""
    for check in (fact or {}).get("checks") or []:
        if check.get("check") == "gpu_present" and check.get("status") in ("crit", "unknown"):
            return check.get("message")
    return None


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


def _read(run_command, params, warnings):
    """Read the GPUs now, as the gpu area does (no processes)."""
    options = dict((key, params[key]) for key in ("source", "nvidia_smi_path", "amd_smi_path", "rocm_smi_path", "timeout"))
    options["include_processes"] = False
    fact, more = GPU.gather(run_command, GPU.validate(options))
    warnings.extend(more)
    return gpu_readings(fact), gpu_present(fact), unreadable(fact)


def _restart(run_command, params, service, check_mode):
    kind = service.get("kind") or "systemd"
    result = {"name": service["name"], "kind": kind, "restarted": False, "error": None}
    if check_mode:
        return result
    if kind == "container":
        try:
            _docker_client.restart_container(service["name"], params["docker_host"],
                                             stop_timeout_s=max(1, params["restart_timeout_s"] // 2))
            result["restarted"] = True
        except _docker_client.EngineError as exc:
            result["error"] = str(exc)
        return result
    systemctl = _runner.find_tool("systemctl")
    if not systemctl:
        result["error"] = "systemctl not found: this host does not run systemd"
        return result
    try:
        ran = _runner.run(run_command, [systemctl, "restart", service["name"]], timeout=params["restart_timeout_s"])
    except _runner.ToolError as exc:
        result["error"] = str(exc)
        return result
    if ran.rc != 0:
        result["error"] = "systemctl restart %s exited %d: %s" % (service["name"], ran.rc, (ran.stderr or ran.stdout).strip()[:300])
    else:
        result["restarted"] = True
    return result


def check_options(params):
    """Every problem with validated options (the vram_guard area's argument spec applied), a list of
    strings naming the option; empty when the guard can run."""
    problems = validate(params["threshold_pct"], params["recheck_s"], params["services"])
    if params["restart_timeout_s"] < 2:
        problems.append("restart_timeout_s must be at least 2 seconds, got %s" % params["restart_timeout_s"])
    if params["timeout"] < 1:
        problems.append("timeout must be at least 1 second, got %s" % params["timeout"])
    return problems


def missing_sdk(params):
    """The message for services of kind container without the Docker SDK on the host, or None."""
    if any(s.get("kind") == "container" for s in params["services"]) and not _docker_client.has_sdk():
        return missing_required_lib("docker (the Docker SDK for Python), for services of kind container")
    return None


def guard(run_command, params, check_mode=False):
    """Read (and read again when exhausted), restart what stayed: ``(changed, fact, warnings)``.
    ``params``: validated options that :func:`check_options` found nothing wrong with. Shared by the
    ``vram_guard`` module and ``health_upkeep`` (the daily's ``vram_restart``, with the day's reading)."""
    warnings = []
    if params["first_reading"] is not None:
        fact = params["first_reading"]
        first, present, unread = gpu_readings(fact), gpu_present(fact), unreadable(fact)
    else:
        first, present, unread = _read(run_command, params, warnings)
    second = None
    if exhausted(first, params["threshold_pct"]) and params["recheck_s"] > 0:
        time.sleep(params["recheck_s"])
        second, _present, _unread = _read(run_command, params, warnings)
    decision = decide(first, second, params["threshold_pct"])
    restarts = []
    if decision["stayed"]:
        restarts = [_restart(run_command, params, service, check_mode) for service in params["services"]]
    fact = build_fact(first, decision, restarts, params["threshold_pct"], params["recheck_s"],
                      params["services"], present, check_mode=check_mode, unread=unread)
    changed = any(r["restarted"] for r in restarts) or (check_mode and bool(restarts))
    return changed, fact, warnings


def run(module):
    """The module: validate, guard, exit with the fact."""
    params = module.params
    problems = check_options(params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    missing = missing_sdk(params)
    if missing:
        module.fail_json(msg=missing, exception=_docker_client.sdk_import_error())
    changed, fact, warnings = guard(module.run_command, params, check_mode=module.check_mode)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=changed, ansible_facts={"gpufleet_vram_guard": fact})
