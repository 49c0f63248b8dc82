"""GPU health checks: each default threshold fires, overrides work, and the summary section."""

import copy

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import checks as _gpu_checks, present as _present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import CheckError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.nvidia_smi import lost_gpu

T = _gpu_checks.CHECKS.merged()
HEALTHY = dict(index=0, state="ok", name="NVIDIA H100", temperature_c=40, memory_temperature_c=50, memory_used_pct=10.0,
               fan_speed_pct=30, throttle_reasons=["gpu_idle"],
               ecc=dict(volatile_uncorrected=0, aggregate_uncorrected=0),
               remapped_rows=dict(correctable=0, uncorrectable=0, pending=False, failure=False),
               retired_pages=dict(single_bit=0, double_bit=0, pending=False))


def _status(gpu, check, thresholds=None):
    thresholds = thresholds or T
    found = [c for c in _gpu_checks.nvidia_gpu_checks(gpu, thresholds) if c["check"] == check]
    assert len(found) == 1, check
    return found[0]["status"]


def _with(**changes):
    gpu = copy.deepcopy(HEALTHY)
    for key, value in changes.items():
        if isinstance(value, dict):
            gpu[key].update(value)
        else:
            gpu[key] = value
    return gpu


def test_healthy_gpu_is_all_ok():
    checks = _gpu_checks.nvidia_gpu_checks(HEALTHY, T)
    assert {c["status"] for c in checks} == {"ok"}
    assert {c["check"] for c in checks} == {"gpu_temperature", "memory_temperature", "vram_used", "ecc_uncorrectable",
                                            "remapped_rows", "retired_pages_pending", "throttle", "power_brake",
                                            "fan_stopped"}
    assert all(c["gpu"] == 0 and c["vendor"] == "nvidia" for c in checks)


@pytest.mark.parametrize("changes,check,status", [
    (dict(temperature_c=84), "gpu_temperature", "ok"),
    (dict(temperature_c=85), "gpu_temperature", "warn"),
    (dict(temperature_c=90), "gpu_temperature", "crit"),
    (dict(memory_temperature_c=95), "memory_temperature", "warn"),
    (dict(memory_temperature_c=105), "memory_temperature", "crit"),
    (dict(temperature_c=None), "gpu_temperature", "unknown"),
    (dict(memory_used_pct=None), "vram_used", "unknown"),
    (dict(throttle_reasons=None), "throttle", "unknown"),
    (dict(memory_used_pct=95.0), "vram_used", "warn"),
    (dict(ecc=dict(volatile_uncorrected=1)), "ecc_uncorrectable", "crit"),
    (dict(ecc=dict(volatile_uncorrected=None, aggregate_uncorrected=3)), "ecc_uncorrectable", "crit"),
    (dict(remapped_rows=dict(failure=True)), "remapped_rows", "crit"),
    (dict(remapped_rows=dict(pending=True)), "remapped_rows", "crit"),
    (dict(retired_pages=dict(pending=True)), "retired_pages_pending", "warn"),
    (dict(throttle_reasons=["sw_power_cap"]), "throttle", "ok"),
    (dict(throttle_reasons=["hw_thermal_slowdown"]), "throttle", "warn"),
    # the power brake is its own check (test_power_brake.py), not a thermal throttle
    (dict(throttle_reasons=["hw_power_brake_slowdown", "gpu_idle"]), "throttle", "ok"),
    (dict(throttle_reasons=["hw_power_brake_slowdown", "gpu_idle"]), "power_brake", "warn"),
    (dict(throttle_reasons=None), "power_brake", "unknown"),
    (dict(fan_speed_pct=0, temperature_c=61), "fan_stopped", "warn"),
    (dict(fan_speed_pct=0, temperature_c=60), "fan_stopped", "ok"),
])
def test_each_threshold(changes, check, status):
    assert _status(_with(**changes), check) == status


def test_overrides_and_validation():
    thresholds = _gpu_checks.CHECKS.merged({"temperature_warn_c": 70, "temperature_crit_c": None})
    assert thresholds["temperature_warn_c"] == 70 and thresholds["temperature_crit_c"] == 90
    assert _status(_with(temperature_c=75), "gpu_temperature", thresholds) == "warn"
    with pytest.raises(CheckError, match=r"unknown threshold\(s\) temp "):
        _gpu_checks.CHECKS.merged({"temp": 1})
    with pytest.raises(CheckError, match=r"^temperature_crit_c \(90\) must not be below temperature_warn_c \(95\)$"):
        _gpu_checks.CHECKS.merged({"temperature_warn_c": 95})


def test_nvml_throttle_bits_match_the_xml_names():
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import nvidia_smi as _nvidia_smi, nvml as _nvml
    assert tuple(name for name, _bit in _nvml.THROTTLE_BITS) == _nvidia_smi.THROTTLE_REASONS
    assert _nvml.throttle_names(0x1 | 0x40 | 0x80) == ["gpu_idle", "hw_thermal_slowdown", "hw_power_brake_slowdown"]
    assert _nvml.cuda_version_string(12040) == "12.4" and _nvml.cuda_version_string(0) is None


def test_lost_gpu_is_one_crit_check():
    checks = _gpu_checks.nvidia_gpu_checks(lost_gpu(1, "00000000:3B:00.0", "GPU is lost (NVML error 15)"), T)
    assert [(c["check"], c["status"], c["gpu"]) for c in checks] == [("gpu_lost", "crit", 1)]
    assert "reset the GPU" in checks[0]["message"]


def test_mismatch_message_says_reboot():
    check = _gpu_checks.driver_library_mismatch_check("RM has detected an NVML/RM version mismatch. (NVML error 18)")
    assert check["status"] == "crit" and check["check"] == "driver_library_mismatch"
    assert "kernel module and the userspace driver differ" in check["message"] and "reboot" in check["message"]


@pytest.mark.parametrize("changes,check", [
    (dict(memory_temperature_c=None), "memory_temperature"),       # no junction sensor (most GeForce cards)
    (dict(fan_speed_pct=None, temperature_c=70), "fan_stopped"),   # passively cooled (A100, H100, H200)
    (dict(ecc=dict(volatile_uncorrected=None, aggregate_uncorrected=None)), "ecc_uncorrectable"),  # no ECC
    (dict(remapped_rows=None), "remapped_rows"),                    # before Ampere
    (dict(retired_pages=dict(pending=None)), "retired_pages_pending"),  # Ampere and later
])
def test_a_reading_the_card_does_not_have_gives_no_verdict_not_ok(changes, check):
    """Never ok for what was not read: a reading this card does not have is no check at all."""
    assert check in [c["check"] for c in _gpu_checks.nvidia_gpu_checks(HEALTHY, T)]
    assert check not in [c["check"] for c in _gpu_checks.nvidia_gpu_checks(_with(**changes), T)]


def test_amd_checks():
    gpu = dict(index=0, name="MI100", temperature_edge_c=91.0, temperature_memory_c=50.0, vram_used_pct=1.0,
               ecc_uncorrectable=2, fan_speed_pct=None)
    statuses = dict((c["check"], c["status"]) for c in _gpu_checks.amd_gpu_checks(gpu, T))
    assert statuses == {"gpu_temperature": "crit", "memory_temperature": "ok", "vram_used": "ok",
                        "ecc_uncorrectable": "crit"}   # no fan reading: no fan verdict


def test_summary_lines():
    absent = {"nvidia": {"present": False, "reason": "nvidia-smi not found on PATH"},
              "amd": {"present": False, "reason": "neither amd-smi nor rocm-smi found"}}
    assert _present.summary_lines(absent) == [
        "gpu: no NVIDIA/AMD GPU (nvidia-smi not found on PATH; neither amd-smi nor rocm-smi found)"]
    present = {"nvidia": {"present": True, "gpu_count": 2, "driver_version": "550.54.15", "cuda_driver_version": "12.4",
                          "source": "nvml", "gpus": [dict(HEALTHY, power_draw_w=71.25), lost_gpu(1, None, "GPU is lost")]},
               "amd": {"present": False}}
    assert _present.summary_lines(present) == [
        "gpu nvidia: 2 GPU(s), driver 550.54.15, CUDA 12.4 (via nvml)",
        "gpu 0 NVIDIA H100: 40 C, mem 50 C, 71.2 W, VRAM 10 %",
        "gpu 1: LOST (GPU is lost)",
    ]


def _check(gpu, name):
    [found] = [c for c in _gpu_checks.nvidia_gpu_checks(gpu, T) if c["check"] == name]
    return found


@pytest.mark.parametrize("ecc, status, value", [
    (dict(volatile_uncorrected=0, aggregate_uncorrected=0), "ok", 0),
    (dict(volatile_uncorrected=2, aggregate_uncorrected=None), "crit", 2),
])
def test_ecc_uncorrectable_value_is_the_count_against_a_threshold_of_zero(ecc, status, value):
    # any uncorrectable ECC error is crit: the threshold recorded with the result is 0, in every branch
    check = _check(_with(ecc=ecc), "ecc_uncorrectable")
    assert (check["status"], check["value"], check["threshold"]) == (status, value, 0)


def test_retired_pages_pending_value_says_whether_pages_are_pending():
    assert _check(_with(retired_pages=dict(pending=True)), "retired_pages_pending")["value"] is True
    assert _check(HEALTHY, "retired_pages_pending")["value"] is False


def test_a_gpu_without_name_or_bus_id_is_labelled_unknown_in_its_messages():
    check = _check(_with(name=None, temperature_c=90), "gpu_temperature")
    assert check["message"].startswith("GPU 0 (unknown) ")


def test_driver_not_loaded_names_every_tool_that_failed_not_only_the_last():
    # collect records in _failed what NVML and nvidia-smi both said; the section keeps nvidia-smi's only
    gpu = {"address": "0000:00:06.0", "vendor": "nvidia", "class": "0x030200", "driver": None, "state": "no_driver"}
    data = {"pci": {"gpus": [gpu], "error": None}, "nvidia": {"present": False, "reason": "nvidia-smi: failed"},
            "amd": {"present": False, "reason": "amd-smi not found"},
            "_failed": {"nvidia": "NVML: libnvidia-ml.so.1 not found; nvidia-smi: failed", "amd": None}}
    check = _gpu_checks.gpu_present_check(data)
    assert check["status"] == "crit"
    assert check["message"].startswith("GPU present, driver not loaded: NVIDIA GPU 0000:00:06.0 (no driver bound); "
                                       "NVML: libnvidia-ml.so.1 not found; nvidia-smi: failed: ")
