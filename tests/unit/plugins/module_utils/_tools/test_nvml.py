"""NVML path: the REAL nvidia-ml-py against a C libnvidia-ml.so.1 double (scenarios from real captures).

Each gather runs in a fresh Python, because the library is found through LD_LIBRARY_PATH, which
must be set before the process starts.
"""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import nvidia_smi as _nvidia_smi
from testlib import nvml_double

A100 = "a100-sxm4-80gb-driver535-dtdv12-attached4-one-gpu-element.xml"
A10G = "a10g-driver515-dtdv11.xml"
RTX3060 = "rtx3060-driver570-dtdv12.xml"


@pytest.fixture(scope="module")
def library():
    return nvml_double.build()


def _xml(fixture_path, name, count=1):
    with open(fixture_path("nvidia_smi", name)) as handle:
        text = handle.read()
    return nvml_double.xml_with_gpus(text, count) if count != 1 else text


def _gather(library, tmp_path, scenario):
    path = nvml_double.write_scenario(scenario, str(tmp_path / "scenario.txt"))
    return nvml_double.run_nvml_gather(library, path)


def _comparable(facts):
    facts = dict(facts)
    facts.pop("source")
    facts.pop("nvml_version")
    return facts


@pytest.mark.parametrize("name,count", [(A100, 1), (RTX3060, 1), (A10G, 2), (A100, 8),
                                        ("rtx2080-driver516-windows-dtdv11.xml", 1), ("grid-k520-driver352-dtdv7.xml", 1)])
def test_parity_nvml_and_nvidia_smi_on_the_same_capture(library, tmp_path, fixture_path, name, count):
    xml = _xml(fixture_path, name, count)
    result = _gather(library, tmp_path, nvml_double.scenario_from_xml(xml))
    smi, problems = _nvidia_smi.parse_xml(xml)
    assert problems == [] and result["problems"] == []
    assert result["facts"]["source"] == "nvml" and result["facts"]["nvml_version"] == "12.999.1"
    assert _comparable(result["facts"]) == _comparable(smi)
    assert result["facts"]["gpu_count"] == count


def test_one_gpu_a100_values(library, tmp_path, fixture_path):
    facts = _gather(library, tmp_path, nvml_double.scenario_from_xml(_xml(fixture_path, A100)))["facts"]
    assert facts["driver_version"] == "535.54.03" and facts["cuda_driver_version"] == "12.2"
    gpu = facts["gpus"][0]
    assert gpu["name"] == "NVIDIA A100-SXM4-80GB"
    assert gpu["memory_temperature_c"] == 44  # field value NVML_FI_DEV_MEMORY_TEMP, return code SUCCESS
    assert gpu["power_draw_w"] == 67.03 and gpu["power_limit_w"] == 500.0
    assert gpu["memory_total_mib"] == 81920 and gpu["ecc"]["mode_current"] == "enabled"


def test_eight_gpus_each_its_own(library, tmp_path, fixture_path):
    facts = _gather(library, tmp_path, nvml_double.scenario_from_xml(_xml(fixture_path, A100, 8)))["facts"]
    assert facts["gpu_count"] == 8
    assert [g["temperature_c"] for g in facts["gpus"]] == list(range(27, 35))
    assert [g["pci_bus_id"] for g in facts["gpus"]] == ["00000000:%02X:00.0" % (0x10 + i) for i in range(8)]
    assert len({g["uuid"] for g in facts["gpus"]}) == 8


def test_consumer_card_memory_temperature_is_null_not_zero(library, tmp_path, fixture_path):
    scenario = nvml_double.scenario_from_xml(_xml(fixture_path, RTX3060))
    assert scenario["gpus"][0]["field.82"] == nvml_double.NOT_SUPPORTED  # the double still writes value 0
    gpu = _gather(library, tmp_path, scenario)["facts"]["gpus"][0]
    assert gpu["memory_temperature_c"] is None
    assert gpu["fan_speed_pct"] == 0  # a real 0 stays 0


def test_fields_not_supported(library, tmp_path, fixture_path):
    scenario = nvml_double.scenario_from_xml(_xml(fixture_path, A100))
    for key in ("temp", "power_mw", "fan", "serial", "reasons", "remap", "ecc_mode", "field.82", "clock.1", "mem_total"):
        scenario["gpus"][0][key] = "!3"
    result = _gather(library, tmp_path, scenario)
    gpu = result["facts"]["gpus"][0]
    assert result["problems"] == []
    for key in ("temperature_c", "power_draw_w", "fan_speed_pct", "serial", "throttle_reasons", "memory_temperature_c",
                "clocks_sm_mhz", "memory_total_mib", "memory_used_pct"):
        assert gpu[key] is None, key
    assert gpu["remapped_rows"] == dict(correctable=None, uncorrectable=None, pending=None, failure=None)
    assert gpu["ecc"]["mode_current"] is None and gpu["ecc"]["volatile_uncorrected"] is None
    assert gpu["name"] == "NVIDIA A100-SXM4-80GB" and gpu["state"] == "ok"


def test_version_mismatch_at_init(library, tmp_path, fixture_path):
    result = _gather(library, tmp_path, nvml_double.scenario_from_xml(_xml(fixture_path, A100), init=18))
    assert result["mismatch"] and "18" in result["mismatch"] and "mismatch" in result["mismatch"]
    assert result["fall_back"] is False
    assert result["facts"]["gpus"] == []


@pytest.mark.parametrize("how,code,expect", [("handle", 15, "GPU is lost"), ("error", 999, "Unknown Error"),
                                             ("error", 15, "GPU is lost")])
def test_one_gpu_lost_others_report(library, tmp_path, fixture_path, how, code, expect):
    scenario = nvml_double.scenario_from_xml(_xml(fixture_path, A10G, 2))
    scenario["gpus"][1][how] = code
    facts = _gather(library, tmp_path, scenario)["facts"]
    assert facts["gpu_count"] == 2
    good, lost = facts["gpus"]
    assert good["state"] == "ok" and good["name"] == "NVIDIA A10G" and good["temperature_c"] == 17
    assert lost["state"] == "lost" and lost["index"] == 1 and expect in lost["error"]
    assert lost["temperature_c"] is None


def test_driver_not_loaded_is_absent(library, tmp_path, fixture_path):
    result = _gather(library, tmp_path, nvml_double.scenario_from_xml(_xml(fixture_path, A100), init=9))
    assert result["facts"]["present"] is False and "driver not loaded" in result["facts"]["reason"]
    assert result["fall_back"] is True


def test_no_library_at_all_falls_back(tmp_path):
    nvml_double.skip_with_real_driver()
    result = nvml_double.run_nvml_gather(str(tmp_path), str(tmp_path / "none"))  # empty dir: no libnvidia-ml
    assert result["facts"]["present"] is False and "libnvidia-ml.so.1 not found" in result["facts"]["reason"]
    assert result["fall_back"] is True
