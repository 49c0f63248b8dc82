"""The nvidia-smi parser on real output from an H200, checked against NVML read on the same card.

Fixtures: tests/unit/fixtures/device_h200 (captured by this project on a lent GPU machine).
"""

import json

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import nvidia_smi as _nvidia_smi


def _load(fixture_path, name):
    with open(fixture_path("device_h200", name)) as handle:
        return handle.read()


def test_h200_xml_matches_the_nvml_dump_of_the_same_card(fixture_path):
    facts, problems = _nvidia_smi.parse_xml(_load(fixture_path, "nvidia-smi-q-x.xml"))
    assert problems == []
    nvml = json.loads(_load(fixture_path, "system-and-nvml.json"))["nvml"]
    dev = nvml["devices"][0]
    assert facts["driver_version"] == nvml["driver_version"] == "580.159.04"
    assert facts["cuda_driver_version"] == "13.0" and nvml["cuda_driver_version"] == 13000
    gpu = facts["gpus"][0]
    assert (gpu["name"], gpu["uuid"], gpu["serial"]) == (dev["name"], dev["uuid"], dev["serial"])
    assert gpu["pci_bus_id"] == dev["pci"]["busId"] and gpu["vbios_version"] == dev["vbios"]
    # memory junction: NVML field 82 answered 35 with its own return code 0; nvidia-smi says 35 C
    assert gpu["memory_temperature_c"] == dev["field_values"]["NVML_FI_DEV_MEMORY_TEMP"]["value"]["uiVal"] == 35
    assert gpu["temperature_c"] == 30 and abs(gpu["temperature_c"] - dev["temperature_gpu"]) <= 2
    # a passively cooled card: NVML "Not Supported", nvidia-smi [N/A] -> null, never 0
    assert dev["fan_speed"]["error"] == "Not Supported" and gpu["fan_speed_pct"] is None
    assert gpu["power_limit_w"] == dev["power_limit_mw"] / 1000.0 == 700.0
    assert gpu["memory_total_mib"] == 143771
    assert gpu["ecc"]["mode_current"] == "enabled" and dev["ecc_mode"] == [1, 1]
    assert gpu["ecc"]["aggregate_corrected"] == dev["ecc_aggregate_corrected"] == 851
    assert gpu["ecc"]["volatile_uncorrected"] == dev["ecc_volatile_uncorrected"] == 0
    # Hopper remaps rows instead of retiring pages: retired pages are not reported at all
    assert dev["retired_pages_pending"]["error"] == "Not Supported"
    assert gpu["retired_pages"] == {"single_bit": None, "double_bit": None, "pending": None}
    assert gpu["remapped_rows"] == {"correctable": dev["remapped_rows"][0], "uncorrectable": 0, "pending": False, "failure": False}
    assert gpu["remapped_rows"]["correctable"] == 1
    assert gpu["pcie"] == {"gen_current": 5, "gen_max": 5, "width_current": 16, "width_max": 16}
    assert gpu["throttle_reasons"] == ["gpu_idle"] and dev["throttle_reasons"] == 1
    assert gpu["persistence_mode"] is True and dev["persistence_mode"] == 1


def test_h200_nvidia_smi_580_reports_tlimit_not_absolute_thresholds(fixture_path):
    """Driver 580 (DTD v13) prints T.Limit-relative thresholds; the absolute ones are NVML-only."""
    text = _load(fixture_path, "nvidia-smi-q-x.xml")
    assert "<gpu_temp_slow_tlimit_threshold>-2 C</gpu_temp_slow_tlimit_threshold>" in text
    gpu = _nvidia_smi.parse_xml(text)[0]["gpus"][0]
    assert gpu["temperature_slowdown_c"] is None and gpu["temperature_shutdown_c"] is None
    dev = json.loads(_load(fixture_path, "system-and-nvml.json"))["nvml"]["devices"][0]
    assert (dev["temp_threshold_slowdown"], dev["temp_threshold_shutdown"]) == (89, 95)


def test_probe_on_the_real_card_agreed_except_drift_and_thresholds(fixture_path):
    for name in ("gpu-probe-idle.json", "gpu-probe-load.json"):
        probe = json.loads(_load(fixture_path, name))
        mismatched = sorted(m["key"] for m in probe["parity"]["mismatches"])
        assert mismatched == ["temperature_shutdown_c", "temperature_slowdown_c"]
        assert probe["nvml"]["status"] == probe["nvidia_smi"]["status"] == "ok"
        assert probe["nvml"]["seconds"] < 0.3 and probe["nvidia_smi"]["seconds"] < 1.0
    load = json.loads(_load(fixture_path, "gpu-probe-load.json"))
    drift = dict((d["key"], (d["nvml"], d["nvidia_smi"])) for d in load["parity"]["drift"])
    assert set(drift) <= {"memory_used_mib", "power_draw_w", "temperature_c", "clocks_sm_mhz"}
    assert 600 < drift["power_draw_w"][0] < 700


def test_h200_vram_probe_readings_match_what_pytorch_held(fixture_path):
    """vram_guard on the real card: NVML's used % agrees with the memory PyTorch allocated, and the
    decisions recorded there are the ones the pure functions make from the same readings."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import vram_guard as _vram
    probe = json.loads(_load(fixture_path, "vram-probe.json"))
    assert probe["failures"] == []
    first = probe["stays"]["first"]
    used_pct = first["readings"][0]["used_pct"]
    assert abs(used_pct - 100.0 * first["used_mib"][0] / first["total_mib"][0]) < 0.1
    assert abs(used_pct - probe["torch"]["allocated_pct"]) < 1.0
    threshold = probe["threshold_pct"]
    assert _vram.decide(first["readings"], probe["stays"]["second"]["readings"], threshold) == probe["stays"]["decision"]
    assert _vram.decide(probe["stays"]["second"]["readings"], probe["falls"]["second"]["readings"], threshold) == \
        probe["falls"]["decision"]
    assert [r["gpu"] for r in probe["falls"]["decision"]["fell"]] == [0]
    assert _vram.exhausted(probe["idle"]["readings"], threshold) == []
