"""The nvidia-smi parser on real output from an H200, checked against NVML read on the same card,
and the VRAM guard's decisions on the raw NVML readings taken on that card.

Fixtures: tests/unit/fixtures/device_h200 (captured by this project on a lent GPU machine). Only raw
readings are used as input; what the collection itself recorded there (gpu-probe-*.json, the
decisions in vram-probe.json) is documentation of that run (PROVENANCE.md), not an expected value.
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


def _reading(used_mib, total_mib):
    """A vram_guard reading computed here from NVML's raw MiB: used %, one decimal."""
    return {"gpu": 0, "name": "NVIDIA H200", "vendor": "nvidia", "used_pct": round(100.0 * used_mib / total_mib, 1)}


def test_h200_vram_probe_decisions_from_the_raw_readings(fixture_path):
    """vram_guard on the real card: NVML's used MiB agree with the memory PyTorch allocated, and the
    decisions follow from those raw numbers as computed here by hand."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import vram_guard as _vram
    probe = json.loads(_load(fixture_path, "vram-probe.json"))
    assert probe["failures"] == []
    threshold = probe["threshold_pct"]
    assert threshold == 87.7
    # Raw NVML readings of the card (MiB): 128986 of 143771 while PyTorch held its tensors (89.716 %),
    # the same 3 s later; 618 after it freed them (0.430 %); 0 when idle.
    assert (probe["stays"]["first"]["used_mib"], probe["stays"]["first"]["total_mib"]) == ([128986], [143771])
    assert probe["stays"]["second"]["used_mib"] == [128986] and probe["falls"]["second"]["used_mib"] == [618]
    assert probe["idle"]["used_mib"] == [0]
    # PyTorch's own count of what it allocated: 134 601 729 638 of 150 109 880 320 bytes, 89.67 %;
    # NVML's 89.72 % also counts the CUDA context, so it is a little above.
    torch_pct = 100.0 * probe["torch"]["allocated_bytes"] / probe["torch"]["total_bytes"]
    assert 0 < 100.0 * 128986 / 143771 - torch_pct < 0.1
    held, again, freed, idle = _reading(128986, 143771), _reading(128986, 143771), _reading(618, 143771), _reading(0, 143771)
    assert (held["used_pct"], freed["used_pct"], idle["used_pct"]) == (89.7, 0.4, 0.0)
    # 89.7 >= 87.7 at both looks: stayed; then 0.4: fell; idle: nothing exhausted
    assert _vram.decide([held], [again], threshold) == {"stayed": [dict(held, first_pct=89.7, second_pct=89.7)], "fell": []}
    assert _vram.decide([again], [freed], threshold) == {"stayed": [], "fell": [dict(held, first_pct=89.7, second_pct=0.4, used_pct=0.4)]}
    assert _vram.exhausted([idle], threshold) == []


def test_h200_cadence_facts_judge_the_same_with_todays_checks(fixture_path):
    """cadence-facts.json: health_facts as ansible-playbook ran it on the lent H200 (2026-12-04,
    tests/device/run_cadence_probe.sh). The checks it gave there must be what today's checks give for the
    same readings, and an idle, cool card with ECC on is judged ok on every reading it has."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import checks as gpu_checks
    fact = json.loads(_load(fixture_path, "cadence-facts.json"))["gpufleet_gpu"]
    gpu = fact["nvidia"]["gpus"][0]
    assert (gpu["name"], fact["nvidia"]["driver_version"], fact["nvidia"]["source"]) == ("NVIDIA H200", "580.159.04", "nvml")
    assert gpu["temperature_c"] == 38 and gpu["memory_temperature_c"] == 39 and gpu["memory_used_mib"] == 0
    again = gpu_checks.nvidia_gpu_checks(gpu, fact["thresholds"])
    assert [(c["check"], c["status"], c["value"]) for c in again] == \
        [(c["check"], c["status"], c["value"]) for c in fact["checks"]]
    # no fan check on a passively cooled card (fan null), no retired-pages check on Hopper (not reported)
    expected = ["gpu_temperature", "memory_temperature", "vram_used", "ecc_uncorrectable", "remapped_rows", "throttle",
                "power_brake"]
    assert [c["check"] for c in again] == expected
    assert {c["status"] for c in again} == {"ok"}
    # the same card at 90 C core and 96 C junction would not be ok: the checks can fail on these readings
    hot = dict(gpu, temperature_c=90, memory_temperature_c=96)
    hot_status = {c["check"]: c["status"] for c in gpu_checks.nvidia_gpu_checks(hot, fact["thresholds"])}
    assert hot_status["gpu_temperature"] == "crit" and hot_status["memory_temperature"] == "warn"


def test_h200_without_smartmontools_is_could_not_look_not_a_warning(fixture_path):
    """The lent machine had no smartmontools: the module there said `warn` for drives it never read (fixed
    since: `unknown`, the reason naming what to install). Today's evaluation of that very fact."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import checks as smart_checks
    fact = json.loads(_load(fixture_path, "cadence-facts.json"))["gpufleet_smart"]
    assert fact["present"] is False and fact["devices"] == []
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("smartctl_present", "warn")]  # as seen there
    again = smart_checks.evaluate(fact, {"thresholds": fact["thresholds"], "previous": None})
    assert [(c["check"], c["status"]) for c in again] == [("smartctl_present", "unknown")]
    assert again[0]["message"].startswith("could not look: smartctl not found") and "smartmontools" in again[0]["message"]
