"""The benchmark role through the real ansible-playbook against the replay server: health,
suite with a baseline and a regression, compare, gate, and the summary."""

import json
import os

import pytest

from testlib.ansible_run import run_playbook
from testlib.llm_servers import free_port, http_json, replay_servers

pytestmark = pytest.mark.integration


@pytest.fixture
def replay_server():
    """Factory of replay servers (own process groups), all stopped after the test."""
    yield from replay_servers()


# Playbook runs here keep their facts in memory: a benchmark fact left in the shared jsonfile fact
# cache would show in later daily summaries of other tests.
NO_FACT_CACHE = dict(ANSIBLE_CACHE_PLUGIN="memory")

SUITE = [dict(name="answer", prompt="What is the answer?", max_tokens=30, expect=r"\b42\b"),
         dict(name="chat", messages=[dict(role="user", content="Say the answer.")], max_tokens=30)]


def play(tmp_path, **extra):
    """Run playbooks/benchmark.yml with extra vars; return (proc, gpufleet_benchmark fact or None)."""
    extra.setdefault("benchmark_baseline_path", str(tmp_path / "benchmark_baselines.json"))
    extra.setdefault("benchmark_gate_path", str(tmp_path / "benchmark_gate.json"))
    extra.setdefault("benchmark_suite", SUITE)
    extra.setdefault("benchmark_timeout_s", 10)
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(extra))
    proc = run_playbook("playbooks/benchmark.yml", ["-e", "@%s" % vars_file], json_output=True, env=NO_FACT_CACHE)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        pytest.fail("no JSON from ansible-playbook (rc %s):\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    fact = None
    tasks = {}
    for task in data["plays"][0]["tasks"]:
        host = task["hosts"].get("localhost", {})
        tasks.setdefault(task["task"]["name"].split(" : ", 1)[-1], []).append(host)
        if "gpufleet_benchmark" in (host.get("ansible_facts") or {}):
            fact = host["ansible_facts"]["gpufleet_benchmark"]
    return proc, fact, tasks


def summary(tasks):
    return tasks["Print the health summary of this host"][0]["msg"]


def _decode_rates(fact):
    """Median decode tokens/s per prompt, as the probe measured them."""
    return dict((r["prompt"], r["decode_tokens_per_s"]["median"]) for r in fact["probe"]["results"])


def _assert_verdicts_follow_the_numbers(fact):
    """Every comparison row's status is the one docs/benchmark.md gives for its own numbers with the
    role's defaults: worse by 15 % warns, by 30 % is crit; a slower first token counts only when it
    rose by more than 50 ms."""
    rows = fact["baseline"]["comparison"]
    assert {r["metric"] for r in rows} == {"ttft_s", "decode_tokens_per_s"}
    for row in rows:
        before, now = row["baseline"], row["current"]
        worse = (now - before if row["metric"] == "ttft_s" else before - now) / before * 100.0
        if row["metric"] == "ttft_s" and now - before <= 0.05:
            expected = "ok"
        else:
            expected = "crit" if worse >= 30 else "warn" if worse >= 15 else "ok"
        assert row["status"] == expected, row


def test_health_ok_and_summary(replay_server, tmp_path):
    server = replay_server(first_delay_s=0.05, interval_s=0.002, tokens=8)
    proc, fact, tasks = play(tmp_path, benchmark_endpoint=server.url, benchmark_model="replay:1b")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert fact["mode"] == "health" and fact["status"] == "ok"
    assert fact["probe"]["runner"] == "ollama" and fact["probe"]["runner_version"] == "0.12.6"
    assert fact["probe"]["context"] == {"gpu": None, "driver": None} and fact["probe"]["host"] == "localhost"
    lines = summary(tasks)
    assert lines[0] == "status: OK"
    assert any(line.startswith("llm ollama replay:1b (ollama 0.12.6) on %s: health mode" % server.url) for line in lines), lines
    # The first token it prints is the one it measured: never earlier than the server handed it over.
    [printed] = [line for line in lines if line.startswith("llm prompt health: first token ")]
    ttft = float(printed.split("first token ", 1)[1].split()[0])
    assert ttft > min(s["ttft_s"] for s in http_json(server.url + "/_stats")["sent"]), (printed, http_json(server.url + "/_stats"))
    assert not os.path.exists(str(tmp_path / "benchmark_baselines.json"))  # health keeps no baseline


def test_health_runner_down_is_crit(tmp_path):
    url = "http://127.0.0.1:%d" % free_port()
    proc, fact, tasks = play(tmp_path, benchmark_endpoint=url, benchmark_model="replay:1b", summary_fail_on="crit")
    assert proc.returncode != 0  # summary_fail_on=crit fails the host
    assert fact["status"] == "crit"
    lines = summary(tasks)
    assert lines[0] == "status: CRIT"
    assert any(line.startswith("CRIT llm_endpoint: runner down at %s" % url) and "restart it" in line for line in lines), lines


def test_health_slow_first_token_is_crit(replay_server, tmp_path):
    server = replay_server(first_delay_s=0.4, interval_s=0.002, tokens=4)
    proc, fact, tasks = play(tmp_path, benchmark_endpoint=server.url, benchmark_model="replay:1b",
                             benchmark_ttft_warn_s=0.1, benchmark_ttft_crit_s=0.3)
    assert proc.returncode == 0
    check = [c for c in fact["checks"] if c["check"] == "llm_ttft"][0]
    assert check["status"] == "crit" and check["threshold"] == 0.3


def test_suite_baseline_regression_and_restore(replay_server, tmp_path):
    server = replay_server(first_delay_s=0.05, interval_s=0.01, tokens=30)
    common = dict(benchmark_endpoint=server.url, benchmark_model="replay:1b", benchmark_mode="suite",
                  benchmark_repeats=2, benchmark_warmup=0)
    baseline_file = tmp_path / "benchmark_baselines.json"
    proc, fact, tasks = play(tmp_path, **common)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert fact["baseline"]["action"] == "created" and fact["status"] == "ok"
    rows = json.loads(baseline_file.read_text())["rows"]
    assert len(rows) == 1 and rows[0]["key"]["runner_version"] == "0.12.6" and rows[0]["key"]["host"] == "localhost"
    assert set(rows[0]["prompts"]) == {"answer", "chat"}
    stored = baseline_file.read_text()

    http_json(server.url + "/_control", dict(interval_s=0.05))  # a slowed runner: 100 -> 20 tokens/s
    proc, fact, tasks = play(tmp_path, **common)
    slowed = _decode_rates(fact)
    assert fact["baseline"]["action"] == "kept" and fact["status"] == "crit"
    regress = [c for c in fact["checks"] if c["check"] == "benchmark_regression"]
    assert {c["prompt"] for c in regress} == {"answer", "chat"} and all(c["status"] == "crit" for c in regress)
    assert baseline_file.read_text() == stored  # the baseline changes only on request
    printed = tasks["Print the comparison with the baseline (prompt, metric, baseline, current, change, status)"][0]["msg"]
    assert any("decode_tokens_per_s" in line and line.endswith("crit") for line in printed), printed
    assert any(line.startswith("CRIT benchmark_regression: prompt answer regressed") for line in summary(tasks))

    http_json(server.url + "/_control", dict(interval_s=0.01))  # restored
    proc, fact, tasks = play(tmp_path, **common)
    # Compared with the same baseline; faster than the slowed runs; each verdict is what its own
    # numbers give (how close to the baseline a restored runner measures is speed: tests/bench).
    assert fact["baseline"]["action"] == "kept" and baseline_file.read_text() == stored
    restored = _decode_rates(fact)
    assert all(restored[p] > slowed[p] for p in ("answer", "chat")), (restored, slowed)
    _assert_verdicts_follow_the_numbers(fact)

    http_json(server.url + "/_control", dict(version="0.13.0", interval_s=0.05))  # new release, 5x slower
    proc, fact, tasks = play(tmp_path, **common)
    assert fact["baseline"]["action"] == "created"
    assert fact["baseline"]["previous"]["key"]["runner_version"] == "0.12.6"
    assert fact["status"] == "crit"
    assert len(json.loads(baseline_file.read_text())["rows"]) == 2

    proc, fact, tasks = play(tmp_path, benchmark_update_baseline=True, **common)
    assert fact["baseline"]["action"] == "updated" and fact["status"] == "ok"


def test_compare_table(replay_server, tmp_path):
    server = replay_server(first_delay_s=0.02, interval_s=0.002, tokens=10)
    proc, fact, tasks = play(tmp_path, benchmark_endpoint=server.url, benchmark_mode="compare",
                             benchmark_candidate_models=["replay:1b", "missing:7b"], benchmark_repeats=1, benchmark_warmup=0)
    assert proc.returncode == 0, proc.stdout[-3000:]
    rows = {row["model"]: row for row in fact["candidates"]}
    assert rows["replay:1b"]["ok"] is True and rows["replay:1b"]["expect_pass_rate"] == 1.0
    assert rows["replay:1b"]["vram_bytes"] == 123456789
    assert rows["missing:7b"]["ok"] is False and rows["missing:7b"]["status"] == "crit"
    table = tasks["Print the candidate table (TTFT, tokens/s, expect pass rate, VRAM)"][0]["msg"]
    assert table[0].split() == ["model", "TTFT", "s", "tokens/s", "expect", "VRAM", "MiB", "status"]
    assert table[1].startswith("replay:1b") and "100%" in table[1] and "118" in table[1]
    assert table[2].startswith("missing:7b") and table[2].endswith("crit (failed)")


def test_gate_before_after(replay_server, tmp_path):
    server = replay_server(first_delay_s=0.05, interval_s=0.01, tokens=20)
    common = dict(benchmark_endpoint=server.url, benchmark_model="replay:1b", benchmark_mode="gate",
                  benchmark_repeats=1, benchmark_warmup=0)
    proc, fact, tasks = play(tmp_path, benchmark_gate_phase="after", **common)
    assert proc.returncode != 0
    assert "run with benchmark_gate_phase=before first" in proc.stdout
    proc, fact, tasks = play(tmp_path, benchmark_gate_phase="before", **common)
    assert proc.returncode == 0, proc.stdout[-3000:]
    http_json(server.url + "/_control", dict(interval_s=0.05))  # the change made it 5x slower
    proc, fact, tasks = play(tmp_path, benchmark_gate_phase="after", **common)
    assert proc.returncode != 0 and "benchmark gate (after) on localhost failed" in proc.stdout
    slowed = _decode_rates(fact)
    http_json(server.url + "/_control", dict(interval_s=0.01))
    proc, fact, tasks = play(tmp_path, benchmark_gate_phase="after", **common)
    restored = _decode_rates(fact)
    assert restored["answer"] > slowed["answer"], (restored, slowed)
    _assert_verdicts_follow_the_numbers(fact)
    # The gate fails the host exactly when the result is warn or crit (benchmark_gate_fail_on: warn).
    assert (proc.returncode != 0) is (fact["status"] in ("warn", "crit")), proc.stdout[-3000:]


def test_daily_llm_area_runs_only_with_an_endpoint(replay_server, tmp_path):
    server = replay_server(first_delay_s=0.02, interval_s=0.002, tokens=6)
    vars_file = tmp_path / "daily.json"
    vars_file.write_text(json.dumps(dict(host_health_areas=["host", "llm"], host_health_llm_endpoint=server.url,
                                         host_health_llm_model="replay:1b")))
    proc = run_playbook("playbooks/daily.yml", ["-e", "@%s" % vars_file], env=NO_FACT_CACHE)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "llm ollama replay:1b (ollama 0.12.6) on %s: health mode" % server.url in proc.stdout
    assert "llm prompt health: first token" in proc.stdout
    assert http_json(server.url + "/_stats")["requests"] == 1
    vars_file.write_text(json.dumps(dict(host_health_areas=["host", "llm"])))  # no endpoint: nothing runs
    # (a fresh fact cache: ansible.cfg caches every gpufleet_* fact for a day, this one included)
    proc = run_playbook("playbooks/daily.yml", ["-e", "@%s" % vars_file], env=NO_FACT_CACHE)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "llm prompt" not in proc.stdout and "health mode" not in proc.stdout
    assert http_json(server.url + "/_stats")["requests"] == 1
