# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the benchmark role: benchmark_table, benchmark_fact, benchmark_gpu_context."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import build_fact, gpu_context
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark.present import candidate_lines, candidate_rows


def benchmark_table(probes, lines=False):
    """Rows (or text lines) comparing llm_probe results, one per model."""
    if probes is None:
        probes = []
    if isinstance(probes, dict):
        probes = [probes]
    if not isinstance(probes, (list, tuple)):
        raise AnsibleFilterError("benchmark_table expects a list of llm_probe results, got %s" % type(probes).__name__)
    try:
        rows = candidate_rows(probes)
    except TypeError as exc:
        raise AnsibleFilterError("benchmark_table: %s" % exc)
    return candidate_lines(rows) if lines else rows


def benchmark_fact(mode, probe=None, baseline=None, candidates=None):
    """The ``gpufleet_benchmark`` fact of a benchmark ``mode`` from the registered results."""
    if probe is not None and not isinstance(probe, dict):
        raise AnsibleFilterError("benchmark_fact: probe must be an llm_probe result (a dict), got %s" % type(probe).__name__)
    if candidates is not None and not isinstance(candidates, (list, tuple)):
        raise AnsibleFilterError("benchmark_fact: candidates must be a list of llm_probe results, got %s"
                                 % type(candidates).__name__)
    try:
        return build_fact(mode, probe, baseline, candidates)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("benchmark_fact: %s" % exc)


def benchmark_gpu_context(gpu_fact):
    """``{busy_pct, gpu, driver}`` of a probe from a ``gpufleet_gpu`` fact (None or {}: nothing reported)."""
    if gpu_fact is not None and not isinstance(gpu_fact, dict):
        raise AnsibleFilterError("benchmark_gpu_context expects a gpufleet_gpu fact (a dict), got %s" % type(gpu_fact).__name__)
    busy_pct, context = gpu_context(gpu_fact)
    return dict(context, busy_pct=busy_pct)


class FilterModule(object):
    """Benchmark filters."""

    def filters(self):
        return {"benchmark_table": benchmark_table, "benchmark_fact": benchmark_fact,
                "benchmark_gpu_context": benchmark_gpu_context}
