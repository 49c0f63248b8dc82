"""health_upkeep's body: the areas and the log rotation in one run, options checked before anything is
read or changed, and the facts kept in the error when the rotation fails after the areas were read."""

import gzip
import os
import time

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import health_upkeep, log_rotate

DAY = 86400


def _no_commands(*args, **kwargs):
    raise AssertionError("no command may run here: %r" % (args,))


def _params(tmp_path=None, **rotate):
    params = dict((area, {}) for area in registry.GATHERED)
    params.update(areas=["host"], log_rotate=None)
    if tmp_path is not None:
        params["log_rotate"] = dict(dict(paths=[str(tmp_path)], patterns=["*.jsonl"], compress_days=30,
                                         delete_days=None, recurse=True), **rotate)
    return params


def _logs(tmp_path):
    old = tmp_path / "2026-09-01.jsonl"
    old.write_text('{"prompt": "x"}\n' * 50)
    then = time.time() - 60 * DAY
    os.utime(str(old), (then, then))
    (tmp_path / "today.jsonl").write_text("{}\n")
    return old


def test_without_log_rotate_it_gathers_and_changes_nothing():
    result, warnings = health_upkeep.run(_no_commands, _params())
    assert result["changed"] is False and result["log_rotate"] is None and "diff" not in result
    assert result["ansible_facts"]["gpufleet_host"]["status"] in ("ok", "warn", "crit")
    assert set(result["seconds"]) == {"host"} and warnings == []


def test_check_mode_plans_then_apply_rotates_then_nothing_is_left(tmp_path):
    old = _logs(tmp_path)
    planned, _warnings = health_upkeep.run(_no_commands, _params(tmp_path), check_mode=True, diff=True)
    assert planned["changed"] is True and old.exists()
    assert [(a["action"], a["path"]) for a in planned["log_rotate"]["actions"]] == [("compress", str(old))]
    assert planned["diff"] == {"before": str(old) + "\n", "after": str(old) + ".gz\n"}
    assert planned["log_rotate"]["freed_bytes"] == 0 and "gpufleet_host" in planned["ansible_facts"]
    done, _warnings = health_upkeep.run(_no_commands, _params(tmp_path))
    assert done["changed"] is True and not old.exists() and "diff" not in done
    assert gzip.open(str(old) + ".gz").read().decode().count("prompt") == 50
    assert (tmp_path / "today.jsonl").exists() and done["log_rotate"]["freed_bytes"] > 0
    assert "log_rotate" in done["seconds"]
    again, _warnings = health_upkeep.run(_no_commands, _params(tmp_path))
    assert again["changed"] is False and again["log_rotate"]["actions"] == []


def test_the_area_options_are_checked_once_per_run(monkeypatch):
    calls = []
    real = health_upkeep.gather.validate
    monkeypatch.setattr(health_upkeep.gather, "validate", lambda *a: calls.append(a) or real(*a))
    result, _warnings = health_upkeep.run(_no_commands, _params())
    assert len(calls) == 1 and "gpufleet_host" in result["ansible_facts"]


def test_a_missing_log_directory_is_a_warning_not_a_failure(tmp_path):
    result, warnings = health_upkeep.run(_no_commands, _params(tmp_path / "nope"))
    assert result["changed"] is False and result["log_rotate"]["missing_paths"] == [str(tmp_path / "nope")]
    assert warnings == ["log_rotate: log directory %s does not exist; skipped" % (tmp_path / "nope")]


def test_options_are_refused_before_anything_is_read_or_changed(tmp_path, monkeypatch):
    old = _logs(tmp_path)
    monkeypatch.setattr(health_upkeep.gather, "gather_areas", lambda *a, **k: pytest.fail("gathered despite bad options"))
    with pytest.raises(health_upkeep.UpkeepError, match=r"delete_days \(10\) must not be below compress_days \(30\)"):
        health_upkeep.run(_no_commands, _params(tmp_path, delete_days=10))
    params = _params(tmp_path, compress_days=-1)
    params["host"] = {"thresholds": {"no_such_threshold": 1}}
    with pytest.raises(health_upkeep.UpkeepError) as err:
        health_upkeep.run(_no_commands, params)
    assert str(err.value).startswith("gathering health facts: ") and "no_such_threshold" in str(err.value)
    assert "compress_days" in str(err.value) and err.value.results == {}
    assert old.exists()


def test_a_rotation_that_fails_keeps_the_gathered_facts_in_the_error(tmp_path, monkeypatch):
    old = _logs(tmp_path)

    def refuse(path):
        raise OSError(13, "Permission denied", path)

    monkeypatch.setattr(log_rotate, "compress", refuse)
    with pytest.raises(health_upkeep.UpkeepError) as err:
        health_upkeep.run(_no_commands, _params(tmp_path))
    assert str(err.value) == "rotating logs: compress %s: [Errno 13] Permission denied: '%s'" % (old, old)
    assert err.value.results["ansible_facts"]["gpufleet_host"]["schema_version"] == 1
    assert err.value.results["log_rotate"]["freed_bytes"] == 0 and old.exists()


def test_an_area_that_fails_keeps_the_others_in_the_error(monkeypatch):
    def broken(run_command, params):
        raise health_upkeep.AreaError("gpu: the reader broke")

    monkeypatch.setattr(registry.area("gpu"), "gather", broken)
    params = _params()
    params["areas"] = ["host", "gpu"]
    with pytest.raises(health_upkeep.UpkeepError, match="gathering health facts: gpu: the reader broke") as err:
        health_upkeep.run(_no_commands, params)
    assert list(err.value.results["ansible_facts"]) == ["gpufleet_host"]


def test_the_argument_spec_is_health_facts_and_log_rotate():
    spec = health_upkeep.argument_spec()
    assert spec["areas"]["choices"] == sorted(registry.GATHERED)
    assert all(spec[area] == {"type": "dict", "default": {}} for area in registry.GATHERED)
    assert spec["log_rotate"]["options"] is log_rotate.ARGUMENT_SPEC and "default" not in spec["log_rotate"]


# ---------------------------------------------------------- llm and vram_restart ride in the same run (issue 21)

GPU_FACT = {"nvidia": {"present": True, "driver_version": "550.54.15",
                       "gpus": [{"index": 0, "name": "NVIDIA GeForce RTX 4090", "utilization_gpu_pct": 97,
                                 "memory_used_pct": 40.0}]},
            "amd": {"present": False, "gpus": []}, "checks": [], "status": "ok"}


def _with_gpu(monkeypatch, fact):
    """The gpu area answers ``fact`` (the hardware boundary); the host area is read for real."""
    monkeypatch.setattr(registry.area("gpu"), "gather", lambda run_command, params: (fact, []))
    params = _params()
    params["areas"] = ["host", "gpu"]
    return params


@pytest.fixture
def replay_server():
    from testlib.llm_servers import replay_servers
    yield from replay_servers()


def _llm(url, **extra):
    return dict(dict(endpoint=url, api="ollama", model="replay:1b", repeats=1, warmup=0, timeout_s=5,
                     prompts=[{"name": "health", "prompt": "Reply with one word: ready.", "max_tokens": 16}],
                     context={"host": "box1"}), **extra)


def test_the_llm_probe_runs_after_the_areas_with_the_gpu_reading_of_the_run(monkeypatch, replay_server):
    server = replay_server(first_delay_s=0.02, interval_s=0.002, tokens=6)
    params = _with_gpu(monkeypatch, GPU_FACT)
    params["llm"] = _llm(server.url)
    result, _warnings = health_upkeep.run(_no_commands, params, check_mode=True)   # the probe runs in check mode too
    fact = result["ansible_facts"]["gpufleet_benchmark"]
    assert fact["mode"] == "health" and fact["status"] == "ok", fact
    assert fact["probe"]["host"] == "box1" and fact["probe"]["endpoint"] == server.url
    # the probe's context is the run's GPU reading (the benchmark role read it from the fact the same way)
    assert fact["probe"]["context"] == {"gpu": "NVIDIA GeForce RTX 4090", "driver": "550.54.15"}
    assert [r["prompt"] for r in fact["probe"]["results"]] == ["health"]
    assert result["changed"] is False and set(result["seconds"]) == {"host", "gpu", "llm"}
    from testlib.llm_servers import http_json
    assert http_json(server.url + "/_stats")["requests"] == 1


def test_the_llm_probe_skips_while_the_gpu_of_this_run_is_busy(monkeypatch):
    params = _with_gpu(monkeypatch, GPU_FACT)   # 97 % busy
    params["llm"] = _llm("http://127.0.0.1:9", skip_if_gpu_busy_pct=90)   # nothing listens: a request would fail
    result, _warnings = health_upkeep.run(_no_commands, params)
    probe = result["ansible_facts"]["gpufleet_benchmark"]["probe"]
    assert probe["measured"] is False and "GPU busy 97 %" in probe["skipped_reason"]
    assert result["ansible_facts"]["gpufleet_benchmark"]["status"] == "unknown"


def test_llm_and_vram_options_are_refused_before_anything_is_read(monkeypatch):
    monkeypatch.setattr(health_upkeep.gather, "gather_areas", lambda *a, **k: pytest.fail("gathered despite bad options"))
    params = _params()
    params["llm"] = _llm("http://127.0.0.1:9", model=" ")
    params["vram_restart"] = {"threshold_pct": 150, "services": [{"name": "ollama"}, {"name": "ollama"}]}
    with pytest.raises(health_upkeep.UpkeepError) as err:
        health_upkeep.run(_no_commands, params)
    message = str(err.value)
    assert "llm: model is empty: set it to the model the runner at http://127.0.0.1:9 serves" in message
    assert "vram_restart: threshold_pct must be above 0 and at most 100, got 150" in message
    assert "ollama (systemd) is listed twice" in message and err.value.results == {}
    params = _params()
    params["llm"] = _llm("http://127.0.0.1:9", api="vllm")
    with pytest.raises(health_upkeep.UpkeepError, match="llm: benchmark: .*api"):
        health_upkeep.run(_no_commands, params)


def test_vram_restart_takes_the_gpu_reading_of_the_run_and_reads_nothing_more_below_the_threshold(monkeypatch):
    params = _with_gpu(monkeypatch, GPU_FACT)   # 40 % used
    params["vram_restart"] = {"threshold_pct": 95, "recheck_s": 60, "services": [{"name": "ollama"}]}
    result, _warnings = health_upkeep.run(_no_commands, params)   # a second reading or a restart would run a command
    guard = result["ansible_facts"]["gpufleet_vram_guard"]
    assert [(g["gpu"], g["used_pct"]) for g in guard["gpus"]] == [(0, 40.0)]
    assert guard["stayed"] == [] and guard["restarts"] == [] and guard["status"] == "ok"
    assert result["changed"] is False and "vram_restart" in result["seconds"]


def test_vram_restart_plans_the_restart_in_check_mode_when_vram_stays_exhausted(monkeypatch):
    full = dict(GPU_FACT, nvidia=dict(GPU_FACT["nvidia"], gpus=[dict(GPU_FACT["nvidia"]["gpus"][0], memory_used_pct=98.5)]))
    params = _with_gpu(monkeypatch, full)
    params["vram_restart"] = {"threshold_pct": 95, "recheck_s": 0, "services": [{"name": "ollama"}]}
    result, _warnings = health_upkeep.run(_no_commands, params, check_mode=True)   # nothing is restarted
    guard = result["ansible_facts"]["gpufleet_vram_guard"]
    assert [s["gpu"] for s in guard["stayed"]] == [0]
    assert guard["restarts"] == [{"name": "ollama", "kind": "systemd", "restarted": False, "error": None}]
    assert result["changed"] is True   # check mode: a restart would happen
