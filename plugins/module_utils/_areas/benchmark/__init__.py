# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``benchmark`` (fact ``gpufleet_benchmark``, known as ``llm`` in the cadence settings).

Not gathered by ``health_facts``: the module ``llm_probe`` measures an LLM endpoint
(``collect.py``, judged by ``checks.py``), ``benchmark_baseline`` compares with the stored rows
(``baseline.py``), and the benchmark role shapes both into the fact on the controller with the
``benchmark_fact`` filter (:func:`build_fact`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import checks, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading

MODES = ("health", "suite", "compare", "gate")
PROMPT = (("model", "model"), ("prompt", "prompt"))
MODEL = ("model", "model")
# Keys of a registered module result that are Ansible's, not the module's.
NOT_RESULT = ("invocation", "changed", "failed", "diff")

AREA = Area(
    "benchmark", "benchmark",
    summary="an LLM endpoint's time to first token, decode tokens/s and answers, against its stored baseline",
    module="llm_probe",
    # The options of llm_probe (its thresholds come from the checks table).
    options=dict(
        endpoint=dict(type="str", required=True),
        api=dict(type="str", choices=["ollama", "openai"], default="ollama"),
        model=dict(type="str", required=True),
        prompts=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            prompt=dict(type="str"),
            messages=dict(type="list", elements="dict"),
            max_tokens=dict(type="int", default=128, no_log=False),
            expect=dict(type="str"),
        ), mutually_exclusive=[["prompt", "messages"]], required_one_of=[["prompt", "messages"]]),
        repeats=dict(type="int", default=3),
        warmup=dict(type="int", default=1),
        timeout_s=dict(type="float", default=60),
        concurrency=dict(type="int", default=1),
        temperature=dict(type="float"),
        seed=dict(type="int"),
        headers=dict(type="dict", default={}, no_log=True),
        validate_certs=dict(type="bool", default=True),
        gpu_busy_pct=dict(type="float"),
        skip_if_gpu_busy_pct=dict(type="float"),
        context=dict(type="dict", default={}),
        log_path=dict(type="path"),
    ),
    ranges=dict(repeats=(1, None), concurrency=(1, None), warmup=(0, None)),
    checks=checks.CHECKS,
    present=present.summary_lines,
    metrics=present.metrics,
    readings=(
        Reading("probe.results[].ttft_s.median", subject=PROMPT),
        Reading("probe.results[].ttft_s.p95", subject=PROMPT),
        Reading("probe.results[].decode_tokens_per_s.median", subject=PROMPT),
        Reading("probe.results[].decode_tokens_per_s.p95", subject=PROMPT),
        Reading("probe.results[].prompt_tokens_per_s.median", subject=PROMPT),
        Reading("probe.results[].expect_pass_rate", subject=PROMPT),
        Reading("probe.throughput_tokens_per_s"),
        Reading("probe.vram_bytes"),
        Reading("candidates[].ttft_s", subject=MODEL),
        Reading("candidates[].decode_tokens_per_s", subject=MODEL),
        Reading("candidates[].vram_bytes", subject=MODEL),
    ),
)


def _clean(result):
    return dict((k, v) for k, v in (result or {}).items() if k not in NOT_RESULT)


def gpu_context(gpu_fact):
    """``(busy_pct, context)`` of a probe from a ``gpufleet_gpu`` fact: the busiest GPU's utilisation (None
    when no GPU reports one) and ``{gpu, driver}`` (the GPUs' names, the driver version; None when not
    reported). ``health_upkeep``'s ``llm`` reads its own run's fact with it, the benchmark role the gathered
    fact (the filter ``benchmark_gpu_context``)."""
    fact = gpu_fact or {}
    gpus = [gpu for vendor in ("nvidia", "amd") for gpu in ((fact.get(vendor) or {}).get("gpus") or [])]
    busy = [gpu.get("utilization_gpu_pct") for gpu in gpus if isinstance(gpu.get("utilization_gpu_pct"), (int, float))]
    driver = (fact.get("nvidia") or {}).get("driver_version") or (fact.get("amd") or {}).get("driver_version")
    names = ", ".join(str(gpu.get("name") or "?") for gpu in gpus)
    return (max(busy) if busy else None), dict(gpu=names or None, driver=driver or None)


def build_fact(mode, probe=None, baseline=None, candidates=None):
    """The ``gpufleet_benchmark`` fact from an llm_probe result, a benchmark_baseline result and
    (compare mode) a list of llm_probe results; checks and the worst status over all of them."""
    if mode not in MODES:
        raise ValueError("mode must be one of %s, not %r" % (", ".join(MODES), mode))
    if mode == "compare" and candidates is None:
        raise ValueError("compare mode needs the candidates (the llm_probe results of each model)")
    if mode != "compare" and not isinstance(probe, dict):
        raise ValueError("%s mode needs the probe (the llm_probe result)" % mode)
    fact = dict(schema_version=AREA.schema_version, mode=mode)
    found = []
    if mode == "compare":
        probes = [_clean(p) for p in candidates]
        first = probes[0] if probes else {}
        fact.update(endpoint=first.get("endpoint"), api=first.get("api"),
                    model=", ".join(str(p.get("model")) for p in probes), candidates=present.candidate_rows(probes))
        for result in probes:
            for check in result.get("checks") or []:
                found.append(dict(check, model=result.get("model")))
    else:
        probe = _clean(probe)
        baseline = _clean(baseline) if isinstance(baseline, dict) and not baseline.get("skipped") else {}
        fact.update(probe=probe, baseline=baseline)
        found.extend(probe.get("checks") or [])
        found.extend(baseline.get("checks") or [])
    fact.update(checks=found, status=worst_status(found))
    return fact
