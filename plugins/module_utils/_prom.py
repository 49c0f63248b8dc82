# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus metrics of the areas not yet moved into ``_areas/`` (issue 17); the exposition itself
is ``_common/prom.py``. Each function adds one area's families: ``f(fact, families)``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _pct_ratio(value):
    return None if value is None else value / 100.0


def _mib_bytes(value):
    return None if value is None else value * 1048576


def gpu_metrics(fact, fam):
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


def smart_metrics(fact, fam):
    for dev in fact.get("devices") or []:
        labels = {"device": dev.get("name") or "", "model": dev.get("model") or "", "serial": dev.get("serial") or ""}
        fam.add("gpufleet_ssd_wear_ratio", "Share of the drive's rated endurance used (NVMe percentage used).", "gauge",
                labels, _pct_ratio(dev.get("wear_pct_used")))
        days = dev.get("projected_days_to_rated_tbw")
        fam.add("gpufleet_ssd_projected_seconds_to_rated_tbw", "Time until the drive reaches its rated TBW at the current write rate.",
                "gauge", labels, None if days is None else days * 86400)
        fam.add("gpufleet_disk_temperature_celsius", "Drive temperature.", "gauge", labels, dev.get("temperature_c"))
        fam.add("gpufleet_disk_data_written_bytes_total", "Bytes written to the drive over its life.", "counter",
                labels, dev.get("data_written_bytes"))


def docker_metrics(fact, fam):
    for category, section in sorted((fact or {}).items()):
        if isinstance(section, dict) and "reclaimable_bytes" in section:
            fam.add("gpufleet_docker_reclaimable_bytes", "Bytes Docker could free in a category.", "gauge",
                    {"category": category}, section.get("reclaimable_bytes"))


def benchmark_metrics(fact, fam):
    for result in (fact or {}).get("results") or []:
        labels = {"model": fact.get("model") or "", "prompt": result.get("prompt") or "", "endpoint": fact.get("endpoint") or ""}
        ttft = (result.get("ttft_s") or {}).get("median")
        rate = (result.get("decode_tokens_per_s") or {}).get("median")
        fam.add("gpufleet_llm_ttft_seconds", "Median time to first token of a benchmark prompt.", "gauge", labels, ttft)
        fam.add("gpufleet_llm_decode_tokens_per_second", "Median decode rate of a benchmark prompt.", "gauge", labels, rate)
