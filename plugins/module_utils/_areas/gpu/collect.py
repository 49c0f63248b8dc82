# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the GPUs: NVIDIA through NVML, then ``nvidia-smi -q -x``; AMD through amd-smi, then rocm-smi;
and the GPUs on the PCI bus from sysfs (below ``root``), which are there even when no driver is.

I/O only, through the tools' readers (``_tools/nvml.py``, ``_tools/nvidia_smi.py``,
``_tools/amd_smi.py``); verdicts are in ``checks.py``. ``run_command`` is any callable with
``AnsibleModule.run_command``'s signature, and ``pynvml`` is imported lazily. The nvidia-smi and amd-smi
readers are imported where their tool is installed (and, for nvidia-smi, NVML did not report): a host
compiles each module its run imports, every daily. Never raises for host faults: what a tool could not say
is in the data (and in the warnings).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import gpu_shapes, nvml, pci_bus

SOURCES = ("auto", "nvml", "nvidia_smi", "none")


def check_options(params):
    """What the argument spec cannot say about the gpu area's options."""
    if params.get("timeout") is not None and params["timeout"] < 1:
        return ["timeout must be at least 1 second, got %s" % params["timeout"]]
    return []


def gather_nvidia(run_command, source="auto", nvidia_smi_path=None, timeout=20, include_processes=True):
    """NVIDIA facts; returns ``(nvidia_facts, problems, mismatch, failed)``.

    ``failed`` says what went wrong when a tool was there and did not report the GPUs (NVML "Driver
    Not Loaded", nvidia-smi exiting 9 "couldn't communicate with the NVIDIA driver", a timeout...);
    None when they were reported, or when no NVIDIA tool is installed at all.
    """
    nvml_failed = None
    if source in ("auto", "nvml"):
        facts, problems, mismatch, fall_back = nvml.gather(include_processes=include_processes)
        if not facts.get("present") and not nvml.not_installed(facts):
            nvml_failed = facts.get("reason")
        if mismatch or not fall_back or source == "nvml":
            return facts, ["NVML: %s" % p if not p.startswith("NVML") else p for p in problems], mismatch, nvml_failed
        nvml_reason = facts.get("reason")
    else:
        nvml_reason = None
    path = _runner.find_tool("nvidia-smi", nvidia_smi_path)
    if not path:
        reason = "nvidia-smi not found" + (" at %s" % nvidia_smi_path if nvidia_smi_path else " on PATH")
        if nvml_reason:
            reason = "%s; %s" % (nvml_reason, reason)
        return gpu_shapes.nvidia_absent(reason, "nvidia_smi" if source == "nvidia_smi" else None), [], None, nvml_failed
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import nvidia_smi
    facts, problems, mismatch = nvidia_smi.gather(run_command, path, timeout=timeout, include_processes=include_processes)
    failed = None
    if not facts.get("present"):
        failed = "; ".join(r for r in (nvml_failed, facts.get("reason")) if r)
    return facts, problems, mismatch, failed


def gather_amd(run_command, amd_smi_path=None, rocm_smi_path=None, timeout=20):
    """AMD facts; returns ``(amd_facts, problems)`` (amd-smi, else rocm-smi; neither installed: absent)."""
    if not (_runner.find_tool("amd-smi", amd_smi_path) or _runner.find_tool("rocm-smi", rocm_smi_path)):
        return gpu_shapes.amd_absent(gpu_shapes.AMD_NOT_FOUND), []
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import amd_smi
    return amd_smi.gather(run_command, amd_smi_path, rocm_smi_path, timeout)


def read_pci(root):
    """``{path, error, gpus}``: the NVIDIA/AMD GPUs under ``<root>/sys/bus/pci/devices`` (see ``parse.py``).

    ``error`` says why the bus could not be read (then ``gpus`` is empty: nobody looked).
    """
    bus = pci_bus.read_devices(root)
    gpus = [gpu for gpu in (parse.pci_gpu(d["address"], d["vendor"], d["class"], d["driver"]) for d in bus["devices"])
            if gpu is not None]
    return {"path": bus["path"], "error": bus["error"], "gpus": gpus}


def _split(problems):
    """``"<command>: <problem>"`` strings → ``(command, problem)`` pairs (the tool_output checks)."""
    return [(p.split(":", 1)[0], p.split(":", 1)[-1].strip()) for p in problems]


def collect(run_command, params):
    """``(data, warnings)``: the ``nvidia`` and ``amd`` sections, the GPUs on the PCI bus (``pci``), and
    for the verdicts what the tools said that went wrong (``_problems``, ``_mismatch``, ``_failed``;
    not part of the fact)."""
    if params["source"] == "none":
        return {"nvidia": gpu_shapes.nvidia_absent("disabled (source=none)", None),
                "amd": gpu_shapes.amd_absent("disabled (source=none)")}, []
    timeout = int(params["timeout"])
    nvidia, problems, mismatch, nvidia_failed = gather_nvidia(
        run_command, params["source"], params.get("nvidia_smi_path"), timeout, params["include_processes"])
    amd, amd_problems = gather_amd(run_command, params.get("amd_smi_path"), params.get("rocm_smi_path"), timeout)
    amd_failed = amd.get("reason") if not amd.get("present") and amd.get("reason") != gpu_shapes.AMD_NOT_FOUND else None
    data = {"nvidia": nvidia, "amd": amd, "pci": read_pci(params.get("root") or "/"),
            "_problems": {"nvidia": _split(problems), "amd": _split(amd_problems)}, "_mismatch": mismatch,
            "_failed": {"nvidia": nvidia_failed, "amd": amd_failed}}
    return data, list(problems) + list(amd_problems)
