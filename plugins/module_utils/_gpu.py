# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``gpufleet_gpu``: NVIDIA (NVML, then nvidia-smi) and AMD (amd-smi, then rocm-smi) facts and checks.

``gather(run_command, ...)`` needs no AnsibleModule: ``run_command`` is any callable with
``AnsibleModule.run_command``'s signature, and ``pynvml`` is imported lazily by ``_nvml``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _amd_smi, _gpu_checks, _nvidia_smi, _nvml, _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import make_check, worst_status

SCHEMA_VERSION = 1
SOURCES = ("auto", "nvml", "nvidia_smi", "none")


def gather_nvidia(run_command, source="auto", nvidia_smi_path=None, timeout=20, include_processes=True, nvml=None):
    """NVIDIA facts; returns ``(nvidia_facts, problems, mismatch)``."""
    if source in ("auto", "nvml"):
        facts, problems, mismatch, fall_back = _nvml.gather(include_processes=include_processes, nvml=nvml)
        if mismatch or not fall_back or source == "nvml":
            return facts, ["NVML: %s" % p if not p.startswith("NVML") else p for p in problems], mismatch
        nvml_reason = facts.get("reason")
    else:
        nvml_reason = None
    path = _runner.find_tool("nvidia-smi", nvidia_smi_path)
    if not path:
        reason = "nvidia-smi not found" + (" at %s" % nvidia_smi_path if nvidia_smi_path else " on PATH")
        if nvml_reason:
            reason = "%s; %s" % (nvml_reason, reason)
        return _nvidia_smi.absent(reason, "nvidia_smi" if source == "nvidia_smi" else None), [], None
    return _nvidia_smi.gather(run_command, path, timeout=timeout, include_processes=include_processes)


def gather(run_command, source="auto", nvidia_smi_path=None, amd_smi_path=None, rocm_smi_path=None,
           thresholds=None, include_processes=False, timeout=20, nvml=None):
    """The whole ``gpufleet_gpu`` fact and the warnings to show; never raises for host faults."""
    thresholds = _gpu_checks.merged_thresholds(thresholds)
    warnings = []
    checks = []
    if source == "none":
        nvidia = _nvidia_smi.absent("disabled (source=none)", None)
        amd = _amd_smi.absent("disabled (source=none)")
    else:
        nvidia, problems, mismatch = gather_nvidia(run_command, source, nvidia_smi_path, timeout, include_processes, nvml)
        for problem in problems:
            warnings.append(problem)
            checks.append(_gpu_checks.tool_output_check(problem.split(":", 1)[0], problem.split(":", 1)[-1].strip(), "nvidia"))
        if mismatch:
            checks.append(_gpu_checks.driver_library_mismatch_check(mismatch))
        amd, amd_problems = _amd_smi.gather(run_command, amd_smi_path, rocm_smi_path, timeout)
        for problem in amd_problems:
            warnings.append(problem)
            checks.append(_gpu_checks.tool_output_check(problem.split(":", 1)[0], problem.split(":", 1)[-1].strip(), "amd"))
    for gpu in nvidia.get("gpus") or []:
        checks.extend(_gpu_checks.nvidia_gpu_checks(gpu, thresholds))
    for gpu in amd.get("gpus") or []:
        checks.extend(_gpu_checks.amd_gpu_checks(gpu, thresholds))
    if not nvidia.get("present") and not amd.get("present"):
        checks.append(make_check("gpu_present", "ok", False, None,
                                 "no NVIDIA/AMD GPU tooling found (%s; %s): normal on a CPU-only host"
                                 % (nvidia.get("reason"), amd.get("reason"))))
    fact = dict(
        schema_version=SCHEMA_VERSION,
        nvidia=nvidia,
        amd=amd,
        thresholds=thresholds,
        checks=checks,
        status=worst_status(checks),
    )
    return fact, warnings
