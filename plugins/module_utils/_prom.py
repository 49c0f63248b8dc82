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
