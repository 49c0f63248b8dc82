# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Summary section of the ``gpufleet_benchmark`` fact (set by the benchmark role).

Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _num(value, fmt):
    return "n/a" if value is None else fmt % value


def benchmark_section(fact):
    """Lines: the endpoint and runner, then one line per prompt (median TTFT, tokens/s)."""
    probe = fact.get("probe") or {}
    lines = ["llm %s %s (%s %s) on %s: %s mode" % (
        probe.get("api") or fact.get("api") or "?", probe.get("model") or fact.get("model"),
        probe.get("runner") or "runner ?", probe.get("runner_version") or "version ?",
        probe.get("endpoint") or fact.get("endpoint"), fact.get("mode", "?"))]
    if probe.get("skipped"):
        lines.append("llm probe skipped: %s" % probe.get("skipped_reason"))
    for entry in probe.get("results") or []:
        if not entry.get("ok"):
            lines.append("llm prompt %s: failed (%s)" % (entry.get("prompt"), entry.get("error_kind") or "error"))
            continue
        lines.append("llm prompt %s: first token %s, %s tokens/s%s" % (
            entry.get("prompt"), _num((entry.get("ttft_s") or {}).get("median"), "%.3f s"),
            _num((entry.get("decode_tokens_per_s") or {}).get("median"), "%.1f"),
            "" if entry.get("expect_passed") is None else (", expect ok" if entry["expect_passed"] else ", expect FAILED")))
    baseline = fact.get("baseline") or {}
    if baseline.get("action"):
        lines.append("llm baseline: %s" % baseline["action"])
    return lines
