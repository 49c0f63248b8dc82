"""Triage rules (plugin_utils/_triage.py) over facts gathered from real inputs: the gpu area reading real
nvidia-smi captures through a stand-in, the real LLM probe against the replay server, model_manifest on real
files, the maintenance area on real journal captures and runner logs, and `systemctl show` captured from a
real systemd 252 (tests/unit/fixtures/systemd). The expected causes, ranks and fixes are written by hand
from the runbook table."""

import copy
import functools
import json
import os
import re
import subprocess

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import build_fact
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark.collect import probe
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA as GPU
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance import AREA as MAINTENANCE
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance import collect as m_collect
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import AREA as MODELS
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import model_manifest
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _triage
from testlib import nvml_double
from testlib.llm_servers import free_port, replay_servers

MODEL = "replay:1b"
RTX3080 = "rtx3080-driver595-dtdv13.xml"   # 10240 MiB, 9184 used (89.7 %), 65 % busy: a loaded box
MISMATCH = "Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.127\n"


@pytest.fixture(autouse=True)
def _no_real_driver():
    nvml_double.skip_with_real_driver()


def _run(args, check_rc=False, environ_update=None, data=None, handle_exceptions=False):
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=dict(os.environ, **(environ_update or {})))
    return proc.returncode, proc.stdout, proc.stderr


def _read(path):
    with open(path) as handle:
        return handle.read()


# --- facts from real inputs ------------------------------------------------------------------------

def _gpu(tmp_path, fixture_path, used_mib=None, util_pct=None, stdout=None, rc=0, stderr=""):
    """``gpufleet_gpu`` read by the gpu area through an nvidia-smi stand-in replaying the RTX 3080 capture
    (with its VRAM use or utilisation changed), or printing ``stdout``/``stderr`` and exiting ``rc``."""
    if stdout is None:
        stdout = _read(fixture_path("nvidia_smi", RTX3080))
        if used_mib is not None:
            stdout = stdout.replace("<used>9184 MiB</used>", "<used>%d MiB</used>" % used_mib, 1)
        if util_pct is not None:
            stdout = stdout.replace("<gpu_util>65 %</gpu_util>", "<gpu_util>%d %%</gpu_util>" % util_pct, 1)
    tool = nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), stdout, stderr=stderr, rc=rc)
    fact, _warnings = GPU.gather(_run, GPU.validate(dict(
        source="nvidia_smi", nvidia_smi_path=tool, amd_smi_path=str(tmp_path / "none"),
        rocm_smi_path=str(tmp_path / "none"), root=str(tmp_path / "no-sysfs"))))
    return fact


@pytest.fixture(scope="module")
def probes():
    """Real probe results (``gpufleet_benchmark`` facts) of the replay server in six states."""
    servers = replay_servers()
    start = next(servers, None)
    assert start is not None
    prompt = dict(name="health", prompt="Reply with one word: ready.", max_tokens=8)

    def run(url, expect=None, **limits):
        options = dict(endpoint=url, api="ollama", model=MODEL, prompts=[dict(prompt, expect=expect) if expect else prompt],
                       repeats=1, warmup=0, timeout_s=5.0, concurrency=1, headers={}, validate_certs=True,
                       thresholds=limits or None)
        return build_fact("health", probe(options))

    found = dict(
        healthy=run(start(first_delay_s=0.02, interval_s=0.002, tokens=8).url),
        # the first token after 0.6 s; the tests set ttft_crit_s 0.5 (the runbook's 10 s, scaled down)
        slow=run(start(first_delay_s=0.6, interval_s=0.002, tokens=8).url, ttft_warn_s=0.3, ttft_crit_s=0.5),
        # 8 tokens 0.15 s apart: the runner reports about 8 tokens/s
        crawling=run(start(first_delay_s=0.02, interval_s=0.15, tokens=8).url),
        gibberish=run(start(first_delay_s=0.02, interval_s=0.002, tokens=8, text="zq## vlorp ~~ xx").url,
                      expect="(?i)ready"),
        refused=run("http://127.0.0.1:%d" % free_port()),
        # HTTP 500 with llama.cpp's "CUDA error: out of memory", as Ollama relays it
        oom=run(start(fault="500").url),
    )
    yield found
    next(servers, None)


def _models(tmp_path, corrupt=False):
    """``gpufleet_models`` from model_manifest on real files: a scan, then (``corrupt``) one file's bytes changed
    at the same size, then verify."""
    store = tmp_path / "models"
    store.mkdir()
    (store / "tiny.gguf").write_bytes(b"GGUF" + b"\x07" * 4096)
    params = dict((name, spec.get("default")) for name, spec in MODELS.argument_spec().items())
    params.update(roots=[str(store)], manifest=str(tmp_path / "models.json"))
    model_manifest.run(dict(params, mode="scan"))
    if corrupt:
        (store / "tiny.gguf").write_bytes(b"GGUF" + b"\x07" * 2048 + b"\x00" * 2048)
    result, _warnings = model_manifest.run(dict(params, mode="verify"))
    return result["ansible_facts"]["gpufleet_models"]


class _Journal:
    """``run_command`` replaying journalctl captures (argv without the runner's ``timeout`` wrapper)."""

    def __init__(self, fixture_path):
        self.boots = _read(fixture_path("journalctl", "list-boots-json-systemd252.json"))
        self.entries = _read(fixture_path("journalctl", "journal-json-xid-oom.jsonl"))

    def __call__(self, argv, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
        argv = argv[4:] if argv[0].endswith("/timeout") else argv
        if "--list-boots" in argv:
            return 0, self.boots, ""
        if "-b" in argv:
            return 0, "", ""
        return 0, self.entries, ""


def _maintenance(tmp_path, fixture_path, journal=True, runner_log=None):
    """``gpufleet_maintenance`` of the last hour: the journal from its captures (or no journalctl on the host),
    and the runner log ``runner_log`` (text) when given."""
    paths = []
    if runner_log is not None:
        (tmp_path / "logs").mkdir()
        (tmp_path / "logs" / "ollama.log").write_text(runner_log)
        paths.append(str(tmp_path / "logs"))
    area = copy.copy(MAINTENANCE)
    area.collect = functools.partial(m_collect.collect, find={"journalctl": "/bin/journalctl"}.get if journal else (lambda name: None),
                                     read=m_collect.read_file, who=(0, ["root"]))
    fact, _warnings = area.gather(_Journal(fixture_path), MAINTENANCE.validate(
        dict(collect=["journal"], since_s=0 if journal else 3600, log_paths=paths)))
    return fact


def _show(fixture_path, name, unit):
    """The registered result of ``ansible.builtin.systemd_service`` for ``unit`` as the triage role passes it
    (``name``: the unit as the operator named it): its ``status`` is the ``systemctl show`` capture as
    key=value pairs."""
    status = {}
    for line in _read(fixture_path("systemd", name)).splitlines():
        key, _sep, value = line.partition("=")
        status[key] = value
    return dict(changed=False, name=unit, kind="systemd", status=status)


def _rules(diagnosis):
    return [cause["rule"] for cause in diagnosis["causes"]]


def _cause(diagnosis, rule):
    [cause] = [c for c in diagnosis["causes"] if c["rule"] == rule]
    return cause


# --- each runbook row ------------------------------------------------------------------------------

def test_slow_first_token_with_full_vram_is_a_vram_leak_ranked_first(tmp_path, fixture_path, probes):
    facts = dict(gpufleet_gpu=_gpu(tmp_path, fixture_path, used_mib=10138), gpufleet_benchmark=probes["slow"],
                 runner=_show(fixture_path, "show-runner-running-systemd252.txt", "ollama"))
    diagnosis = _triage.diagnose(facts, dict(ttft_crit_s=0.5, runner_unit="ollama", endpoint="http://x", model=MODEL))
    # The full VRAM is an OOM near-miss too, but less likely the cause of the slow first token.
    assert _rules(diagnosis) == ["vram_leak", "oom_near_miss"]
    leak = _cause(diagnosis, "vram_leak")
    assert leak["confidence"] == 85 and leak["remedy"] == "restart" and leak["command"] == "systemctl restart ollama"
    # the evidence is the probe's own measured median (no wall-clock bound here: timing lives in tests/bench)
    [measured] = [r["ttft_s"]["median"] for r in probes["slow"]["probe"]["results"]]
    ttft = float(re.match(r"time to first token ([\d.]+) s \(limit 0\.5 s\)$", leak["evidence"][0]).group(1))
    assert ttft == pytest.approx(measured, abs=0.05)   # the evidence rounds to a tenth
    assert leak["evidence"][1] == "GPU 0 (NVIDIA GeForce RTX 3080) VRAM 99 % used (at or above 95 %)"
    assert leak["fix"].startswith("restart the runner")
    assert diagnosis["status"] == "crit"
    assert diagnosis["lines"][0] == "2 likely cause(s), most likely first:"
    assert diagnosis["lines"][1] == "1. the runner leaks VRAM (time to first token over 0.5 s) (confidence 85 %)"
    # the running unit is not down: the leak alone asks for the restart
    assert "runner_down" in diagnosis["unmatched"]
    plan = _triage.plan_fixes(diagnosis)
    assert plan["actions"] == [dict(action="restart", kind="systemd", name="ollama", reason="vram_leak")]
    assert plan["lines"] == ["would restart ollama (systemd) for vram_leak: run with -e triage_fix=true to apply it"]
    assert _triage.plan_fixes(diagnosis, apply=True, check_mode=True)["lines"] == [
        "would restart ollama (systemd) for vram_leak (check mode: nothing is restarted)"]
    assert _triage.plan_fixes(diagnosis, apply=True)["lines"] == ["will restart ollama (systemd) for vram_leak"]


def test_slow_first_token_alone_is_a_less_certain_leak(tmp_path, fixture_path, probes):
    facts = dict(gpufleet_gpu=_gpu(tmp_path, fixture_path), gpufleet_benchmark=probes["slow"])
    diagnosis = _triage.diagnose(facts, dict(ttft_crit_s=0.5))
    assert _rules(diagnosis) == ["vram_leak"] and _cause(diagnosis, "vram_leak")["confidence"] == 55
    # no unit named: the fix says how to name it, and nothing is planned
    assert _cause(diagnosis, "vram_leak")["command"] == "restart the runner (name it with triage_runner_unit or triage_runner_container)"
    plan = _triage.plan_fixes(diagnosis, apply=True)
    assert plan["actions"] == [] and plan["skipped"] == plan["lines"] == [
        "no restart (vram_leak): no runner named (triage_runner_unit or triage_runner_container)"]


def test_the_same_probe_under_the_runbooks_ten_seconds_is_no_leak(tmp_path, fixture_path, probes):
    facts = dict(gpufleet_gpu=_gpu(tmp_path, fixture_path), gpufleet_benchmark=probes["slow"])
    assert "vram_leak" not in _rules(_triage.diagnose(facts))


def test_busy_gpu_and_few_tokens_per_second_is_a_context_too_long(tmp_path, fixture_path, probes):
    facts = dict(gpufleet_gpu=_gpu(tmp_path, fixture_path, util_pct=100), gpufleet_benchmark=probes["crawling"])
    diagnosis = _triage.diagnose(facts)
    assert _rules(diagnosis) == ["context_too_long"]
    cause = _cause(diagnosis, "context_too_long")
    assert cause["confidence"] == 75 and cause["remedy"] is None
    assert cause["evidence"][0] == "GPU 0 (NVIDIA GeForce RTX 3080) utilisation 100 %"
    rate = float(re.match(r"decode ([\d.]+) tokens/s \(low: under 10\)$", cause["evidence"][1]).group(1))
    assert 2 < rate < 10
    assert "lower the maximum tokens" in cause["fix"] and "summarise" in cause["fix"]
    assert _triage.plan_fixes(diagnosis, apply=True) == dict(actions=[], skipped=[], lines=["no safe fix to apply"])


def test_few_tokens_per_second_on_an_idle_gpu_is_not_a_too_long_context(tmp_path, fixture_path, probes):
    # the real capture's 65 % utilisation: the GPU is not the bottleneck
    facts = dict(gpufleet_gpu=_gpu(tmp_path, fixture_path), gpufleet_benchmark=probes["crawling"])
    assert _rules(_triage.diagnose(facts)) == []


def test_a_model_file_that_changed_is_a_corrupted_model(tmp_path, fixture_path, probes):
    facts = dict(gpufleet_models=_models(tmp_path, corrupt=True), gpufleet_benchmark=probes["healthy"])
    diagnosis = _triage.diagnose(facts, dict(model=MODEL))
    assert _rules(diagnosis) == ["corrupted_model"]
    cause = _cause(diagnosis, "corrupted_model")
    assert cause["confidence"] == 85 and cause["remedy"] is None
    assert cause["evidence"] == ["model file %s: checksum_mismatch (%s)" % (
        tmp_path / "models" / "tiny.gguf", facts["gpufleet_models"]["problems"][0]["detail"])]
    assert cause["fix"] == "re-download the model, then verify its checksum against the manifest"
    assert cause["command"].startswith("ollama rm replay:1b && ollama pull replay:1b")


def test_gibberish_and_a_changed_file_together_are_the_most_certain(tmp_path, fixture_path, probes):
    facts = dict(gpufleet_models=_models(tmp_path, corrupt=True), gpufleet_benchmark=probes["gibberish"])
    diagnosis = _triage.diagnose(facts)
    assert _rules(diagnosis) == ["corrupted_model"] and _cause(diagnosis, "corrupted_model")["confidence"] == 90
    assert _cause(diagnosis, "corrupted_model")["evidence"][1].startswith(
        "LLM probe: prompt health: answer does not match '(?i)ready' (got 'zq## vlorp")


def test_a_manifest_that_could_not_be_used_is_said_not_taken_for_verified(tmp_path):
    store = tmp_path / "models"
    store.mkdir()
    params = dict((name, spec.get("default")) for name, spec in MODELS.argument_spec().items())
    params.update(roots=[str(store)], manifest=str(tmp_path / "no-such-manifest.json"), mode="verify")
    with pytest.raises(model_manifest.ManifestError) as raised:
        model_manifest.run(params)
    diagnosis = _triage.diagnose(dict(models_error=str(raised.value)))
    assert "could not verify the model files: %s" % str(raised.value) in diagnosis["unread"]
    assert "model checksums were not verified (set triage_model_manifest)" not in diagnosis["unread"]


def test_gibberish_alone_is_a_possible_corrupted_model(tmp_path, fixture_path, probes):
    facts = dict(gpufleet_models=_models(tmp_path), gpufleet_benchmark=probes["gibberish"])
    diagnosis = _triage.diagnose(facts)
    assert _rules(diagnosis) == ["corrupted_model"] and _cause(diagnosis, "corrupted_model")["confidence"] == 60


def test_nothing_listening_is_the_runner_down(probes):
    diagnosis = _triage.diagnose(dict(gpufleet_benchmark=probes["refused"]), dict(runner_unit="ollama"))
    assert _rules(diagnosis) == ["runner_down"]
    cause = _cause(diagnosis, "runner_down")
    assert cause["confidence"] == 80 and cause["remedy"] == "restart"
    assert cause["evidence"][0].startswith("LLM probe: runner down at http://127.0.0.1:")
    assert "connection refused" in cause["evidence"][0]
    assert cause["command"] == "journalctl -u ollama -n 200 --no-pager; systemctl restart ollama"
    assert "raise the unit's restart limit (StartLimitBurst)" in cause["fix"]
    # the unit was named but its state not passed: said, not guessed
    assert diagnosis["status"] == "crit" and "the runner ollama was not read" in diagnosis["unread"]


def test_refused_and_a_unit_that_hit_its_start_limit(fixture_path, probes):
    facts = dict(gpufleet_benchmark=probes["refused"],
                 runner=_show(fixture_path, "show-runner-start-limit-hit-systemd252.txt", "ollama"))
    diagnosis = _triage.diagnose(facts, dict(runner_unit="ollama"))
    cause = _cause(diagnosis, "runner_down")
    assert cause["confidence"] == 90
    assert cause["evidence"][1:] == ["unit ollama is failed (failed), Result=exit-code, NRestarts=3",
                                     "systemd stopped restarting ollama: 3 restart(s), StartLimitBurst=3"]
    assert "raise StartLimitBurst/StartLimitIntervalSec in the unit's [Unit] section (systemctl edit ollama)" in cause["fix"]
    assert cause["command"] == ("journalctl -u ollama -n 200 --no-pager; systemctl reset-failed ollama; "
                                "systemctl restart ollama")


def test_a_stopped_unit_without_a_probe_is_the_runner_down(tmp_path, fixture_path):
    facts = dict(gpufleet_gpu=_gpu(tmp_path, fixture_path),
                 runner=_show(fixture_path, "show-runner-stopped-systemd252.txt", "llama-server"))
    diagnosis = _triage.diagnose(facts, dict(runner_unit="llama-server"))
    cause = _cause(diagnosis, "runner_down")
    assert cause["confidence"] == 70
    assert cause["evidence"] == ["unit llama-server is inactive (dead), Result=success, NRestarts=0"]
    assert "the LLM endpoint was not probed (set triage_llm_endpoint and triage_llm_model)" in diagnosis["unread"]
    assert _triage.plan_fixes(diagnosis)["actions"] == [
        dict(action="restart", kind="systemd", name="llama-server", reason="runner_down")]


def test_a_unit_that_is_not_installed_is_the_runner_down(fixture_path):
    facts = dict(runner=_show(fixture_path, "show-unit-not-found-systemd252.txt", "nosuch"))
    diagnosis = _triage.diagnose(facts, dict(runner_unit="nosuch"))
    assert _cause(diagnosis, "runner_down")["evidence"] == ["unit nosuch is not installed (LoadState=not-found)"]
    assert _triage.plan_fixes(diagnosis, apply=True)["skipped"] == [
        "no restart (runner_down): unit nosuch is not installed (LoadState=not-found)"]


def test_a_running_unit_is_not_down_and_a_unit_that_could_not_be_read_is_unread(fixture_path, probes):
    running = _show(fixture_path, "show-runner-stopped-systemd252.txt", "llama-server")
    running["status"] = dict(running["status"], ActiveState="active", SubState="running")
    diagnosis = _triage.diagnose(dict(gpufleet_benchmark=probes["healthy"], runner=running), dict(runner_unit="llama-server"))
    assert "runner_down" not in _rules(diagnosis)
    failed = dict(failed=True, msg="Service is in unknown state", status={}, name="ollama", kind="systemd")
    diagnosis = _triage.diagnose(dict(gpufleet_benchmark=probes["healthy"], runner=failed), dict(runner_unit="ollama"))
    assert "runner_down" not in _rules(diagnosis)
    assert "could not read unit ollama: Service is in unknown state" in diagnosis["unread"]
    # a refused endpoint still asks for a restart, but a unit that could not be read is not restarted
    diagnosis = _triage.diagnose(dict(gpufleet_benchmark=probes["refused"], runner=failed), dict(runner_unit="ollama"))
    assert _triage.plan_fixes(diagnosis, apply=True)["skipped"] == [
        "no restart (runner_down): could not read unit ollama: Service is in unknown state"]


def _inspect(fixture_path, name, container):
    """The registered result of ``community.docker.docker_container_info`` for ``container`` as the triage
    role passes it: ``container`` is the ``docker inspect`` capture."""
    with open(fixture_path("docker_api", name)) as handle:
        return dict(changed=False, exists=True, container=json.load(handle), name=container, kind="container")


def test_a_stopped_container_is_the_runner_down_and_restarted_with_docker(fixture_path, probes):
    facts = dict(gpufleet_benchmark=probes["refused"],
                 runner=_inspect(fixture_path, "container-inspect-stopped-engine20.10.json", "ollama"))
    diagnosis = _triage.diagnose(facts, dict(runner_container="ollama"))
    cause = _cause(diagnosis, "runner_down")
    assert cause["confidence"] == 90
    assert cause["evidence"][1] == "container ollama is exited (exit code 143), RestartCount=0"
    assert cause["command"] == "docker logs --tail 200 ollama; docker restart ollama"
    assert "give it a restart policy (--restart unless-stopped)" in cause["fix"]
    assert "oom_near_miss" not in _rules(diagnosis)
    assert _triage.plan_fixes(diagnosis, apply=True)["actions"] == [
        dict(action="restart", kind="container", name="ollama", reason="runner_down")]


def test_a_container_the_oom_killer_ended_is_down_and_an_oom_near_miss(fixture_path):
    facts = dict(runner=_inspect(fixture_path, "container-inspect-oomkilled-engine20.10.json", "vllm"))
    diagnosis = _triage.diagnose(facts, dict(runner_container="vllm"))
    assert _rules(diagnosis) == ["runner_down", "oom_near_miss"]
    assert _cause(diagnosis, "oom_near_miss")["evidence"] == [
        "the out-of-memory killer ended the runner: container vllm is exited (exit code 137, OOMKilled), RestartCount=0"]
    assert _cause(diagnosis, "oom_near_miss")["confidence"] == 70


def test_a_container_that_does_not_exist_is_down_and_not_restarted():
    facts = dict(runner=dict(changed=False, exists=False, container=None, name="ollama", kind="container"))
    diagnosis = _triage.diagnose(facts, dict(runner_container="ollama"))
    assert _cause(diagnosis, "runner_down")["evidence"] == ["container ollama does not exist"]
    assert _triage.plan_fixes(diagnosis, apply=True)["skipped"] == [
        "no restart (runner_down): container ollama does not exist"]
    unreadable = dict(failed=True, msg="Error connecting: Error while fetching server API version", name="ollama",
                      kind="container")
    diagnosis = _triage.diagnose(dict(runner=unreadable), dict(runner_container="ollama"))
    assert diagnosis["causes"] == [] and diagnosis["status"] == "unknown"
    assert "could not read container ollama: Error connecting: Error while fetching server API version" in diagnosis["unread"]


def test_oom_lines_in_the_journal_and_the_runner_log_with_full_vram(tmp_path, fixture_path):
    facts = dict(gpufleet_gpu=_gpu(tmp_path, fixture_path, used_mib=10000),
                 gpufleet_maintenance=_maintenance(tmp_path, fixture_path,
                                                   runner_log='level=ERROR msg="CUDA error: out of memory"\n'))
    diagnosis = _triage.diagnose(facts)
    assert _rules(diagnosis) == ["oom_near_miss"]
    cause = _cause(diagnosis, "oom_near_miss")
    assert cause["confidence"] == 80
    assert cause["evidence"] == ["GPU 0 (NVIDIA GeForce RTX 3080) VRAM 97.7 % used (at or above 95 %)",
                                 "1 out-of-memory line(s) in the journal",
                                 "1 out-of-memory line(s) in the runner logs (1 file(s))"]
    assert "OLLAMA_MAX_LOADED_MODELS=1" in cause["fix"]


def test_full_vram_alone_is_a_weak_oom_near_miss_and_an_unread_journal_is_said(tmp_path, fixture_path):
    facts = dict(gpufleet_gpu=_gpu(tmp_path, fixture_path, used_mib=10000),
                 gpufleet_maintenance=_maintenance(tmp_path, fixture_path, journal=False))
    diagnosis = _triage.diagnose(facts)
    assert _rules(diagnosis) == ["oom_near_miss"] and _cause(diagnosis, "oom_near_miss")["confidence"] == 50
    assert [(u["area"], u["check"]) for u in diagnosis["not_looked"]] == [
        ("maintenance", "log_errors"), ("maintenance", "unexpected_reboots")]
    assert "journalctl not found" in diagnosis["not_looked"][0]["message"]


def test_a_runner_answering_cuda_out_of_memory_is_an_oom_near_miss(probes):
    diagnosis = _triage.diagnose(dict(gpufleet_benchmark=probes["oom"]))
    assert _rules(diagnosis) == ["oom_near_miss"]
    cause = _cause(diagnosis, "oom_near_miss")
    assert cause["confidence"] == 70 and len(cause["evidence"]) == 1
    assert cause["evidence"][0].startswith("LLM probe: prompt health: 1 of 1 request(s) failed: runner error at ")
    assert "CUDA error: out of memory" in cause["evidence"][0]


def test_driver_library_mismatch_ranks_above_everything_and_blocks_the_restart(tmp_path, fixture_path, probes):
    facts = dict(gpufleet_gpu=_gpu(tmp_path, fixture_path, stdout="", stderr=MISMATCH, rc=18),
                 gpufleet_benchmark=probes["refused"])
    diagnosis = _triage.diagnose(facts, dict(runner_unit="ollama"))
    assert _rules(diagnosis) == ["driver_library_mismatch", "runner_down"]
    cause = _cause(diagnosis, "driver_library_mismatch")
    assert cause["confidence"] == 95 and cause["command"] == "sudo reboot" and cause["remedy"] is None
    assert cause["evidence"][0].startswith("gpufleet_gpu: NVIDIA driver/library version mismatch")
    assert "restarting the runner does not help" in cause["fix"]
    plan = _triage.plan_fixes(diagnosis, apply=True)
    assert plan["actions"] == [] and plan["skipped"] == [
        "no restart (runner_down): the driver/library mismatch needs a reboot first"]


# --- nothing matched -------------------------------------------------------------------------------

def test_a_healthy_box_with_everything_read_is_ok(tmp_path, fixture_path, probes):
    facts = dict(gpufleet_gpu=_gpu(tmp_path, fixture_path), gpufleet_benchmark=probes["healthy"],
                 gpufleet_models=_models(tmp_path),
                 gpufleet_maintenance=_maintenance(tmp_path, fixture_path, runner_log="level=INFO msg=ok\n"),
                 gpufleet_driver_stack=dict(status="ok", checks=[]))
    # the journal capture holds one OOM line: without it this box would be all read and quiet
    quiet = copy.deepcopy(facts)
    quiet["gpufleet_maintenance"]["journal"]["oom"] = 0
    diagnosis = _triage.diagnose(quiet)
    assert diagnosis["causes"] == [] and diagnosis["unread"] == [] and diagnosis["not_looked"] == []
    assert diagnosis["status"] == "ok"
    assert diagnosis["lines"] == [
        "no runbook cause matched what the checks read (driver_library_mismatch, runner_down, corrupted_model, "
        "vram_leak, context_too_long, oom_near_miss)",
        "every area triage reads was looked at"]


def test_nothing_read_is_unknown_never_all_fine():
    diagnosis = _triage.diagnose({})
    assert diagnosis["status"] == "unknown" and diagnosis["causes"] == []
    assert diagnosis["unread"] == [
        "neither the gpu nor the driver_stack area was gathered",
        "the LLM endpoint was not probed (set triage_llm_endpoint and triage_llm_model)",
        "model checksums were not verified (set triage_model_manifest)",
        "the GPUs were not read",
        "the journal and runner logs were not reviewed"]
    assert diagnosis["lines"][1] == "could not look at (this is not an all-clear for them):"


def test_gpus_that_could_not_be_read_are_listed_as_not_looked_at(tmp_path, fixture_path):
    text = _read(fixture_path("nvidia_smi", "nvidia-smi-wsl2-failed-to-communicate.txt"))
    facts = dict(gpufleet_gpu=_gpu(tmp_path, fixture_path, stdout=text, rc=9))
    diagnosis = _triage.diagnose(facts)
    assert diagnosis["status"] == "unknown" and diagnosis["causes"] == []
    [unknown] = [u for u in diagnosis["not_looked"] if u["area"] == "gpu"]
    assert unknown["check"] == "gpu_present" and "couldn't communicate with the NVIDIA driver" in unknown["message"]


def test_settings_and_bad_input():
    assert _triage.settings_of(dict(ttft_crit_s=3, runner_unit=None))["ttft_crit_s"] == 3.0
    assert _triage.settings_of(None)["vram_high_pct"] == 95.0
    with pytest.raises(TypeError, match="triage expects a dict of facts, got list"):
        _triage.diagnose([])
