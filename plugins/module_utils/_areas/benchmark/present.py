# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the benchmark area is shown: summary lines, the candidate table of compare mode, Prometheus.

Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _num(value, fmt):
    return "n/a" if value is None else fmt % value


def summary_lines(fact):
    """Lines: the endpoint and runner, then one line per prompt (median TTFT, tokens/s)."""
    if fact.get("candidates") is not None:
        return ["llm candidates on %s:" % fact.get("endpoint")] + candidate_lines(fact["candidates"])
    probe = fact.get("probe") or {}
    lines = ["llm %s %s (%s %s) on %s: %s mode" % (
        probe.get("api") or fact.get("api") or "?", probe.get("model") or fact.get("model"),
        probe.get("runner") or "runner ?", probe.get("runner_version") or "version ?",
        probe.get("endpoint") or fact.get("endpoint"), fact.get("mode", "?"))]
    if probe.get("measured") is False:
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


def _median(values):
    numbers = sorted(v for v in values if v is not None)
    if not numbers:
        return None
    mid = len(numbers) // 2
    return round(numbers[mid] if len(numbers) % 2 else (numbers[mid - 1] + numbers[mid]) / 2.0, 4)


def candidate_rows(probes):
    """One row per llm_probe result: model, runner version, median TTFT and tokens/s over the
    prompts, expect pass rate (prompts whose answers all matched), VRAM, ok."""
    rows = []
    for probe in probes or []:
        if not isinstance(probe, dict):
            raise TypeError("expected llm_probe results (dicts), got %s" % type(probe).__name__)
        results = probe.get("results") or []
        good = [r for r in results if r.get("ok")]
        judged = [r for r in good if r.get("expect_passed") is not None]
        rows.append(dict(
            model=probe.get("model"), runner=probe.get("runner"), runner_version=probe.get("runner_version"),
            model_digest=probe.get("model_digest"), ok=bool(results) and len(good) == len(results),
            ttft_s=_median((r.get("ttft_s") or {}).get("median") for r in good),
            decode_tokens_per_s=_median((r.get("decode_tokens_per_s") or {}).get("median") for r in good),
            expect_pass_rate=None if not judged else round(sum(1 for r in judged if r["expect_passed"]) / float(len(judged)), 3),
            vram_bytes=probe.get("vram_bytes"), status=probe.get("status"),
        ))
    return rows


def candidate_lines(rows):
    """The candidate table as text lines."""
    lines = ["%-28s %10s %12s %8s %10s %s" % ("model", "TTFT s", "tokens/s", "expect", "VRAM MiB", "status")]
    for row in rows:
        lines.append("%-28s %10s %12s %8s %10s %s" % (
            row["model"], _num(row["ttft_s"], "%.3f"), _num(row["decode_tokens_per_s"], "%.1f"),
            _num(None if row["expect_pass_rate"] is None else row["expect_pass_rate"] * 100, "%.0f%%"),
            _num(None if row["vram_bytes"] is None else row["vram_bytes"] / 1048576.0, "%.0f"),
            row["status"] if row["ok"] else "%s (failed)" % row["status"]))
    return lines


def metrics(fact, fam):
    """Median time to first token and decode tokens/s of each prompt of the probe (suite, health, gate)."""
    probe = (fact or {}).get("probe") or {}
    for entry in probe.get("results") or []:
        if not isinstance(entry, dict):
            continue
        labels = {"model": entry.get("model") or probe.get("model") or "", "prompt": entry.get("prompt") or "",
                  "endpoint": probe.get("endpoint") or ""}
        fam.add("gpufleet_llm_ttft_seconds", "Median time to first token of a benchmark prompt.", "gauge", labels,
                (entry.get("ttft_s") or {}).get("median"))
        fam.add("gpufleet_llm_decode_tokens_per_second", "Median decode rate of a benchmark prompt.", "gauge", labels,
                (entry.get("decode_tokens_per_s") or {}).get("median"))
