"""The benchmark area's probe (collect.py) against the replay server (tests/testlib/llm_replay_server.py): accuracy, faults,
concurrency, provenance and the JSON-lines log. Each server runs in its own process group."""

import json

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark.collect import probe, run
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.llm_http import Endpoint
from testlib.llm_servers import free_port, http_json, replay_servers

MODEL = "replay:1b"


@pytest.fixture
def replay_server():
    """Factory of replay servers (own process groups), all stopped after the test."""
    yield from replay_servers()


def options(url, api="openai", **extra):
    opts = dict(endpoint=url, api=api, model=MODEL, prompts=[dict(name="p", prompt="What is the answer?", max_tokens=40)],
                repeats=3, warmup=1, timeout_s=5.0, concurrency=1, headers={}, validate_certs=True)
    opts.update(extra)
    return opts


@pytest.mark.parametrize("api", ["openai", "ollama"])
def test_figures_follow_what_the_server_really_wrote(replay_server, api):
    """First chunk after 300 ms, then one per 20 ms; the server records when it handed each token over.

    Order and presence only: no client can see a token before the server hands it over, so the
    probe's times are above the server's own for the same requests, and the percentiles are
    ordered. How close they are (accuracy) is measured, as ratios in one run, by
    tests/bench/llm_probe_overhead.py (docs/performance.md).
    """
    server = replay_server(first_delay_s=0.3, interval_s=0.02, tokens=40)
    result = probe(options(server.url, api, repeats=7))
    entry = result["results"][0]
    assert entry["ok"], entry
    assert entry["output_tokens"] == 40 and entry["tokens_server_reported"] is True
    sent = http_json(server.url + "/_stats")["sent"]
    assert len(sent) == 8  # one warm-up and seven measured requests, each written in full
    measured = sent[-7:]
    for figure in ("ttft_s", "total_s", "decode_tokens_per_s"):
        stats = entry[figure]
        assert 0 < stats["min"] <= stats["median"] <= stats["p95"] <= stats["max"], (figure, stats)
    assert entry["ttft_s"]["min"] > min(s["ttft_s"] for s in measured)
    assert entry["ttft_s"]["max"] > max(s["ttft_s"] for s in measured)
    assert entry["total_s"]["min"] > min(s["last_token_s"] for s in measured)
    assert entry["ttft_s"]["median"] < entry["total_s"]["median"]
    assert result["status"] == "ok"


def test_provenance_ollama(replay_server):
    server = replay_server(first_delay_s=0.01, interval_s=0.001)
    result = probe(options(server.url, "ollama", repeats=1, warmup=0))
    assert (result["runner"], result["runner_version"]) == ("ollama", "0.12.6")
    assert result["model_digest"] == "sha256:" + "ab" * 32
    assert result["model_details"]["quantization_level"] == "Q4_K_M"
    assert result["vram_bytes"] == 123456789


def test_provenance_openai_vllm_and_context(replay_server):
    server = replay_server(first_delay_s=0.01, interval_s=0.001)
    result = probe(options(server.url, "openai", repeats=1, warmup=0, context=dict(host="gpu-ws-01", gpu="RTX 4090")))
    assert (result["runner"], result["runner_version"]) == ("vllm", "0.11.0")
    assert result["model_digest"] == MODEL and result["host"] == "gpu-ws-01"
    assert result["context"] == {"gpu": "RTX 4090"}


@pytest.mark.parametrize("api", ["openai", "ollama"])
def test_concurrency_is_never_exceeded(replay_server, api):
    server = replay_server(first_delay_s=0.1, interval_s=0.005, tokens=10)
    result = probe(options(server.url, api, repeats=6, warmup=0, concurrency=2,
                           prompts=[dict(name="a", prompt="x"), dict(name="b", prompt="y")]))
    stats = http_json(server.url + "/_stats")
    assert stats["requests"] == 12
    assert stats["max_in_flight"] == 2 and result["max_in_flight"] == 2
    assert result["throughput_tokens_per_s"] > 0
    one = probe(options(server.url, api, repeats=3, warmup=0, concurrency=1))
    assert one["max_in_flight"] == 1


def _fault(replay_server, api, fault, **extra):
    server = replay_server(first_delay_s=0.05, interval_s=0.005, tokens=20, fault=fault)
    return probe(options(server.url, api, repeats=1, warmup=0, **extra))


def test_connection_refused():
    result = probe(options("http://127.0.0.1:%d" % free_port(), "ollama"))
    assert result["status"] == "crit"
    check = result["checks"][0]
    assert check["check"] == "llm_endpoint"
    assert "runner down" in check["message"] and "connection refused" in check["message"]
    assert "restart it" in check["message"]
    assert result["results"][0]["ok"] is False and result["results"][0]["error_kind"] == "refused"


@pytest.mark.parametrize("api, text", [("ollama", "model 'nope:7b' not found"), ("openai", "model 'nope:7b' not found")])
def test_model_not_found(replay_server, api, text):
    server = replay_server()
    result = probe(options(server.url, api, model="nope:7b", repeats=1, warmup=0))
    check = [c for c in result["checks"] if c["check"] == "llm_request"][0]
    assert check["status"] == "crit"
    assert "HTTP 404" in check["message"] and text in check["message"] and "not pulled" in check["message"]
    if api == "ollama":
        assert "ollama pull nope:7b" in check["message"]


@pytest.mark.parametrize("api", ["openai", "ollama"])
def test_server_error_5xx(replay_server, api):
    result = _fault(replay_server, api, "500")
    check = [c for c in result["checks"] if c["check"] == "llm_request"][0]
    assert "HTTP 500" in check["message"]
    assert "CUDA error: out of memory" in check["message"]  # the runner's own text
    assert "check the runner's logs" in check["message"]
    assert result["results"][0]["error_kind"] == "http"


@pytest.mark.parametrize("api", ["openai", "ollama"])
def test_stream_cut(replay_server, api):
    result = _fault(replay_server, api, "cut")
    entry = result["results"][0]
    assert entry["ok"] is False and entry["error_kind"] == "cut", entry
    assert "after 10 token(s)" in entry["error"]
    assert "stream cut" in [c for c in result["checks"] if c["check"] == "llm_request"][0]["message"]


@pytest.mark.parametrize("api", ["openai", "ollama"])
def test_malformed_chunk(replay_server, api):
    result = _fault(replay_server, api, "malformed")
    entry = result["results"][0]
    assert entry["error_kind"] == "malformed" and "malformed" in entry["error"]
    assert result["status"] == "crit"


@pytest.mark.parametrize("api", ["openai", "ollama"])
def test_error_inside_the_stream(replay_server, api):
    result = _fault(replay_server, api, "stream_error")
    entry = result["results"][0]
    assert entry["error_kind"] == "server" and "unexpected EOF" in entry["error"]


@pytest.mark.parametrize("fault", ["slowloris", "drip"])
def test_slow_loris_never_hangs_past_timeout(replay_server, fault):
    # The server holds the request for 120 s: a probe that waited for it would see the stream end
    # (a cut or an empty answer), not its own timeout.
    result = _fault(replay_server, "ollama", fault, timeout_s=1.0)
    entry = result["results"][0]
    assert entry["error_kind"] == "timeout", entry
    assert "no first token within timeout_s=1.0 s" in entry["error"]
    assert "raise timeout_s" in [c for c in result["checks"] if c["check"] == "llm_request"][0]["message"]


def test_ttft_beyond_timeout(replay_server):
    result = _fault(replay_server, "openai", "none", timeout_s=0.5)
    assert result["status"] == "ok"  # 50 ms first token is fine
    server = replay_server(first_delay_s=2.0)
    result = probe(options(server.url, "openai", repeats=1, warmup=0, timeout_s=0.5))
    # A probe that waited for the first token (written at 2 s) would have an answer, not a timeout.
    assert result["results"][0]["error_kind"] == "timeout"
    assert "no first token within timeout_s=0.5 s" in result["results"][0]["error"]


def test_ttft_thresholds(replay_server):
    server = replay_server(first_delay_s=0.2, interval_s=0.001, tokens=5)
    result = probe(options(server.url, "ollama", repeats=1, warmup=0, thresholds=dict(ttft_warn_s=0.1, ttft_crit_s=1)))
    check = [c for c in result["checks"] if c["check"] == "llm_ttft"][0]
    assert check["status"] == "warn" and check["threshold"] == 0.1
    assert "GPU offload" in check["message"]


def test_expect_catches_gibberish(replay_server):
    server = replay_server(first_delay_s=0.01, interval_s=0.001, tokens=6, text="qzx vbn wer tyu iop asd")
    result = probe(options(server.url, "ollama", repeats=2, warmup=0,
                           prompts=[dict(name="answer", prompt="x", expect=r"\b42\b")]))
    entry = result["results"][0]
    assert entry["expect_passed"] is False and entry["expect_pass_rate"] == 0
    check = [c for c in result["checks"] if c["check"] == "llm_expect"][0]
    assert check["status"] == "crit" and "corrupted" in check["message"]
    http_json(server.url + "/_control", dict(text="The answer is 42 ."))
    result = probe(options(server.url, "ollama", repeats=2, warmup=0,
                           prompts=[dict(name="answer", prompt="x", expect=r"\b42\b")]))
    assert result["results"][0]["expect_passed"] is True and result["status"] == "ok"


def test_gpu_busy_skips():
    result = probe(options("http://127.0.0.1:%d" % free_port(), gpu_busy_pct=95.0, skip_if_gpu_busy_pct=50.0))
    # Nothing was measured: unknown (could not look), never ok.
    assert result["measured"] is False and result["status"] == "unknown" and result["results"] == []
    assert [(c["check"], c["status"]) for c in result["checks"]] == [("llm_probe", "unknown")]
    assert "GPU busy 95 %" in result["checks"][0]["message"]


def test_log_lines(replay_server, tmp_path):
    server = replay_server(first_delay_s=0.01, interval_s=0.001, tokens=5)
    log = tmp_path / "probe.jsonl"
    result, warnings = run(options(server.url, "ollama", repeats=2, warmup=1, log_path=str(log)))
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 3 == result["log_lines"] and not warnings
    assert [line["warmup"] for line in lines] == [True, False, False]
    assert {line["runner_version"] for line in lines} == {"0.12.6"}
    assert all(line["ok"] and line["failure"] is None and line["duration_s"] > 0 for line in lines)
    run(options("http://127.0.0.1:%d" % free_port(), "ollama", log_path=str(log)))
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["ok"] is False and "connection refused" in last["failure"]
    _result, warnings = run(options(server.url, "ollama", repeats=1, warmup=0, log_path=str(tmp_path / "no" / "dir.jsonl")))
    assert "could not append to log_path" in warnings[0]
    _result, _warnings = run(options(server.url, "ollama", repeats=1, warmup=0, log_path=str(log)), check_mode=True)
    assert len(log.read_text().splitlines()) == 4  # check mode writes nothing


def test_endpoint_validation():
    with pytest.raises(ValueError, match="http:// or https://"):
        Endpoint("ftp://x")
