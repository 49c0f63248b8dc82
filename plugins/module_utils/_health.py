# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several fact areas in one module run: one round trip per host instead of one per area.

``gather_areas(run_command, areas, options)`` calls the same gathering functions as the single-area
modules (host_facts, gpu_facts, driver_stack_facts, docker_facts, maintenance_facts, wsl_facts,
exposure_facts, and the image_digest audit) and returns ``({fact name: fact}, warnings, errors)``. An area that fails is
reported in ``errors`` (and its fact left out); the others still report. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import platform
import sys
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _runner

FACT_NAMES = {
    "host": "gpufleet_host",
    "gpu": "gpufleet_gpu",
    "driver_stack": "gpufleet_driver_stack",
    "docker": "gpufleet_docker",
    "maintenance": "gpufleet_maintenance",
    "wsl": "gpufleet_wsl",
    "exposure": "gpufleet_exposure",
    "images": "gpufleet_images",
}

# The options of each area: the single-area module's options, with its defaults.
AREA_OPTIONS = {
    "host": {"paths": ["/"], "thresholds": {}},
    "gpu": {"source": "auto", "nvidia_smi_path": None, "amd_smi_path": None, "rocm_smi_path": None,
            "include_processes": False, "timeout": 20, "thresholds": {}},
    "driver_stack": {"root": "/", "python_envs": [], "probe_containers": False, "hold_patterns": None,
                     "command_timeout_s": 30},
    "docker": {"docker_host": None, "timeout": 30, "daemon_json": "/etc/docker/daemon.json", "thresholds": {}},
    "maintenance": {"collect": None, "since_days": 7, "log_paths": [], "thresholds": {}},
    "wsl": {"root": "/", "proc_version_path": "/proc/version", "nvidia_smi_path": None, "cuda_init_timeout_s": 15,
            "driver_package_patterns": None, "state_file": None},
    "exposure": {"ports": None, "allowed": [], "timeout": 20},
    "images": {"manifest": "/etc/gpufleet/images.yml", "check_remote": False, "compose_files": [],
               "docker_host": None, "timeout": 60},
}


class AreaError(ValueError):
    """Bad options for an area."""


def area_options(area, given):
    """The options of ``area``: defaults updated by ``given``; unknown keys raise AreaError."""
    known = AREA_OPTIONS[area]
    unknown = sorted(set(given or {}) - set(known))
    if unknown:
        raise AreaError("%s: unknown option(s) %s (known: %s)" % (area, ", ".join(unknown), ", ".join(sorted(known))))
    result = dict(known)
    result.update(dict((k, v) for k, v in (given or {}).items() if v is not None))
    return result


def _thresholds(defaults, overrides, area):
    unknown = sorted(set(overrides or {}) - set(defaults))
    if unknown:
        raise AreaError("%s: unknown threshold(s) %s (known: %s)" % (area, ", ".join(unknown), ", ".join(sorted(defaults))))
    merged = dict(defaults)
    merged.update(dict((k, v) for k, v in (overrides or {}).items() if v is not None))
    return merged


def _host(run_command, opts):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _host as host
    thresholds = _thresholds(host.DEFAULT_THRESHOLDS, opts["thresholds"], "host")
    if thresholds["disk_used_crit_pct"] < thresholds["disk_used_warn_pct"]:
        raise AreaError("host: thresholds: disk_used_crit_pct (%s) must not be below disk_used_warn_pct (%s)"
                        % (thresholds["disk_used_crit_pct"], thresholds["disk_used_warn_pct"]))
    return host.gather(opts["paths"], thresholds)


def _gpu(run_command, opts):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _gpu as gpu, _gpu_checks
    try:
        thresholds = _gpu_checks.merged_thresholds(opts["thresholds"])
    except ValueError as exc:
        raise AreaError("gpu: thresholds: %s" % exc)
    problems = _gpu_checks.validate_thresholds(thresholds)
    if problems:
        raise AreaError("gpu: thresholds: %s" % "; ".join(problems))
    return gpu.gather(run_command, source=opts["source"], nvidia_smi_path=opts["nvidia_smi_path"],
                      amd_smi_path=opts["amd_smi_path"], rocm_smi_path=opts["rocm_smi_path"], thresholds=thresholds,
                      include_processes=opts["include_processes"], timeout=int(opts["timeout"]))


def _driver_stack(run_command, opts):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _driver_stack as stack
    ctx = stack.Context(root=opts["root"], run_command=run_command, python_envs=opts["python_envs"],
                        probe_containers=opts["probe_containers"], timeout=int(opts["command_timeout_s"]),
                        hold_patterns=list(opts["hold_patterns"] or stack.DEFAULT_HOLD_PATTERNS))
    return stack.gather(ctx)


def _docker(run_command, opts):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _docker, _docker_client
    thresholds = _thresholds(_docker.DEFAULT_THRESHOLDS, opts["thresholds"], "docker")
    return _docker_client.gather_facts(opts["docker_host"], int(opts["timeout"]), opts["daemon_json"], thresholds)


def _maintenance(run_command, opts):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _maintenance as maint
    thresholds = _thresholds(maint.DEFAULT_THRESHOLDS, opts["thresholds"], "maintenance")
    warnings = []

    def run(argv, timeout):
        try:
            return _runner.run(run_command, argv, timeout=timeout)
        except _runner.ToolError as exc:
            warnings.append(str(exc))
            return None

    since = int(time.time() - float(opts["since_days"]) * 86400)
    fact, more = maint.gather(list(opts["collect"] or maint.COLLECT), thresholds, run, _runner.find_tool,
                              since=since, log_paths=opts["log_paths"])
    return fact, warnings + list(more)


def _wsl(run_command, opts):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _wsl as wsl
    return wsl.gather(run_command, root=opts["root"], proc_version_path=opts["proc_version_path"],
                      nvidia_smi_path=opts["nvidia_smi_path"], python=sys.executable,
                      cuda_init_timeout_s=int(opts["cuda_init_timeout_s"]),
                      package_globs=tuple(opts["driver_package_patterns"] or wsl.LINUX_DRIVER_PACKAGE_GLOBS),
                      state_file=opts["state_file"], machine=platform.machine())


def _exposure(run_command, opts):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _exposure as exposure
    ports = None
    if opts["ports"] is not None:
        try:
            ports = dict((int(k), str(v)) for k, v in opts["ports"].items())
        except (TypeError, ValueError):
            raise AreaError("exposure: ports: keys must be port numbers, got %s" % list(opts["ports"]))
    try:
        return exposure.gather(run_command, ports=ports, allowed=opts["allowed"], timeout=int(opts["timeout"]))
    except exposure.ExposureError as exc:
        raise AreaError(str(exc))


def _images(run_command, opts):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _docker_client
    return _docker_client.image_audit_facts(opts["manifest"], bool(opts["check_remote"]), opts["compose_files"],
                                            opts["docker_host"], int(opts["timeout"]))


_GATHER = {"host": _host, "gpu": _gpu, "driver_stack": _driver_stack, "docker": _docker,
           "maintenance": _maintenance, "wsl": _wsl, "exposure": _exposure, "images": _images}


def validate(areas, options):
    """Check areas and options before gathering anything; returns {area: options}."""
    unknown = [a for a in areas if a not in _GATHER]
    if unknown:
        raise AreaError("unknown area(s) %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(_GATHER))))
    return dict((area, area_options(area, (options or {}).get(area))) for area in areas)


def gather_areas(run_command, areas, options=None):
    """Gather every area in order; returns ``(facts, warnings, errors)``.

    Bad options raise :class:`AreaError` before anything is gathered. A failure while gathering one
    area (an AreaError raised by its own checks) is reported in ``errors`` and the others go on.
    """
    per_area = validate(areas, options)
    facts, warnings, errors, seconds = {}, [], [], {}
    for area in areas:
        started = time.time()
        try:
            fact, more = _GATHER[area](run_command, per_area[area])
        except AreaError as exc:
            errors.append(str(exc))
            continue
        seconds[area] = round(time.time() - started, 3)
        facts[FACT_NAMES[area]] = fact
        warnings.extend("%s: %s" % (area, w) for w in more)
    return facts, warnings, errors, seconds
