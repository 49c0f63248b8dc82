"""The benchmark area as a whole, on a real probe result (the replay server, tests/testlib/llm_replay_server.py):
what the history records, what Prometheus gets, the verdicts at their thresholds, the fact filter."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.filter.benchmark import benchmark_fact, benchmark_gpu_context
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import AREA, baseline, checks, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark.collect import probe
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import prom
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _history
from testlib.llm_servers import replay_servers

MODEL = "replay:1b"
PROMPTS = [dict(name="answer", prompt="What is the answer?", max_tokens=20, expect=r"\b42\b"),
           dict(name="chat", messages=[dict(role="user", content="Say the answer.")], max_tokens=20)]


@pytest.fixture(scope="module")
def real():
    """``(server url, gpufleet_benchmark fact)`` of a suite run against the replay server, with a baseline."""
    servers = replay_servers()
    start = next(servers, None)
    assert start is not None
    server = start(first_delay_s=0.05, interval_s=0.002, tokens=12)
    result = probe(dict(endpoint=server.url, api="ollama", model=MODEL, prompts=PROMPTS, repeats=2, warmup=0,
                        timeout_s=10.0, concurrency=1, headers={}, validate_certs=True))
    compared = baseline.compare([], result, 15, 30)
    compared = baseline.compare(compared["rows"], result, 15, 30)  # the same figures: every prompt within 15 %
    yield server.url, benchmark_fact("suite", probe=dict(result, changed=False, invocation={}), baseline=compared)
    next(servers, None)


def test_the_real_probe_measured_every_prompt(real):
    _url, fact = real
    assert fact["status"] == "ok", fact["checks"]
    assert [(e["prompt"], e["model"], e["ok"]) for e in fact["probe"]["results"]] == [
        ("answer", MODEL, True), ("chat", MODEL, True)]
    assert {c["check"] for c in fact["checks"]} == {"llm_ttft", "llm_expect", "benchmark_regression"}
    assert registry.area("llm") is AREA and registry.of_fact("gpufleet_benchmark") is AREA


@pytest.mark.parametrize("check, path", [(c, p) for c in checks.CHECKS for p in c.reads],
                         ids=["%s:%s" % (c.name, p) for c in checks.CHECKS for p in c.reads])
def test_every_reading_a_check_judges_is_recorded_from_a_real_fact(real, check, path):
    """The path a check judges is in the real fact, and the history records its values (issue 19:
    the TTFT and tokens/s medians were dropped)."""
    _url, fact = real
    subject = checks.PROMPT if "[]" in path else None
    found = Reading(path, subject=[(key, key) for key in subject] if subject else None).values(fact)
    assert found, "%s reads %s, which a real gpufleet_benchmark fact does not have" % (check.name, path)
    rows = dict(((metric, subject), value) for metric, subject, value in _history.extract_metrics({"gpufleet_benchmark": fact}))
    metric = "benchmark." + path.replace("[]", "")
    for where, value in found:
        text = ",".join("%s=%s" % (k, where[k]) for k in sorted(where))
        assert rows.get((metric, text)) == value, "%s judges %s %s, which the history does not record" % (check.name, metric, text)


def test_the_history_records_the_medians_and_p95_per_model_and_prompt(real):
    _url, fact = real
    rows = dict(((metric, subject), value) for metric, subject, value in _history.extract_metrics({"gpufleet_benchmark": fact}))
    for entry in fact["probe"]["results"]:
        subject = "model=%s,prompt=%s" % (MODEL, entry["prompt"])
        for figure in ("ttft_s", "decode_tokens_per_s"):
            for stat in ("median", "p95"):
                value = rows[("benchmark.probe.results.%s.%s" % (figure, stat), subject)]
                assert value == entry[figure][stat] and value > 0
    assert rows[("benchmark.probe.results.expect_pass_rate", "model=%s,prompt=answer" % MODEL)] == 1.0


def test_prometheus_gets_the_ttft_and_decode_rate_of_a_real_probe(real):
    url, fact = real
    text = prom.render(prom.metrics_from_facts({"gpufleet_benchmark": fact}))
    medians = dict((e["prompt"], e) for e in fact["probe"]["results"])
    for name, figure in (("gpufleet_llm_ttft_seconds", "ttft_s"), ("gpufleet_llm_decode_tokens_per_second", "decode_tokens_per_s")):
        samples = prom.parse_samples(text, name)
        assert sorted(labels["prompt"] for labels, _value in samples) == ["answer", "chat"], text
        for labels, value in samples:
            assert labels == {"model": MODEL, "prompt": labels["prompt"], "endpoint": url}
            assert value == pytest.approx(medians[labels["prompt"]][figure]["median"]) and value > 0
    ttft = [labels for labels, _v in prom.parse_samples(text, "gpufleet_check_status") if labels["check"] == "llm_ttft"]
    assert sorted(labels["subject"] for labels in ttft) == ["model=%s,prompt=answer" % MODEL, "model=%s,prompt=chat" % MODEL]


def _records(ttfts, ok=True, text="The answer is 42."):
    figures = dict(total_s=1.0, decode_tokens_per_s=50.0, prompt_tokens_per_s=400.0, server_decode_tokens_per_s=55.0,
                   output_tokens=12, tokens_server_reported=True, text=text)
    return [dict(figures, ttft_s=t, ok=ok, error=None if ok else "HTTP 500 x", error_kind=None if ok else "http")
            for t in ttfts]


@pytest.mark.parametrize("ttft, status", [(4.99, "ok"), (5.0, "warn"), (9.99, "warn"), (10.0, "crit")])
def test_llm_ttft_at_the_documented_thresholds(ttft, status):
    # docs/checks.md: llm_ttft warns at a 5 s median, is critical at 10 s.
    prompt = dict(name="p")
    records = _records([ttft, ttft])
    entry = parse.prompt_entry(prompt, MODEL, records)
    found = checks.prompt_checks(prompt, entry, records, checks.thresholds_of({}), "http://h:11434", "ollama")
    assert [(c["check"], c["status"], c["subject"]) for c in found] == [("llm_ttft", status, {"model": MODEL, "prompt": "p"})]


def test_failed_requests_and_a_wrong_answer_are_crit():
    prompt = dict(name="p", expect=r"\b42\b")
    records = _records([0.1], text="I do not know.") + _records([None], ok=False)
    entry = parse.prompt_entry(prompt, MODEL, records)
    found = checks.prompt_checks(prompt, entry, records, checks.thresholds_of({}), "http://h:11434", "ollama")
    found = dict((c["check"], c) for c in found)
    assert found["llm_request"]["status"] == "crit" and "1 of 2 request(s) failed" in found["llm_request"]["message"]
    assert found["llm_expect"]["status"] == "crit" and "re-pull it" in found["llm_expect"]["message"]
    assert found["llm_ttft"]["status"] == "ok" and found["llm_ttft"]["value"] == 0.1


def test_a_skipped_probe_is_unknown_and_a_runner_down_crit():
    skipped = checks.skipped(95.0, 50.0)
    assert (skipped["check"], skipped["status"]) == ("llm_probe", "unknown")
    assert "could not look" in skipped["message"] and "measure when the GPU is idle" in skipped["message"]
    down = checks.endpoint_down("refused", "connection refused", "http://h:11434", MODEL, "ollama")
    assert (down["check"], down["status"]) == ("llm_endpoint", "crit") and "runner down at http://h:11434" in down["message"]


def test_no_baseline_and_no_successful_prompt_is_unknown():
    failed = dict(host="h", endpoint="http://h:11434", model=MODEL, results=[dict(prompt="p", ok=False)])
    out = baseline.compare([], failed, 15, 30)
    assert out["action"] == "none" and out["rows"] == []
    assert [(c["check"], c["status"]) for c in out["checks"]] == [("benchmark_baseline", "unknown")]


def test_the_fact_filter_leaves_out_a_skipped_baseline_and_refuses_a_bad_mode(real):
    _url, fact = real
    probe_result = fact["probe"]
    shaped = benchmark_fact("suite", probe=probe_result, baseline={"skipped": True, "changed": False})
    assert shaped["baseline"] == {} and shaped["checks"] == probe_result["checks"]
    with pytest.raises(AnsibleFilterError, match="mode must be one of"):
        benchmark_fact("weekly", probe=probe_result)
    with pytest.raises(AnsibleFilterError, match="compare mode needs the candidates"):
        benchmark_fact("compare", probe=probe_result)
    with pytest.raises(AnsibleFilterError, match="probe must be an llm_probe result"):
        benchmark_fact("health", probe=[probe_result])


def test_the_gpu_context_of_a_probe_from_a_gpu_fact():
    # what health_upkeep's llm reads from its own run and the benchmark role from the gathered fact
    fact = {"nvidia": {"present": True, "driver_version": "550.54.15",
                       "gpus": [{"name": "NVIDIA GeForce RTX 4090", "utilization_gpu_pct": 12},
                                {"name": "NVIDIA GeForce RTX 3090", "utilization_gpu_pct": 88}]},
            "amd": {"present": True, "driver_version": "6.8.5",
                    "gpus": [{"name": "AMD Radeon PRO W7900", "utilization_gpu_pct": None}]}}
    assert benchmark_gpu_context(fact) == {
        "busy_pct": 88, "driver": "550.54.15",
        "gpu": "NVIDIA GeForce RTX 4090, NVIDIA GeForce RTX 3090, AMD Radeon PRO W7900"}
    amd_only = {"nvidia": {"present": False, "driver_version": None, "gpus": []},
                "amd": {"present": True, "driver_version": "6.8.5", "gpus": [{"utilization_gpu_pct": 3.5}]}}
    assert benchmark_gpu_context(amd_only) == {"busy_pct": 3.5, "driver": "6.8.5", "gpu": "?"}
    for nothing in (None, {}, {"nvidia": None, "amd": None}):
        assert benchmark_gpu_context(nothing) == {"busy_pct": None, "gpu": None, "driver": None}
    with pytest.raises(AnsibleFilterError, match="expects a gpufleet_gpu fact"):
        benchmark_gpu_context(["not", "a", "fact"])
