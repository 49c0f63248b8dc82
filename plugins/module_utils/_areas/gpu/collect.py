# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the GPUs: NVIDIA through NVML, then ``nvidia-smi -q -x``; AMD through amd-smi, then rocm-smi.

I/O only, through the tools' readers (``_tools/nvml.py``, ``_tools/nvidia_smi.py``,
``_tools/amd_smi.py``); verdicts are in ``checks.py``. ``run_command`` is any callable with
``AnsibleModule.run_command``'s signature, and ``pynvml`` is imported lazily. Never raises for host
faults: what a tool could not say is in the data (and in the warnings).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import amd_smi, nvidia_smi, nvml

SOURCES = ("auto", "nvml", "nvidia_smi", "none")


def check_options(params):
    """What the argument spec cannot say about the gpu area's options."""
    if params.get("timeout") is not None and params["timeout"] < 1:
        return ["timeout must be at least 1 second, got %s" % params["timeout"]]
    return []


def gather_nvidia(run_command, source="auto", nvidia_smi_path=None, timeout=20, include_processes=True):
    """NVIDIA facts; returns ``(nvidia_facts, problems, mismatch)``."""
    if source in ("auto", "nvml"):
        facts, problems, mismatch, fall_back = nvml.gather(include_processes=include_processes)
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
        return nvidia_smi.absent(reason, "nvidia_smi" if source == "nvidia_smi" else None), [], None
    return nvidia_smi.gather(run_command, path, timeout=timeout, include_processes=include_processes)


def _split(problems):
    """``"<command>: <problem>"`` strings → ``(command, problem)`` pairs (the tool_output checks)."""
    return [(p.split(":", 1)[0], p.split(":", 1)[-1].strip()) for p in problems]


def collect(run_command, params):
    """``(data, warnings)``: the ``nvidia`` and ``amd`` sections, and for the verdicts what the tools
    said that went wrong (``_problems``, ``_mismatch``; not part of the fact)."""
    if params["source"] == "none":
        return {"nvidia": nvidia_smi.absent("disabled (source=none)", None),
                "amd": amd_smi.absent("disabled (source=none)")}, []
    timeout = int(params["timeout"])
    nvidia, problems, mismatch = gather_nvidia(run_command, params["source"], params.get("nvidia_smi_path"), timeout,
                                               params["include_processes"])
    amd, amd_problems = amd_smi.gather(run_command, params.get("amd_smi_path"), params.get("rocm_smi_path"), timeout)
    data = {"nvidia": nvidia, "amd": amd,
            "_problems": {"nvidia": _split(problems), "amd": _split(amd_problems)}, "_mismatch": mismatch}
    return data, list(problems) + list(amd_problems)
