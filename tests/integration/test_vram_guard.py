"""vram_guard through the real Ansible: the real nvidia-ml-py reads the NVML double (VRAM set from a
real A100 capture), and the service restarted is a real container on a private Docker engine. The
daily playbook runs it only when gpufleet_restart_on_vram_exhaustion is on and VRAM is high."""

import glob
import json
import os
import threading
import time

import pytest

from testlib import nvml_double
from testlib.ansible_run import REPO_ROOT, run_module, run_playbook
from testlib.docker_lab import Dockerd

pytestmark = pytest.mark.integration

MODULE = "gpufleet.maintenance.vram_guard"
CAPTURE = os.path.join(REPO_ROOT, "tests", "unit", "fixtures", "nvidia_smi",
                       "a100-sxm4-80gb-driver535-dtdv12-attached4-one-gpu-element.xml")
RUNNER = "gpf-vram-runner"


@pytest.fixture(scope="module")
def library():
    return nvml_double.build()


@pytest.fixture(scope="module")
def engine():
    with Dockerd() as lab:
        lab.make_image("gpf/runner:1", "an inference runner")
        # --init: a runner that stops on SIGTERM (sleep as PID 1 would ignore it and wait out the grace period)
        lab.docker("run", "-d", "--init", "--network", "none", "--name", RUNNER, "gpf/runner:1")
        yield lab


def _scenario(path, used_pct):
    """Two A100s from the real capture; GPU 0's VRAM use set to ``used_pct`` of its total."""
    with open(CAPTURE) as handle:
        scenario = nvml_double.scenario_from_xml(nvml_double.xml_with_gpus(handle.read(), 2))
    gpu = scenario["gpus"][0]
    gpu["mem_used"] = int(gpu["mem_total"] * used_pct / 100.0)
    return nvml_double.write_scenario(scenario, str(path))


def _started_at(engine):
    return engine.inspect(RUNNER, kind="container")[0]["State"]["StartedAt"]


def _args(engine, **extra):
    args = {"recheck_s": 1, "services": [{"name": RUNNER, "kind": "container"}], "docker_host": engine.host}
    args.update(extra)
    return args


def test_vram_that_stays_exhausted_restarts_the_container(tmp_path, library, engine):
    env = nvml_double.nvml_env(library, _scenario(tmp_path / "s.txt", 97.5))
    before = _started_at(engine)
    time.sleep(1.1)  # StartedAt has a resolution finer than this; a restart must move it

    checked = run_module(MODULE, _args(engine), check=True, env=env)
    assert checked.get("failed") is not True, checked
    guard = checked["ansible_facts"]["gpufleet_vram_guard"]
    assert checked["changed"] is True and guard["restarts"] == [
        {"name": RUNNER, "kind": "container", "restarted": False, "error": None}]
    assert "would restart %s (container)" % RUNNER in guard["checks"][0]["message"]
    assert _started_at(engine) == before  # check mode restarted nothing

    result = run_module(MODULE, _args(engine), env=env)
    assert result.get("failed") is not True, result
    guard = result["ansible_facts"]["gpufleet_vram_guard"]
    assert result["changed"] is True
    assert [(g["gpu"], g["first_pct"], g["second_pct"]) for g in guard["stayed"]] == [(0, 97.5, 97.5)]
    assert guard["fell"] == [] and guard["restarts"][0]["restarted"] is True
    [check] = guard["checks"]
    assert check["status"] == "warn" and check["gpu"] == 0 and check["value"] == 97.5
    assert check["message"].startswith("NVIDIA GPU 0 VRAM stayed at or above 95 % for 1 s (97.5 %, then 97.5 %): restarted")
    assert _started_at(engine) != before
    assert engine.inspect(RUNNER, kind="container")[0]["State"]["Running"] is True


def _inits(log):
    """nvmlInit calls the double logged (a line "init <command line>" each)."""
    return sum(1 for line in log.read_text().splitlines() if line.startswith("init ")) if log.exists() else 0


def test_vram_that_falls_before_the_second_look_restarts_nothing(tmp_path, library, engine):
    path, log = tmp_path / "s.txt", tmp_path / "inits.log"
    env = nvml_double.nvml_env(library, _scenario(path, 99.0), init_log=str(log))
    before = _started_at(engine)
    # The runner frees its memory while the guard waits: once the double has answered the guard's
    # first look (its init log has a line), the scenario is replaced (atomically) by one at 40 %,
    # which the second look, recheck_s later, reads.
    first_look, stop = threading.Event(), threading.Event()

    def free_memory_after_the_first_look():
        while not stop.is_set():
            if _inits(log) >= 1:
                _scenario(path, 40.0)
                first_look.set()
                return
            stop.wait(0.05)

    watcher = threading.Thread(target=free_memory_after_the_first_look)
    watcher.start()
    try:
        result = run_module(MODULE, _args(engine, recheck_s=2), env=env)
    finally:
        stop.set()
        watcher.join(10)
    assert first_look.is_set()
    assert _inits(log) == 2  # one NVML read per look: the first at 99 %, the second after the change
    assert result.get("failed") is not True, result
    guard = result["ansible_facts"]["gpufleet_vram_guard"]
    assert result["changed"] is False and guard["restarts"] == [] and guard["stayed"] == []
    [check] = guard["checks"]
    assert check["status"] == "ok" and "was 99 % and fell to 40 % within 2 s" in check["message"]
    assert _started_at(engine) == before


def test_first_reading_spares_a_gpu_read_unless_it_is_exhausted(tmp_path, library, engine):
    # The GPUs (the double) are exhausted now, but the reading the play already took was not:
    # the guard trusts that reading and neither reads nor restarts.
    env = nvml_double.nvml_env(library, _scenario(tmp_path / "s.txt", 99.0))
    calm = {"nvidia": {"present": True, "gpus": [{"index": 0, "name": "NVIDIA A100-SXM4-80GB", "memory_used_pct": 41.0}]},
            "amd": {"present": False, "gpus": []}}
    before = _started_at(engine)
    result = run_module(MODULE, _args(engine, first_reading=calm), env=env)
    guard = result["ansible_facts"]["gpufleet_vram_guard"]
    assert result["changed"] is False and guard["gpus"][0]["used_pct"] == 41.0 and guard["status"] == "ok"
    assert _started_at(engine) == before
    # An exhausted first reading is checked against a fresh one before anything restarts.
    busy = {"nvidia": {"present": True, "gpus": [{"index": 0, "name": "NVIDIA A100-SXM4-80GB", "memory_used_pct": 96.0}]}}
    result = run_module(MODULE, _args(engine, first_reading=busy), env=env)
    guard = result["ansible_facts"]["gpufleet_vram_guard"]
    assert result["changed"] is True and [(g["first_pct"], g["second_pct"]) for g in guard["stayed"]] == [(96.0, 99.0)]
    assert _started_at(engine) != before


def test_a_restart_that_fails_is_crit_not_a_failed_host(tmp_path, library, engine):
    env = nvml_double.nvml_env(library, _scenario(tmp_path / "s.txt", 96.0))
    result = run_module(MODULE, _args(engine, recheck_s=0, services=[
        {"name": "gpf-no-such-runner", "kind": "container"}, {"name": "gpf-no-such-unit", "kind": "systemd"}]), env=env)
    assert result.get("failed") is not True, result
    guard = result["ansible_facts"]["gpufleet_vram_guard"]
    assert result["changed"] is False and guard["status"] == "crit"
    container, unit = guard["restarts"]
    assert "No such container" in container["error"] and container["restarted"] is False
    assert unit["error"] and unit["restarted"] is False  # no such unit, or no systemd on this machine
    assert "restarting failed" in guard["checks"][0]["message"]


@pytest.mark.parametrize("args, message", [
    ({"threshold_pct": 150}, "threshold_pct must be above 0 and at most 100, got 150"),
    ({"services": [{"name": "a", "kind": "podman"}]}, "value of kind must be one of: systemd, container"),
    ({"services": [{"name": "a"}, {"name": "a"}]}, "a (systemd) is listed twice"),
    ({"recheck_s": 7200}, "recheck_s must be between 0 and 3600 seconds, got 7200"),
])
def test_bad_options_fail_with_a_message(args, message):
    result = run_module(MODULE, args)
    assert result.get("failed") is True and message in result["msg"], result
    assert "Traceback" not in json.dumps(result)


def test_without_a_gpu_there_is_nothing_to_guard():
    result = run_module(MODULE, {"nvidia_smi_path": "/nonexistent/nvidia-smi", "amd_smi_path": "/nonexistent/amd-smi",
                                 "rocm_smi_path": "/nonexistent/rocm-smi", "source": "nvidia_smi"})
    assert result.get("failed") is not True, result
    guard = result["ansible_facts"]["gpufleet_vram_guard"]
    assert result["changed"] is False and guard["status"] == "ok"
    assert guard["checks"][0]["message"] == "no GPU found: nothing to guard"


def test_gpus_that_cannot_be_read_are_unknown_not_nothing_to_guard(tmp_path):
    # nvidia-smi replays the real "couldn't communicate with the NVIDIA driver" capture (exit status 9);
    # this machine has no GPU on its PCI bus, so the gpu area cannot say more than that it could not look.
    with open(os.path.join(REPO_ROOT, "tests", "unit", "fixtures", "nvidia_smi", "nvidia-smi-wsl2-failed-to-communicate.txt")) as handle:
        tool = nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), handle.read(), rc=9)
    result = run_module(MODULE, {"source": "nvidia_smi", "nvidia_smi_path": tool, "amd_smi_path": "/nonexistent/amd-smi",
                                 "rocm_smi_path": "/nonexistent/rocm-smi", "services": [{"name": RUNNER, "kind": "container"}]})
    assert result.get("failed") is not True, result
    guard = result["ansible_facts"]["gpufleet_vram_guard"]
    assert result["changed"] is False and guard["status"] == "unknown" and guard["restarts"] == []
    [check] = guard["checks"]
    assert check["check"] == "vram_exhaustion" and check["status"] == "unknown"
    assert check["message"].startswith("could not look: the GPUs could not be read (could not look: %s -q -x: NVIDIA-SMI has "
                                       "failed because it couldn't communicate with the NVIDIA driver" % tool)


def _daily(tmp_path, env, evars):
    base = {"gpufleet_report_dir": str(tmp_path / "reports"), "gpufleet_history_path": str(tmp_path / "history.db"),
            "gpufleet_log_rotate_paths": [str(tmp_path / "logs")], "gpufleet_daily_areas": ["host", "gpu"]}
    base.update(evars)
    proc = run_playbook("playbooks/daily.yml", ["-e", json.dumps(base)], env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(sorted(glob.glob(str(tmp_path / "reports" / "daily-*.json")))[-1]) as handle:
        return proc, json.load(handle)


def test_daily_restarts_only_when_enabled_and_vram_stays_high(tmp_path, library, engine):
    path = tmp_path / "s.txt"
    env = dict(nvml_double.nvml_env(library, _scenario(path, 30.0)), DOCKER_HOST=engine.host)
    enabled = {"gpufleet_restart_on_vram_exhaustion": True, "gpufleet_vram_restart_recheck_s": 1,
               "gpufleet_vram_restart_services": [{"name": RUNNER, "kind": "container"}]}
    before = _started_at(engine)

    # Off (the default), VRAM high: reported by the gpu checks, nothing restarted, no guard area.
    _scenario(path, 98.0)
    proc, report = _daily(tmp_path, env, {})
    assert "vram_guard" not in report["areas"] and _started_at(engine) == before
    assert [p["status"] for p in report["problems"] if p["check"] == "vram_used"] == ["warn"]

    # On, VRAM low: the guard takes the day's reading and reads nothing more.
    _scenario(path, 30.0)
    time.sleep(1.1)
    proc, report = _daily(tmp_path, env, enabled)
    assert "vram_guard" in report["areas"] and _started_at(engine) == before
    assert "vram guard: no restart needed (threshold 95 %)" in proc.stdout
    # the restart rides in host_health's module run (health_upkeep): no upkeep task of its own
    assert "gpufleet.maintenance.upkeep" not in proc.stdout
    assert not [p for p in report["problems"] if p["check"] == "vram_exhaustion"]

    # On, VRAM stays high: the runner is restarted, and the report says so.
    _scenario(path, 98.0)
    time.sleep(1.1)
    proc, report = _daily(tmp_path, env, enabled)
    assert _started_at(engine) != before
    [problem] = [p for p in report["problems"] if p["check"] == "vram_exhaustion"]
    assert problem["status"] == "warn" and "restarted %s (container)" % RUNNER in problem["message"]
    assert "vram guard: %s (container) restarted" % RUNNER in proc.stdout
