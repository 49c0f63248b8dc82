"""nvidia-smi -q -x parsing over every real capture (DTD v7 to v13), N/A handling, faults."""

import subprocess

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import nvidia_smi as _nvidia_smi

# file: (driver, cuda, name, temperature_c, memory_temperature_c, power_draw_w, power_limit_w,
#        memory_total_mib, memory_used_mib, fan_speed_pct, processes)
CAPTURES = {
    "a100-sxm4-40gb-mig-driver510-dtdv11.xml": ("510.47.03", "11.6", "NVIDIA A100-SXM4-40GB", 36, 44, 66.92, 400.0, 40960, 38, None, 0),
    "a100-sxm4-80gb-driver535-dtdv12-attached4-one-gpu-element.xml": ("535.54.03", "12.2", "NVIDIA A100-SXM4-80GB", 27, 44, 67.03, 500.0, 81920, 50, None, 0),
    "a10g-driver515-dtdv11.xml": ("515.105.01", "11.7", "NVIDIA A10G", 17, None, 25.58, 300.0, 23028, 22, 0, 1),
    "grid-k520-driver352-dtdv7.xml": ("352.99", None, "GRID K520", 31, None, 17.97, 125.0, 4095, 11, None, 0),
    "gtx1070ti-dtdv10-trimmed.xml": (None, None, "GeForce GTX 1070 Ti", 39, None, None, None, 4096, 42, 100, 0),
    "gtx1660ti-driver418-nodtd.xml": ("418.43", "10.1", "Graphics Device", 40, None, 8.93, 130.0, 5912, 0, 0, 0),
    "quadro-p2000-driver525-dtdv12.xml": ("525.125.06", "12.0", "Quadro P2000", 34, None, 4.61, 75.0, 5120, 1, 46, 0),
    "rtx-pro-6000-blackwell-driver580-excerpt.xml": (None, None, "NVIDIA RTX PRO 6000 Blackwell", 37, None, 66.84, None, None, None, 40, 0),
    "rtx2080-driver516-windows-dtdv11.xml": ("516.59", "11.7", "NVIDIA GeForce RTX 2080", 29, None, 14.5, 275.0, 8192, 862, 37, 26),
    "rtx3060-driver570-dtdv12.xml": ("570.124.04", "12.8", "NVIDIA GeForce RTX 3060", 42, None, 11.6, 170.0, 12288, 116, 0, 0),
    "rtx3060-laptop-driver515-dtdv11.xml": ("515.65.01", "11.7", "NVIDIA GeForce RTX 3060 Laptop GPU", 45, None, 8.7, None, 6144, 5, None, 1),
    "rtx3080-driver536-windows-dtdv12.xml": ("536.40", "12.2", "NVIDIA GeForce RTX 3080", 31, None, 22.78, 336.0, 10240, 1128, 0, 5),
    "rtx3080-driver595-dtdv13.xml": ("595.58.03", "13.2", "NVIDIA GeForce RTX 3080", 27, None, 139.62, 320.0, 10240, 9184, 0, 0),
}


def _read(fixture_path, name):
    with open(fixture_path("nvidia_smi", name)) as handle:
        return handle.read()


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_every_capture_gives_its_values(fixture_path, name):
    driver, cuda, gpu_name, temp, mem_temp, power, limit, total, used, fan, procs = CAPTURES[name]
    facts, problems = _nvidia_smi.parse_xml(_read(fixture_path, name))
    assert problems == []
    assert facts["present"] is True and facts["source"] == "nvidia_smi"
    assert facts["driver_version"] == driver
    assert facts["cuda_driver_version"] == cuda
    assert facts["gpu_count"] == 1 == len(facts["gpus"])
    gpu = facts["gpus"][0]
    assert gpu["index"] == 0 and gpu["state"] == "ok"
    assert gpu["name"] == gpu_name
    assert gpu["temperature_c"] == temp
    assert gpu["memory_temperature_c"] == mem_temp
    assert gpu["power_draw_w"] == power
    assert gpu["power_limit_w"] == limit
    assert gpu["memory_total_mib"] == total
    assert gpu["memory_used_mib"] == used
    assert gpu["fan_speed_pct"] == fan
    assert len(gpu["processes"]) == procs
    # Never a placeholder string anywhere in the GPU.
    flat = repr(gpu)
    assert "N/A" not in flat and "Not Supported" not in flat


def test_no_na_string_survives_anywhere(fixture_path):
    for name in CAPTURES:
        facts, _problems = _nvidia_smi.parse_xml(_read(fixture_path, name))
        for gpu in facts["gpus"]:
            for key, value in gpu.items():
                assert value not in ("N/A", "", "[Not Supported]"), (name, key)


def test_rtx3060_details_na_and_real_zero(fixture_path):
    gpu = _nvidia_smi.parse_xml(_read(fixture_path, "rtx3060-driver570-dtdv12.xml"))[0]["gpus"][0]
    assert gpu["serial"] is None  # N/A
    assert gpu["fan_speed_pct"] == 0  # a real 0 stays 0
    assert gpu["utilization_gpu_pct"] == 0
    assert gpu["uuid"] == "GPU-d6889ff6-2523-9142-ca3c-1ca3f396a625"
    assert gpu["pci_bus_id"] == "00000000:2D:00.0"
    assert gpu["vbios_version"] == "94.04.71.00.69"
    assert gpu["temperature_slowdown_c"] == 95 and gpu["temperature_shutdown_c"] == 98
    assert gpu["power_default_limit_w"] == 170.0 and gpu["power_max_limit_w"] == 190.0
    assert gpu["clocks_sm_mhz"] == 210 and gpu["clocks_mem_mhz"] == 405
    assert gpu["throttle_reasons"] == ["gpu_idle"]
    assert gpu["ecc"] == dict(mode_current=None, volatile_corrected=None, volatile_uncorrected=None,
                              aggregate_corrected=None, aggregate_uncorrected=None)
    assert gpu["remapped_rows"] == dict(correctable=None, uncorrectable=None, pending=None, failure=None)
    assert gpu["pcie"] == dict(gen_current=1, gen_max=4, width_current=16, width_max=16)
    assert gpu["persistence_mode"] is True and gpu["compute_mode"] == "default"
    assert gpu["memory_used_pct"] == 0.9


def test_a10g_ecc_and_remapped_rows(fixture_path):
    gpu = _nvidia_smi.parse_xml(_read(fixture_path, "a10g-driver515-dtdv11.xml"))[0]["gpus"][0]
    assert gpu["ecc"] == dict(mode_current="enabled", volatile_corrected=0, volatile_uncorrected=0,
                              aggregate_corrected=0, aggregate_uncorrected=0)
    assert gpu["remapped_rows"] == dict(correctable=0, uncorrectable=0, pending=False, failure=False)
    assert gpu["pcie"]["width_current"] == 8
    assert gpu["processes"][0]["pid"] == 725


def test_grid_k520_old_dtd_v7(fixture_path):
    facts = _nvidia_smi.parse_xml(_read(fixture_path, "grid-k520-driver352-dtdv7.xml"))[0]
    gpu = facts["gpus"][0]
    assert facts["cuda_driver_version"] is None  # DTD v7 has no cuda_version
    assert gpu["serial"] == "0321014026924"
    assert gpu["power_max_limit_w"] == 130.0
    assert gpu["throttle_reasons"] == ["gpu_idle"]  # clocks_throttle_reasons (old name)
    assert gpu["ecc"]["volatile_uncorrected"] is None


def test_windows_processes_with_na_memory(fixture_path):
    gpu = _nvidia_smi.parse_xml(_read(fixture_path, "rtx3080-driver536-windows-dtdv12.xml"))[0]["gpus"][0]
    first = gpu["processes"][0]
    assert first["pid"] == min(p["pid"] for p in gpu["processes"])
    assert {"pid": 835, "name": "/usr/lib/Xorg", "used_memory_mib": 550} in gpu["processes"]


def test_attached_gpus_is_not_trusted_over_gpu_elements(fixture_path):
    facts = _nvidia_smi.parse_xml(_read(fixture_path, "a100-sxm4-80gb-driver535-dtdv12-attached4-one-gpu-element.xml"))[0]
    assert facts["gpu_count"] == 1


def test_truncated_xml_keeps_complete_gpus_and_warns(fixture_path):
    text = _read(fixture_path, "rtx3060-driver570-dtdv12.xml")
    two = text.replace("</gpu>", "</gpu>\n" + text[text.index("<gpu "):text.index("</gpu>") + 6], 1)
    truncated = two[: two.rindex("<temperature>") + 20]
    facts, problems = _nvidia_smi.parse_xml(truncated)
    assert facts["gpu_count"] == 1 and facts["gpus"][0]["temperature_c"] == 42
    assert len(problems) == 1 and "truncated or garbled" in problems[0] and "1 complete GPU" in problems[0]


def test_garbage_is_a_problem_not_a_traceback():
    facts, problems = _nvidia_smi.parse_xml("NVIDIA-SMI \x00\x01 garbage <<<")
    assert facts["present"] is False and facts["gpus"] == []
    assert "could not read the XML" in problems[0]


def _runner(args, check_rc=False, environ_update=None, data=None, handle_exceptions=False):
    proc = subprocess.run(args, capture_output=True, text=True, check=False,
                          env=dict(__import__("os").environ, **(environ_update or {})))
    return proc.returncode, proc.stdout, proc.stderr


def _standin(tmp_path, stdout, stderr="", rc=0):
    from testlib.nvml_double import nvidia_smi_standin
    return nvidia_smi_standin(str(tmp_path), stdout, stderr, rc)


def test_gather_reports_lost_gpu_from_stderr(tmp_path, fixture_path):
    tool = _standin(tmp_path, _read(fixture_path, "a10g-driver515-dtdv11.xml"),
                    "Unable to determine the device handle for GPU 0000:3B:00.0: GPU is lost. Reboot the system to recover this GPU\n")
    facts, problems, mismatch = _nvidia_smi.gather(_runner, tool)
    assert mismatch is None and problems == []
    assert facts["gpu_count"] == 2
    lost = facts["gpus"][1]
    assert lost["state"] == "lost" and lost["pci_bus_id"] == "0000:3B:00.0"
    assert lost["error"].startswith("GPU is lost") and lost["temperature_c"] is None
    assert facts["gpus"][0]["name"] == "NVIDIA A10G"


def test_gather_version_mismatch(tmp_path):
    tool = _standin(tmp_path, "Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.127\n", rc=18)
    facts, problems, mismatch = _nvidia_smi.gather(_runner, tool)
    assert "Driver/library version mismatch" in mismatch
    assert facts["gpus"] == [] and problems == []


def test_gather_no_driver_is_absent_not_a_failure(tmp_path):
    tool = _standin(tmp_path, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
                              "Make sure that the latest NVIDIA driver is installed and running.\n", rc=9)
    facts, problems, mismatch = _nvidia_smi.gather(_runner, tool)
    assert facts["present"] is False and "couldn't communicate" in facts["reason"]
    assert problems == [] and mismatch is None


def test_gather_hanging_tool_is_killed(tmp_path):
    script = tmp_path / "nvidia-smi"
    script.write_text("#!/bin/sh\nsleep 30\n")
    script.chmod(0o755)
    facts, problems, _mismatch = _nvidia_smi.gather(_runner, str(script), timeout=1)
    assert facts["present"] is False
    assert "timed out after 1 s and was killed" in problems[0]
    assert problems[0].startswith("%s -q -x" % script)


def test_gather_hanging_tool_that_ignores_sigterm_timed_out_not_exited_minus_9(tmp_path):
    from testlib.stuck_tool import ignoring_sigterm
    script = ignoring_sigterm(tmp_path)
    facts, problems, _mismatch = _nvidia_smi.gather(_runner, script, timeout=1)
    assert facts["present"] is False
    assert problems == ["%s -q -x: %s timed out after 1 s and was killed (it ignored SIGTERM)" % (script, script)]
    assert facts["reason"] == problems[0]
