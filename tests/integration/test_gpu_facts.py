"""gpu_facts through the real Ansible: the real nvidia-ml-py against the NVML double (task
``environment: LD_LIBRARY_PATH``), the nvidia-smi path with a stand-in replaying a capture, a
version mismatch, a lost GPU, and the daily playbook's GPU section."""

import json
import os

import pytest

from testlib import nvml_double, pci_tree, stuck_tool
from testlib.ansible_run import REPO_ROOT, run_module, run_playbook

pytestmark = pytest.mark.integration

FIXTURES = os.path.join(REPO_ROOT, "tests", "unit", "fixtures", "nvidia_smi")
SYSFS = os.path.join(REPO_ROOT, "tests", "unit", "fixtures", "sysfs_pci")
H200 = os.path.join(REPO_ROOT, "tests", "unit", "fixtures", "device_h200", "nvidia-smi-q-x.xml")
A100 = "a100-sxm4-80gb-driver535-dtdv12-attached4-one-gpu-element.xml"


def _capture(name, count=1):
    with open(os.path.join(FIXTURES, name)) as handle:
        text = handle.read()
    return nvml_double.xml_with_gpus(text, count) if count != 1 else text


def _play(tmp_path, module_args, environment):
    playbook = tmp_path / "gpu.yml"
    playbook.write_text(json.dumps([{
        "name": "gpu_facts with the NVML double",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [{"name": "Gather GPU facts", "gpufleet.maintenance.gpu_facts": module_args,
                   "environment": environment, "register": "result"}],
    }]))
    proc = run_playbook(str(playbook), json_output=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]  # a fault is a check, never a failed task
    data = json.loads(proc.stdout)
    return data["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.fixture(scope="module")
def library():
    return nvml_double.build()


def test_nvml_path_through_ansible_eight_gpus(tmp_path, library):
    scenario = nvml_double.write_scenario(nvml_double.scenario_from_xml(_capture(A100, 8)), str(tmp_path / "s.txt"))
    result = _play(tmp_path, {"source": "nvml", "include_processes": True}, nvml_double.nvml_env(library, scenario))
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    fact = result["ansible_facts"]["gpufleet_gpu"]
    nvidia = fact["nvidia"]
    assert nvidia["source"] == "nvml" and nvidia["gpu_count"] == 8
    assert nvidia["driver_version"] == "535.54.03" and nvidia["cuda_driver_version"] == "12.2"
    assert nvidia["gpus"][7]["temperature_c"] == 34 and nvidia["gpus"][0]["memory_temperature_c"] == 44
    assert fact["status"] == "ok"
    assert len([c for c in fact["checks"] if c["check"] == "gpu_temperature"]) == 8


def test_parity_through_ansible(tmp_path, library):
    xml = _capture("a10g-driver515-dtdv11.xml", 2)
    scenario = nvml_double.write_scenario(nvml_double.scenario_from_xml(xml), str(tmp_path / "s.txt"))
    tool = nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), xml)
    env = nvml_double.nvml_env(library, scenario)
    by_nvml = _play(tmp_path, {"source": "nvml", "include_processes": True}, env)["ansible_facts"]["gpufleet_gpu"]
    by_smi = _play(tmp_path, {"source": "nvidia_smi", "nvidia_smi_path": tool, "include_processes": True}, env)["ansible_facts"]["gpufleet_gpu"]
    for fact in (by_nvml, by_smi):
        fact["nvidia"].pop("source")
        fact["nvidia"].pop("nvml_version")
    assert by_nvml == by_smi
    assert by_nvml["nvidia"]["gpus"][1]["remapped_rows"] == dict(correctable=0, uncorrectable=0, pending=False, failure=False)


def test_version_mismatch_is_a_crit_check(tmp_path, library):
    scenario = nvml_double.write_scenario(nvml_double.scenario_from_xml(_capture(A100), init=18), str(tmp_path / "s.txt"))
    result = _play(tmp_path, {}, nvml_double.nvml_env(library, scenario))
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_gpu"]
    assert fact["status"] == "crit"
    check = [c for c in fact["checks"] if c["check"] == "driver_library_mismatch"][0]
    assert check["status"] == "crit" and "reboot" in check["message"]


def test_lost_gpu_through_ansible(tmp_path, library):
    scenario = nvml_double.scenario_from_xml(_capture("a10g-driver515-dtdv11.xml", 2))
    scenario["gpus"][0]["error"] = 15
    path = nvml_double.write_scenario(scenario, str(tmp_path / "s.txt"))
    fact = _play(tmp_path, {}, nvml_double.nvml_env(library, path))["ansible_facts"]["gpufleet_gpu"]
    assert [g["state"] for g in fact["nvidia"]["gpus"]] == ["lost", "ok"]
    assert fact["nvidia"]["gpus"][1]["temperature_c"] == 18
    assert [(c["gpu"], c["status"]) for c in fact["checks"] if c["check"] == "gpu_lost"] == [(0, "crit")]
    assert fact["status"] == "crit"


def test_truncated_xml_warns_and_reports_the_rest(tmp_path):
    xml = _capture("rtx3060-driver570-dtdv12.xml", 2)
    cut = xml[: xml.rindex("<temperature>")]
    tool = nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), cut)
    result = run_module("gpufleet.maintenance.gpu_facts", {"source": "nvidia_smi", "nvidia_smi_path": tool})
    fact = result["ansible_facts"]["gpufleet_gpu"]
    assert fact["nvidia"]["gpu_count"] == 1 and fact["nvidia"]["gpus"][0]["name"] == "NVIDIA GeForce RTX 3060"
    assert any("truncated or garbled" in w for w in result.get("warnings", []))
    assert [c["status"] for c in fact["checks"] if c["check"] == "tool_output"] == ["warn"]


def test_no_gpu_host_is_ok_and_check_mode_is_the_same():
    result = run_module("gpufleet.maintenance.gpu_facts", {}, check=True)
    assert result["changed"] is False
    fact = result["ansible_facts"]["gpufleet_gpu"]
    assert fact["nvidia"]["present"] is False and fact["amd"]["present"] is False
    assert fact["status"] == "ok" and fact["schema_version"] == 1


def test_bad_thresholds_fail_cleanly():
    result = run_module("gpufleet.maintenance.gpu_facts", {"thresholds": {"temperature_warn_c": 95}})
    assert result["failed"] is True
    assert result["msg"].endswith("thresholds: temperature_crit_c (90.0) must not be below temperature_warn_c (95.0)")


def test_daily_playbook_prints_the_gpu_section():
    proc = run_playbook("playbooks/daily.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "gpu: no NVIDIA/AMD GPU (" in proc.stdout
    assert "failed=0" in proc.stdout


def test_daily_playbook_with_the_double_shows_gpu_lines(tmp_path, library):
    scenario = nvml_double.write_scenario(nvml_double.scenario_from_xml(_capture(A100, 2)), str(tmp_path / "s.txt"))
    proc = run_playbook("playbooks/daily.yml", env=nvml_double.nvml_env(library, scenario))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "gpu nvidia: 2 GPU(s), driver 535.54.03, CUDA 12.2 (via nvml)" in proc.stdout
    assert "gpu 1 NVIDIA A100-SXM4-80GB: 28 C, mem 44 C, 67 W" in proc.stdout


def test_amd_rocm_smi_through_ansible(tmp_path):
    capture = os.path.join(REPO_ROOT, "tests", "unit", "fixtures", "rocm_smi", "vega20-wks-gl-xe-radeon-pro-vii.json")
    tool = tmp_path / "rocm-smi"
    tool.write_text("#!/bin/sh\n# rocm-smi stand-in: replays a saved capture.\ncat '%s'\n" % capture)
    tool.chmod(0o755)
    result = run_module("gpufleet.maintenance.gpu_facts", {"source": "nvidia_smi", "nvidia_smi_path": str(tmp_path / "none"),
                                                           "amd_smi_path": str(tmp_path / "none"), "rocm_smi_path": str(tool)})
    fact = result["ansible_facts"]["gpufleet_gpu"]
    amd = fact["amd"]
    assert amd["present"] is True and amd["source"] == "rocm_smi" and amd["driver_version"] == "5.9.17"
    gpu = amd["gpus"][0]
    assert gpu["name"] == "Radeon Instinct MI50 32GB" and gpu["temperature_edge_c"] == 36.0 and gpu["power_w"] == 26.0
    assert fact["nvidia"]["present"] is False and fact["status"] == "ok"
    # This rocm-smi capture has no ECC counts: no ecc_uncorrectable verdict rather than an "ok" for a count never read
    assert gpu["ecc_uncorrectable"] is None
    assert {c["check"] for c in fact["checks"] if c.get("vendor") == "amd"} == {
        "gpu_temperature", "memory_temperature", "vram_used", "fan_stopped"}


def test_a_hung_nvidia_smi_that_ignores_sigterm_says_timed_out(tmp_path):
    tool = stuck_tool.ignoring_sigterm(tmp_path)
    result = run_module("gpufleet.maintenance.gpu_facts", {"source": "nvidia_smi", "nvidia_smi_path": tool, "timeout": 1,
                                                           "amd_smi_path": str(tmp_path / "none"),
                                                           "rocm_smi_path": str(tmp_path / "none")})
    assert result.get("failed") is not True, result
    said = "%s timed out after 1 s and was killed (it ignored SIGTERM)" % tool
    assert ["%s -q -x: %s" % (tool, said)] == [w for w in result.get("warnings", []) if "timed out" in w]
    [check] = [c for c in result["ansible_facts"]["gpufleet_gpu"]["checks"] if c["check"] == "tool_output"]
    assert check["status"] == "warn" and said in check["message"]


@pytest.mark.parametrize("module, args", [
    ("gpufleet.maintenance.gpu_facts", {"timeout": 0}),
    ("gpufleet.maintenance.health_facts", {"areas": ["gpu"], "gpu": {"timeout": 0}}),
])
def test_a_timeout_below_one_second_is_refused_naming_the_option(module, args):
    result = run_module(module, args)
    assert result.get("failed") is True and "timeout must be at least 1 second, got 0" in result["msg"], result


def _pci_root(tmp_path, with_h200):
    """A sysfs tree from real captures: a VM's devices, and an H200 with no driver bound."""
    with open(os.path.join(SYSFS, "debian12-vm-no-gpu.txt")) as handle:
        devices = pci_tree.from_listing(handle.read())
    if with_h200:
        with open(H200) as handle:
            devices += pci_tree.from_nvidia_smi_xml(handle.read())
    return pci_tree.write(tmp_path / "root", devices)


@pytest.mark.parametrize("with_h200, status", [(True, "crit"), (False, "unknown")])
def test_driver_not_loaded_is_crit_with_a_gpu_on_the_bus_else_unknown(tmp_path, library, with_h200, status):
    # The real nvidia-ml-py against the double answering "Driver Not Loaded" at init, and an nvidia-smi
    # that replays the real "couldn't communicate with the NVIDIA driver" capture with exit status 9.
    scenario = nvml_double.write_scenario(nvml_double.scenario_from_xml(_capture(A100), init=9), str(tmp_path / "s.txt"))
    with open(os.path.join(FIXTURES, "nvidia-smi-wsl2-failed-to-communicate.txt")) as handle:
        tool = nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), handle.read(), rc=9)
    args = {"nvidia_smi_path": tool, "root": _pci_root(tmp_path, with_h200),
            "amd_smi_path": str(tmp_path / "none"), "rocm_smi_path": str(tmp_path / "none")}
    result = _play(tmp_path, args, nvml_double.nvml_env(library, scenario))
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_gpu"]
    [check] = [c for c in fact["checks"] if c["check"] == "gpu_present"]
    assert fact["status"] == status and check["status"] == status
    assert "NVIDIA driver not loaded (NVML: Driver Not Loaded)" in check["message"]
    assert "couldn't communicate with the NVIDIA driver" in check["message"]
    if with_h200:
        assert check["message"].startswith("GPU present, driver not loaded: NVIDIA GPU 0000:00:06.0 (no driver bound)")
        assert "dkms autoinstall" in check["message"]
    else:
        assert check["message"].startswith("could not look: ") and "no NVIDIA/AMD GPU is on the PCI bus" in check["message"]
