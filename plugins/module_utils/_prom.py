# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus metrics of the areas not yet moved into ``_areas/`` (issue 17); the exposition itself
is ``_common/prom.py``. Each function adds one area's families: ``f(fact, families)``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def benchmark_metrics(fact, fam):
    for result in (fact or {}).get("results") or []:
        labels = {"model": fact.get("model") or "", "prompt": result.get("prompt") or "", "endpoint": fact.get("endpoint") or ""}
        ttft = (result.get("ttft_s") or {}).get("median")
        rate = (result.get("decode_tokens_per_s") or {}).get("median")
        fam.add("gpufleet_llm_ttft_seconds", "Median time to first token of a benchmark prompt.", "gauge", labels, ttft)
        fam.add("gpufleet_llm_decode_tokens_per_second", "Median decode rate of a benchmark prompt.", "gauge", labels, rate)
