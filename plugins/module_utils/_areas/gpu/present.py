# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the gpu area is shown: the GPU section of the summary and its Prometheus metrics. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu.parse import describe
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import with_unit


def summary_lines(fact):
    """Summary lines of ``gpufleet_gpu`` (the GPU section of the daily summary)."""
    lines = []
    nvidia = fact.get("nvidia") or {}
    amd = fact.get("amd") or {}
    on_bus = [g for g in (fact.get("pci") or {}).get("gpus") or [] if g.get("state") != "passthrough"]
    if not nvidia.get("present") and not amd.get("present"):
        reasons = [r for r in (nvidia.get("reason"), amd.get("reason")) if r]
        if on_bus:
            lines.append("gpu: %s on the PCI bus, none read (%s)" % (
                ", ".join(describe(g) for g in on_bus), "; ".join(reasons) if reasons else "no tool answered"))
        else:
            lines.append("gpu: no NVIDIA/AMD GPU (%s)" % ("; ".join(reasons) if reasons else "none found"))
    if nvidia.get("present"):
        lines.append("gpu nvidia: %s GPU(s), driver %s, CUDA %s (via %s)" % (
            nvidia.get("gpu_count"), nvidia.get("driver_version") or "n/a",
            nvidia.get("cuda_driver_version") or "n/a", nvidia.get("source")))
        for gpu in nvidia.get("gpus") or []:
            if gpu.get("state") == "lost":
                lines.append("gpu %s: LOST (%s)" % (gpu.get("index"), gpu.get("error")))
                continue
            lines.append("gpu %s %s: %s, mem %s, %s, VRAM %s" % (
                gpu.get("index"), gpu.get("name"), with_unit(gpu.get("temperature_c"), " C"),
                with_unit(gpu.get("memory_temperature_c"), " C"), with_unit(gpu.get("power_draw_w"), " W"),
                with_unit(gpu.get("memory_used_pct"), " %")))
    if amd.get("present"):
        lines.append("gpu amd: %s GPU(s), driver %s (via %s)" % (
            len(amd.get("gpus") or []), amd.get("driver_version") or "n/a", amd.get("source")))
        for gpu in amd.get("gpus") or []:
            lines.append("gpu amd %s %s: edge %s, junction %s, %s, VRAM %s" % (
                gpu.get("index"), gpu.get("name"), with_unit(gpu.get("temperature_edge_c"), " C"),
                with_unit(gpu.get("temperature_junction_c"), " C"), with_unit(gpu.get("power_w"), " W"),
                with_unit(gpu.get("vram_used_pct"), " %")))
    return lines


def _pct_ratio(value):
    return None if value is None else value / 100.0


def _mib_bytes(value):
    return None if value is None else value * 1048576


def metrics(fact, fam):
    for vendor in ("nvidia", "amd"):
        section = fact.get(vendor) or {}
        for gpu in section.get("gpus") or []:
            labels = {"vendor": vendor, "gpu": gpu.get("index"), "uuid": gpu.get("uuid") or "", "name": gpu.get("name") or ""}
            ecc = gpu.get("ecc") or {}
            for metric, help_text, value in (
                ("gpufleet_gpu_temperature_celsius", "GPU core (edge) temperature.",
                 gpu.get("temperature_c", gpu.get("temperature_edge_c"))),
                ("gpufleet_gpu_memory_temperature_celsius", "GPU memory (junction) temperature.",
                 gpu.get("memory_temperature_c", gpu.get("temperature_memory_c"))),
                ("gpufleet_gpu_hotspot_temperature_celsius", "GPU junction (hotspot) temperature (AMD).",
                 gpu.get("temperature_junction_c")),
                ("gpufleet_gpu_power_watts", "GPU power draw.", gpu.get("power_draw_w", gpu.get("power_w"))),
                ("gpufleet_gpu_power_limit_watts", "GPU enforced power limit.", gpu.get("power_limit_w", gpu.get("power_cap_w"))),
                ("gpufleet_gpu_memory_used_bytes", "GPU memory in use.",
                 _mib_bytes(gpu.get("memory_used_mib", gpu.get("vram_used_mib")))),
                ("gpufleet_gpu_memory_total_bytes", "GPU memory size.",
                 _mib_bytes(gpu.get("memory_total_mib", gpu.get("vram_total_mib")))),
                ("gpufleet_gpu_utilization_ratio", "GPU busy share.", _pct_ratio(gpu.get("utilization_gpu_pct"))),
                ("gpufleet_gpu_fan_speed_ratio", "GPU fan speed as a share of its maximum.", _pct_ratio(gpu.get("fan_speed_pct"))),
                ("gpufleet_gpu_ecc_uncorrected_errors", "Uncorrectable ECC errors since the driver loaded.",
                 ecc.get("volatile_uncorrected", gpu.get("ecc_uncorrectable"))),
                ("gpufleet_gpu_ecc_corrected_errors", "Correctable ECC errors since the driver loaded.",
                 ecc.get("volatile_corrected", gpu.get("ecc_correctable"))),
            ):
                fam.add(metric, help_text, "gauge", labels, value)
