"""playbooks/triage.yml through the real Ansible against this machine, with faults injected at the boundaries:
the real nvidia-ml-py reads the NVML double (VRAM set on a real A100 capture), the runner is the replay LLM
server (slowed down), nothing listens at a free port, a model file is changed after its manifest was written
by the real model_manifest. On a Debian container with systemd as PID 1 (tests/testlib/systemd_host.py),
a stopped runner unit is found and restarted by triage_fix, and check mode restarts nothing; the same for a
runner container on a private Docker engine (tests/testlib/docker_lab.py)."""

import hashlib
import json
import os

import pytest
import yaml

from testlib import nvml_double
from testlib.ansible_run import REPO_ROOT, run_module, run_playbook
from testlib.docker_lab import Dockerd
from testlib.llm_servers import free_port, replay_servers
from testlib.systemd_host import exec_, systemd_host, unit_property

pytestmark = pytest.mark.integration

CAPTURE = os.path.join(REPO_ROOT, "tests", "unit", "fixtures", "nvidia_smi",
                       "a100-sxm4-80gb-driver535-dtdv12-attached4-one-gpu-element.xml")
MODEL = "replay:1b"


@pytest.fixture(scope="module")
def library():
    return nvml_double.build()


@pytest.fixture(scope="module")
def replay():
    yield from replay_servers()


def _nvml(tmp_path, library, used_pct, util_pct=None, init=0):
    """The NVML double answering from the real A100 capture, GPU 0's VRAM use set to ``used_pct`` (and its
    utilisation to ``util_pct``; the capture reports none); ``init``: the error code nvmlInit returns."""
    with open(CAPTURE) as handle:
        scenario = nvml_double.scenario_from_xml(handle.read(), init=init)
    gpu = scenario["gpus"][0]
    gpu["mem_used"] = int(gpu["mem_total"] * used_pct / 100.0)
    if util_pct is not None:
        gpu["util_gpu"] = util_pct
    return nvml_double.nvml_env(library, nvml_double.write_scenario(scenario, str(tmp_path / "scenario.txt")))


def _triage(evars, env=None, check=False, inventory=None):
    """Run the triage playbook; returns ``(the triage action's result, the printed lines, every task's result)``."""
    args = ["-e", json.dumps(evars)] + (["--check"] if check else []) + (["-i", inventory] if inventory else [])
    proc = run_playbook("playbooks/triage.yml", args, env=env, json_output=True)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    tasks = {}
    for task in json.loads(proc.stdout)["plays"][0]["tasks"]:
        [result] = task["hosts"].values()
        tasks[task["task"]["name"].split(" : ")[-1]] = result  # without the role prefix
    report = tasks["Diagnose (the runbook's rules, on the controller)"]["triage"]
    printed = tasks["Print the diagnosis and the fixes"]["msg"]
    return report, printed, tasks


def test_slow_first_token_and_full_vram_is_a_vram_leak_first(tmp_path, library, replay):
    server = replay(first_delay_s=1.5, interval_s=0.002, tokens=8)
    env = _nvml(tmp_path, library, 99.0)
    report, printed, _tasks = _triage({"triage_llm_endpoint": server.url, "triage_llm_model": MODEL,
                                       "triage_ttft_crit_s": 1, "triage_runner_unit": "ollama"}, env=env)
    assert [c["rule"] for c in report["causes"]] == ["vram_leak", "oom_near_miss"]
    leak = report["causes"][0]
    assert leak["confidence"] == 85 and leak["command"] == "systemctl restart ollama"
    assert leak["evidence"][1] == "GPU 0 (NVIDIA A100-SXM4-80GB) VRAM 99 % used (at or above 95 %)"
    assert printed[:2] == ["2 likely cause(s), most likely first:",
                           "1. the runner leaks VRAM (time to first token over 1 s) (confidence 85 %)"]
    assert printed[2].startswith("   evidence: time to first token 1.") and printed[2].endswith(" s (limit 1 s)")
    assert printed[4].startswith("   fix: restart the runner; if it recurs")
    assert printed[5] == "   command: systemctl restart ollama"
    # This machine runs no systemd: the unit could not be read, so it is said and nothing is planned.
    assert any(line.startswith("- could not read unit ollama: ") for line in printed)
    assert printed[-1].startswith("no restart (vram_leak): could not read unit ollama: ")


def test_a_model_file_changed_after_its_manifest_is_a_corrupted_model(tmp_path, library, replay):
    server = replay(first_delay_s=0.02, interval_s=0.002, tokens=8)
    store = tmp_path / "models"
    store.mkdir()
    (store / "tiny.gguf").write_bytes(b"GGUF" + b"\x03" * 65536)
    recorded = hashlib.sha256((store / "tiny.gguf").read_bytes()).hexdigest()
    manifest = str(tmp_path / "models.json")
    scanned = run_module("gpufleet.maintenance.model_manifest", {"roots": [str(store)], "manifest": manifest, "mode": "scan"})
    assert scanned["changed"] is True, scanned
    (store / "tiny.gguf").write_bytes(b"GGUF" + b"\x03" * 32768 + b"\xff" * 32768)  # same size, other bytes
    changed = hashlib.sha256((store / "tiny.gguf").read_bytes()).hexdigest()
    report, printed, _tasks = _triage({"triage_llm_endpoint": server.url, "triage_llm_model": MODEL,
                                       "triage_model_manifest": manifest, "triage_model_roots": [str(store)]},
                                      env=_nvml(tmp_path, library, 40.0))
    assert [c["rule"] for c in report["causes"]] == ["corrupted_model"]
    cause = report["causes"][0]
    assert cause["confidence"] == 85 and cause["remedy"] is None
    assert cause["evidence"] == ["model file %s: checksum_mismatch (sha256 %s... differs from the manifest's %s...)"
                                 % (store / "tiny.gguf", changed[:12], recorded[:12])]
    assert printed[1] == ("1. a corrupted model (gibberish output, or a file that no longer matches its checksum) "
                          "(confidence 85 %)")
    assert "   fix: re-download the model, then verify its checksum against the manifest" in printed
    assert "   command: ollama rm replay:1b && ollama pull replay:1b (or re-fetch the file); then ansible-playbook " \
           "gpufleet.maintenance.triage -e triage_model_manifest=MANIFEST" in printed
    assert printed[-1] == "no safe fix to apply"


def test_nothing_listening_is_the_runner_down(tmp_path, library):
    url = "http://127.0.0.1:%d" % free_port()
    report, printed, _tasks = _triage({"triage_llm_endpoint": url, "triage_llm_model": MODEL},
                                      env=_nvml(tmp_path, library, 40.0))
    assert [c["rule"] for c in report["causes"]] == ["runner_down"]
    cause = report["causes"][0]
    assert cause["evidence"][0].startswith("LLM probe: runner down at %s: connection refused" % url)
    assert printed[1] == "1. the runner is down (connection refused) (confidence 80 %)"
    assert printed[3].startswith("   fix: read the runner's logs, restart it; if it keeps stopping, raise the unit's "
                                 "restart limit (StartLimitBurst)")
    assert printed[-1] == "no restart (runner_down): no runner named (triage_runner_unit or triage_runner_container)"


def test_a_busy_gpu_with_few_tokens_per_second_is_a_too_long_context(tmp_path, library, replay):
    server = replay(first_delay_s=0.02, interval_s=0.15, tokens=8)  # the runner reports about 8 tokens/s
    report, printed, _tasks = _triage({"triage_llm_endpoint": server.url, "triage_llm_model": MODEL},
                                      env=_nvml(tmp_path, library, 60.0, util_pct=100))
    assert [c["rule"] for c in report["causes"]] == ["context_too_long"]
    assert printed[1] == "1. the context is too long (GPU busy, few tokens/s) (confidence 75 %)"
    assert printed[2] == "   evidence: GPU 0 (NVIDIA A100-SXM4-80GB) utilisation 100 %"
    assert printed[3].startswith("   evidence: decode ") and printed[3].endswith(" tokens/s (low: under 10)")
    assert printed[4].startswith("   fix: lower the maximum tokens and context size")
    assert printed[-1] == "no safe fix to apply"


def test_oom_lines_in_the_runner_log_and_full_vram_are_oom_near_misses(tmp_path, library):
    logs = tmp_path / "logs"
    logs.mkdir()
    # the line Ollama's runner logs when CUDA runs out of memory (as in the maintenance area's tests)
    (logs / "ollama.log").write_text('level=ERROR source=server.go msg="llama runner process has terminated: '
                                     'CUDA error: out of memory"\nlevel=INFO msg="model loaded"\n')
    report, printed, _tasks = _triage({"triage_runner_log_paths": [str(logs)]}, env=_nvml(tmp_path, library, 97.0))
    assert [c["rule"] for c in report["causes"]] == ["oom_near_miss"]
    assert report["causes"][0]["evidence"] == ["GPU 0 (NVIDIA A100-SXM4-80GB) VRAM 97 % used (at or above 95 %)",
                                               "1 out-of-memory line(s) in the runner logs (1 file(s))"]
    assert printed[1] == ("1. out-of-memory near-misses (VRAM near full, OOM lines in the logs) (confidence 80 %)")


def test_nvml_driver_library_mismatch_ranks_first_and_says_reboot(tmp_path, library):
    url = "http://127.0.0.1:%d" % free_port()  # the runner died with the driver: down as well
    report, printed, _tasks = _triage({"triage_llm_endpoint": url, "triage_llm_model": MODEL, "triage_fix": True,
                                       "triage_runner_unit": "ollama"},
                                      env=_nvml(tmp_path, library, 40.0, init=18))  # NVML_ERROR_LIB_RM_VERSION_MISMATCH
    assert [c["rule"] for c in report["causes"]] == ["driver_library_mismatch", "runner_down"]
    assert printed[1] == ("1. NVIDIA driver/library mismatch after an update (the kernel module is older than the "
                          "libraries) (confidence 95 %)")
    assert printed[2].startswith("   evidence: gpufleet_gpu: NVIDIA driver/library version mismatch")
    assert "   command: sudo reboot" in printed
    assert printed[-1] == "no restart (runner_down): the driver/library mismatch needs a reboot first"


def test_nothing_wrong_found_is_not_an_all_clear(tmp_path, library, replay):
    server = replay(first_delay_s=0.02, interval_s=0.002, tokens=8)
    report, printed, _tasks = _triage({"triage_llm_endpoint": server.url, "triage_llm_model": MODEL},
                                      env=_nvml(tmp_path, library, 40.0))
    assert report["causes"] == [] and report["status"] == "unknown"
    assert printed[0].startswith("no runbook cause matched what the checks read (")
    assert printed[1] == "could not look at (this is not an all-clear for them):"
    assert "- model checksums were not verified (set triage_model_manifest)" in printed
    # a manifest that is not there: said, and triage goes on
    report, printed, _tasks = _triage({"triage_llm_endpoint": server.url, "triage_llm_model": MODEL,
                                       "triage_model_manifest": str(tmp_path / "gone.json"),
                                       "triage_model_roots": [str(tmp_path)]}, env=_nvml(tmp_path, library, 40.0))
    assert report["causes"] == [] and report["status"] == "unknown"
    [said] = [line for line in printed if line.startswith("- could not verify the model files: ")]
    assert "gone.json" in said


def test_check_mode_changes_nothing(tmp_path, library, replay):
    server = replay(first_delay_s=0.02, interval_s=0.002, tokens=8)
    store = tmp_path / "models"
    store.mkdir()
    (store / "tiny.gguf").write_bytes(b"GGUF" + b"\x05" * 4096)
    manifest = tmp_path / "models.json"
    run_module("gpufleet.maintenance.model_manifest", {"roots": [str(store)], "manifest": str(manifest), "mode": "scan"})
    cache = tmp_path / "models.json.hashcache.json"
    cache.unlink()  # verify rewrites the cache outside check mode
    env = _nvml(tmp_path, library, 40.0)
    before = sorted(os.listdir(str(tmp_path)))
    report, _printed, tasks = _triage({"triage_llm_endpoint": server.url, "triage_llm_model": MODEL,
                                       "triage_model_manifest": str(manifest), "triage_model_roots": [str(store)],
                                       "triage_fix": True}, env=env, check=True)
    assert report["causes"] == []
    assert sorted(os.listdir(str(tmp_path))) == before  # neither the hash cache nor anything else written
    assert not any(result.get("changed") for result in tasks.values())


# --- a real systemd ---------------------------------------------------------------------------------

RUNNER_UNIT = """[Unit]
Description=stand-in LLM runner (gpufleet triage test)

[Service]
ExecStart=/bin/sleep infinity
"""


@pytest.fixture(scope="module")
def systemd(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("triage-systemd")
    with systemd_host("gpf-h-triage") as name:
        exec_(name, "sh", "-c", "cat > /etc/systemd/system/gpf-runner.service <<'EOF'\n%sEOF" % RUNNER_UNIT)
        exec_(name, "systemctl", "daemon-reload")
        inventory = tmp / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {name: {
            "ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}}}}))
        yield name, str(inventory)


def test_a_stopped_runner_unit_is_found_and_only_triage_fix_outside_check_mode_restarts_it(systemd):
    name, inventory = systemd
    evars = {"gpufleet_hosts": name, "triage_runner_unit": "gpf-runner", "triage_fix": True, "triage_gpu_source": "none"}
    assert unit_property(name, "gpf-runner", "ActiveState") == "inactive"

    report, printed, tasks = _triage(evars, check=True, inventory=inventory)
    assert [c["rule"] for c in report["causes"]] == ["runner_down"]
    assert report["causes"][0]["evidence"] == ["unit gpf-runner is inactive (dead), Result=success, NRestarts=0"]
    assert printed[-1] == "would restart gpf-runner (systemd) for runner_down (check mode: nothing is restarted)"
    assert unit_property(name, "gpf-runner", "ActiveState") == "inactive"  # check mode restarted nothing

    report, printed, tasks = _triage(dict(evars, triage_fix=False), inventory=inventory)
    assert printed[-1] == "would restart gpf-runner (systemd) for runner_down: run with -e triage_fix=true to apply it"
    assert unit_property(name, "gpf-runner", "ActiveState") == "inactive"

    report, printed, tasks = _triage(evars, inventory=inventory)
    assert printed[-1] == "will restart gpf-runner (systemd) for runner_down"
    assert tasks["Restart the runner unit (triage_fix; check mode restarts nothing)"]["changed"] is True
    assert unit_property(name, "gpf-runner", "ActiveState") == "active"

    # Running now: nothing matches the runner any more, and nothing is restarted again.
    invocation = unit_property(name, "gpf-runner", "InvocationID")
    report, printed, tasks = _triage(evars, inventory=inventory)
    assert "runner_down" in report["unmatched"] and report["fixes"]["actions"] == []
    assert unit_property(name, "gpf-runner", "InvocationID") == invocation

    # A unit that is not installed: systemd_service reads it (LoadState=not-found) without failing; not restarted.
    report, printed, tasks = _triage(dict(evars, triage_runner_unit="gpf-nosuch"), inventory=inventory)
    assert report["causes"][0]["evidence"] == ["unit gpf-nosuch is not installed (LoadState=not-found)"]
    assert printed[-1] == "no restart (runner_down): unit gpf-nosuch is not installed (LoadState=not-found)"


# --- a real Docker engine ---------------------------------------------------------------------------

RUNNER = "gpf-h-triage-runner"


def test_a_stopped_runner_container_is_found_and_only_triage_fix_outside_check_mode_restarts_it(tmp_path, library):
    env = _nvml(tmp_path, library, 40.0)
    with Dockerd() as engine:
        engine.make_image("gpf/runner:1", "an inference runner")
        # --init: a runner that stops on SIGTERM (sleep as PID 1 would ignore it and wait out the grace period)
        engine.docker("run", "-d", "--init", "--network", "none", "--name", RUNNER, "gpf/runner:1")
        engine.docker("stop", RUNNER)
        container_id = engine.inspect(RUNNER, kind="container")[0]["Id"]
        evars = {"triage_runner_container": RUNNER, "triage_docker_host": engine.host, "triage_fix": True}

        report, printed, _tasks = _triage(evars, env=env, check=True)
        assert [c["rule"] for c in report["causes"]] == ["runner_down"]
        assert report["causes"][0]["evidence"] == ["container %s is exited (exit code 143), RestartCount=0" % RUNNER]
        assert report["causes"][0]["command"] == "docker logs --tail 200 %s; docker restart %s" % (RUNNER, RUNNER)
        assert printed[-1] == "would restart %s (container) for runner_down (check mode: nothing is restarted)" % RUNNER
        assert engine.inspect(RUNNER, kind="container")[0]["State"]["Running"] is False

        report, printed, tasks = _triage(evars, env=env)
        assert printed[-1] == "will restart %s (container) for runner_down" % RUNNER
        assert tasks["Restart the runner container (triage_fix; check mode restarts nothing)"]["changed"] is True
        assert engine.inspect(RUNNER, kind="container")[0]["State"]["Running"] is True
        assert engine.inspect(RUNNER, kind="container")[0]["Id"] == container_id  # restarted, not re-created

        report, printed, tasks = _triage(evars, env=env)
        assert "runner_down" in report["unmatched"] and report["fixes"]["actions"] == []
        assert printed[-1] == "no safe fix to apply"
