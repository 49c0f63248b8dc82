# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the benchmark role: benchmark_table."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.module_utils._benchmark_summary import candidate_lines, candidate_rows


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


class FilterModule(object):
    """Benchmark filters."""

    def filters(self):
        return {"benchmark_table": benchmark_table}
