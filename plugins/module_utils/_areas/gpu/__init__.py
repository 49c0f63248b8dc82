# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``gpu`` (fact ``gpufleet_gpu``): NVIDIA (NVML, nvidia-smi) and AMD (amd-smi, rocm-smi) GPUs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import checks, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading

_NVIDIA = ("temperature_c", "memory_temperature_c", "temperature_slowdown_c", "temperature_shutdown_c", "power_draw_w",
           "power_limit_w", "power_default_limit_w", "power_max_limit_w", "fan_speed_pct", "memory_total_mib",
           "memory_used_mib", "memory_used_pct", "utilization_gpu_pct", "clocks_sm_mhz", "clocks_mem_mhz",
           "ecc.volatile_uncorrected", "ecc.aggregate_uncorrected")
_AMD = ("temperature_edge_c", "temperature_junction_c", "temperature_memory_c", "power_w", "power_cap_w", "fan_speed_pct",
        "vram_total_mib", "vram_used_mib", "vram_used_pct", "ecc_uncorrectable")

AREA = Area(
    "gpu", "gpu",
    summary="NVIDIA (NVML, nvidia-smi) and AMD (amd-smi, rocm-smi) GPUs: temperatures, VRAM, ECC, remapped rows, "
            "throttling, fans, lost GPUs, driver/library mismatch, GPU power against the PSU rating",
    module="gpu_facts",
    options=dict(
        source=dict(type="str", default="auto", choices=list(collect.SOURCES)),
        nvidia_smi_path=dict(type="path"),
        amd_smi_path=dict(type="path"),
        rocm_smi_path=dict(type="path"),
        include_processes=dict(type="bool", default=False),
        timeout=dict(type="int", default=20),
        root=dict(type="path", default="/"),
        psu_watts=dict(type="int"),
    ),
    ranges={"psu_watts": (1, None)},
    check_options=collect.check_options,
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    metrics=present.metrics,
    # Every numeric reading with a unit suffix, as the history recorded them before (gpu.nvidia.gpus.temperature_c,
    # subject gpu=<index>), and the ECC counts the ecc_uncorrectable check judges.
    readings=tuple(Reading("nvidia.gpus[].%s" % key, subject=("gpu", "index")) for key in _NVIDIA)
    + tuple(Reading("amd.gpus[].%s" % key, subject=("gpu", "index")) for key in _AMD),
)
