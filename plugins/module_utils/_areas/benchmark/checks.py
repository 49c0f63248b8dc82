# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark area's checks: the table, and the verdicts of one probe (pure).

The probe (``collect.py``) measures; these functions judge what it measured: the endpoint
(``llm_endpoint``), whether it could measure at all (``llm_probe``: ``unknown`` while the GPU is
busy), each prompt's requests, time to first token and answers. The baseline verdicts
(``benchmark_regression``, ``benchmark_baseline``) are in ``baseline.py`` and use rows of the same
table. The ``reads`` paths are paths into the ``gpufleet_benchmark`` fact. Pure functions, no
Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable

# What a prompt's checks are about: the model and the prompt (``model=gemma3:4b,prompt=health``).
PROMPT = ("model", "prompt")

CHECKS = CheckTable(
    Check("llm_endpoint", "The LLM runner answers at its endpoint (nothing listening is the runner down).",
          fix="check the runner's logs, restart it"),
    Check("llm_probe", "Whether the probe could measure at all: it skips, and says unknown, while the GPU is busier "
                       "than skip_if_gpu_busy_pct.",
          fix="measure when the GPU is idle (another schedule), or raise skip_if_gpu_busy_pct"),
    Check("llm_request", "Every measured request of a prompt got a complete streamed answer.",
          subject=PROMPT, fix="check the runner's logs"),
    Check("llm_ttft", "Median time to first token of a prompt.",
          subject=PROMPT, thresholds=(("ttft_warn_s", 5.0), ("ttft_crit_s", 10.0)), unit=" s",
          fix="check GPU offload (model spilled to CPU?), other GPU users and the runner's logs",
          reads=("probe.results[].ttft_s.median",)),
    Check("llm_expect", "Every answer of a prompt matches the prompt's expect pattern.",
          subject=PROMPT, fix="the model may be corrupted or swapped; re-pull it and compare its digest",
          reads=("probe.results[].expect_pass_rate",)),
    Check("benchmark_regression", "Median time to first token and decode tokens/s of a prompt against its stored "
                                  "baseline (warn_pct, crit_pct of benchmark_baseline).",
          subject=PROMPT,
          fix="compare runner/driver/model changes since the baseline, check GPU clocks and offload, roll back or "
              "re-baseline with benchmark_update_baseline=true",
          reads=("probe.results[].ttft_s.median", "probe.results[].decode_tokens_per_s.median")),
    Check("benchmark_baseline", "Whether this host, endpoint, model and runner version have a baseline row (a new "
                                "one starts from this run).",
          fix="see the llm_request checks of this run: a baseline starts from the first run with a successful prompt"),
)


def thresholds_of(given):
    """The table's defaults with the thresholds given (None: the default)."""
    limits = CHECKS.defaults()
    limits.update((k, v) for k, v in (given or {}).items() if v is not None)
    return limits


def fault_message(kind, error, endpoint, model, api):
    """The operator's message for a failed request: what happened, in the runner's words, and the fix."""
    if kind == "refused":
        return "runner down at %s: %s: %s" % (endpoint, error, CHECKS["llm_endpoint"].fix)
    if kind == "http" and "404" in error.split(":")[0]:
        pull = "ollama pull %s" % model if api == "ollama" else "load it in the server (-m / --alias)"
        return "model %s not found at %s (not pulled?): %s: %s, or fix the model name" % (model, endpoint, error, pull)
    if kind == "http" and re.match(r"HTTP 5\d\d", error):
        return "runner error at %s: %s: check the runner's logs (out of memory, model failed to load)" % (endpoint, error)
    if kind == "http":
        return "request refused by %s: %s: check api, model and headers (API key)" % (endpoint, error)
    if kind == "timeout":
        return "%s at %s: check the runner's load, GPU offload and logs, or raise timeout_s" % (error, endpoint)
    if kind == "cut":
        return "stream cut by %s: %s: check the runner's logs for a crash or restart" % (endpoint, error)
    if kind == "malformed":
        return "unreadable stream from %s: %s: check api (ollama or openai) and any proxy in between" % (endpoint, error)
    return "request to %s failed: %s: %s" % (endpoint, error, CHECKS["llm_request"].fix)


def endpoint_down(kind, error, endpoint, model, api):
    """``llm_endpoint`` crit: the runner did not answer its first request (nothing listens, or no connection)."""
    return CHECKS["llm_endpoint"].result("crit", None, None, fault_message(kind, error, endpoint, model, api), fix="")


def skipped(busy_pct, limit_pct):
    """``llm_probe`` unknown: nothing was measured because the GPU was busy."""
    return CHECKS["llm_probe"].unknown("probe skipped: GPU busy %.0f %% (over skip_if_gpu_busy_pct %.0f %%)"
                                       % (busy_pct, limit_pct), value=busy_pct, threshold=limit_pct)


def prompt_checks(prompt, entry, records, thresholds, endpoint, api):
    """The checks of one prompt's ``results`` entry (``parse.prompt_entry``) and its measured requests."""
    name, model = entry["prompt"], entry["model"]
    subject = dict(model=model, prompt=name)
    failed = [r for r in records if not r["ok"]]
    found = []
    if failed:
        first = failed[0]
        found.append(CHECKS["llm_request"].result(
            "crit", len(failed), 0, "prompt %s: %d of %d request(s) failed: %s" % (
                name, len(failed), len(records), fault_message(first["error_kind"], first["error"], endpoint, model, api)),
            subject=subject, fix=""))
    if len(failed) < len(records):
        found.append(CHECKS["llm_ttft"].level(entry["ttft_s"]["median"], thresholds,
                                              "time to first token of prompt %s (median)" % name, subject=subject))
    expect = prompt.get("expect")
    check = CHECKS["llm_expect"]
    if expect and entry.get("expect_passed") is True:
        found.append(check.result("ok", entry["expect_pass_rate"], 1.0,
                                  "prompt %s: every answer matches %r" % (name, expect), subject=subject))
    elif expect and entry.get("expect_passed") is False:
        found.append(check.result("crit", entry["expect_pass_rate"], 1.0, "prompt %s: answer does not match %r (got %r)"
                                  % (name, expect, (entry["answer"] or "")[:80]), subject=subject))
    return found
