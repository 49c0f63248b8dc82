# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How ``health_facts`` gathers the areas not yet moved into ``_areas/<name>/`` (issue 17).

Each function takes ``(run_command, validated options)`` and returns ``(fact, warnings)``; the
registry (``_areas/registry.py``) uses them as those areas' ``collect``. Deleted once every area
has its own package. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import platform
import sys
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


def _thresholds(defaults, overrides, area):
    unknown = sorted(set(overrides or {}) - set(defaults))
    if unknown:
        raise AreaError("%s: unknown threshold(s) %s (known: %s)" % (area, ", ".join(unknown), ", ".join(sorted(defaults))))
    merged = dict(defaults)
    merged.update(dict((k, v) for k, v in (overrides or {}).items() if v is not None))
    return merged


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
