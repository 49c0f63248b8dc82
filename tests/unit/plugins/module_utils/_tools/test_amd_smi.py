"""amd-smi / rocm-smi JSON parsing over every real capture."""

import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import amd_smi as _amd_smi

# file: (gpu count, driver, first GPU: name, edge, junction, memory, power, cap, vram total, used, fan)
ROCM_SMI = {
    "mi100-rocm5.7.1.json": (6, "6.2.4", "Arcturus GL-XL [Instinct MI100]", 31.0, 34.0, 30.0, 39.0, 290.0, 32752, 6, None),
    "rx6700xt-rocm4.3.0.json": (1, "6.3.6", "67XA6S", 45.0, 47.0, 46.0, 6.0, 211.0, 12272, 1548, None),
    "rx6700xt-rocm5.7.1.json": (1, "6.3.6", "Navi 22 [Radeon RX 6700/6700 XT / 6800M]", 45.0, 47.0, 46.0, 6.0, 211.0, 12272, 1492, None),
    "rx6700xt-rocm6.0.2.json": (1, "6.3.6", "Navi 22 [Radeon RX 6700/6700 XT / 6800M]", 45.0, 47.0, 46.0, None, 211.0, 12272, 1500, None),
    "vega20-wks-gl-xe-radeon-pro-vii.json": (1, "5.9.17", "Radeon Instinct MI50 32GB", 36.0, 38.0, 35.0, 26.0, 225.0, 32752, 10, 0.0),
}


# Not redistributed (its licence forbids AI-training datasets): read from ../shared beside the checkout.
SHARED_AMD_SMI = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "..", "shared", "fixtures", "rocm_smi",
                              "amd-smi-metric-json-1gpu.json")


def _amd_smi_capture():
    path = os.path.abspath(SHARED_AMD_SMI)
    if not os.path.exists(path):
        pytest.skip("needs %s (the amd-smi capture is not redistributed here: its licence has a NON-AI clause)" % path)
    return path


def _read(fixture_path, name):
    with open(fixture_path("rocm_smi", name)) as handle:
        return handle.read()


@pytest.mark.parametrize("name", sorted(ROCM_SMI))
def test_rocm_smi_captures(fixture_path, name):
    count, driver, gpu_name, edge, junction, memory, power, cap, total, used, fan = ROCM_SMI[name]
    facts, problems = _amd_smi.parse_rocm_smi(_read(fixture_path, name))
    assert problems == []
    assert facts["present"] is True and facts["source"] == "rocm_smi"
    assert facts["driver_version"] == driver
    assert len(facts["gpus"]) == count
    gpu = facts["gpus"][0]
    assert gpu["index"] == 0
    assert gpu["name"] == gpu_name
    assert (gpu["temperature_edge_c"], gpu["temperature_junction_c"], gpu["temperature_memory_c"]) == (edge, junction, memory)
    assert gpu["power_w"] == power
    assert gpu["power_cap_w"] == cap
    assert gpu["vram_total_mib"] == total
    assert gpu["vram_used_mib"] == used
    assert gpu["fan_speed_pct"] == fan
    assert "N/A" not in repr(gpu)


def test_rocm_602_secondary_die_power_is_null(fixture_path):
    gpu = _amd_smi.parse_rocm_smi(_read(fixture_path, "rx6700xt-rocm6.0.2.json"))[0]["gpus"][0]
    assert gpu["power_w"] is None  # "N/A (Secondary die)"
    assert gpu["vbios_version"] == "113-67XA6SSB1-D01"
    assert gpu["vram_used_pct"] == 12.2


def test_mi100_six_cards_in_order(fixture_path):
    facts = _amd_smi.parse_rocm_smi(_read(fixture_path, "mi100-rocm5.7.1.json"))[0]
    assert [g["index"] for g in facts["gpus"]] == [0, 1, 2, 3, 4, 5]
    assert facts["gpus"][0]["pci_bus_id"] == "0000:1E:00.0"


def test_amd_smi_metric_capture(fixture_path):
    with open(_amd_smi_capture()) as handle:
        facts, problems = _amd_smi.parse_amd_smi(handle.read())
    assert problems == []
    assert facts["source"] == "amd_smi" and len(facts["gpus"]) == 1
    gpu = facts["gpus"][0]
    assert (gpu["temperature_edge_c"], gpu["temperature_junction_c"], gpu["temperature_memory_c"]) == (43.0, 49.0, 56.0)
    assert gpu["power_w"] == 34.0
    assert gpu["vram_total_mib"] == 46064 and gpu["vram_used_mib"] == 1758
    assert gpu["vram_used_pct"] == 3.8
    assert gpu["fan_speed_pct"] == 20.0
    assert gpu["ecc_correctable"] == 0 and gpu["ecc_uncorrectable"] == 0
    assert gpu["name"] is None  # metric output does not name the card (static does)


def test_rocm_smi_without_driver_is_absent():
    facts, problems = _amd_smi.parse_rocm_smi('{"system": {"Driver version": "N/A"}}')
    assert facts["present"] is False and "no AMD GPU" in facts["reason"] and problems == []


@pytest.mark.parametrize("text", ["", "ERROR: GPU[0] : not supported\n{", "[1, 2"])
def test_garbled_json_is_a_problem(text):
    facts, problems = _amd_smi.parse_rocm_smi(text)
    assert facts["present"] is False and "could not read the JSON" in problems[0]
    facts, problems = _amd_smi.parse_amd_smi(text)
    assert facts["present"] is False and "amd-smi metric --json: could not read the JSON" in problems[0]


def _runner(args, check_rc=False, environ_update=None, data=None, handle_exceptions=False):
    import os
    import subprocess
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=dict(os.environ, **(environ_update or {})))
    return proc.returncode, proc.stdout, proc.stderr


def _tool(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n# %s stand-in for tests: replays a saved capture.\n%s\n" % (name, body))
    path.chmod(0o755)
    return str(path)


def test_gather_rocm_smi_standin_replays_capture(tmp_path, fixture_path):
    capture = fixture_path("rocm_smi", "mi100-rocm5.7.1.json")
    tool = _tool(tmp_path, "rocm-smi", 'case "$*" in *--json*) cat "%s";; *) exit 2;; esac' % capture)
    facts, problems = _amd_smi.gather(_runner, amd_smi_path=str(tmp_path / "absent-amd-smi"), rocm_smi_path=tool)
    assert problems == []
    assert facts["source"] == "rocm_smi" and len(facts["gpus"]) == 6 and facts["driver_version"] == "6.2.4"


def test_gather_amd_smi_standin_metric_only(tmp_path, fixture_path):
    capture = _amd_smi_capture()
    tool = _tool(tmp_path, "amd-smi", 'case "$1" in metric) cat "%s";; *) echo "not available" >&2; exit 1;; esac' % capture)
    facts, problems = _amd_smi.gather(_runner, amd_smi_path=tool)
    assert problems == []
    assert facts["source"] == "amd_smi" and facts["gpus"][0]["temperature_junction_c"] == 49.0


def test_gather_amd_smi_garbled_output_is_a_problem(tmp_path):
    tool = _tool(tmp_path, "amd-smi", 'echo "[{\\"gpu\\": 0, \\"temperature\\": {"')
    facts, problems = _amd_smi.gather(_runner, amd_smi_path=tool)
    assert facts["present"] is False
    assert problems and problems[0].startswith("amd-smi metric --json: could not read the JSON")


def test_gather_without_tools(tmp_path):
    facts, problems = _amd_smi.gather(_runner, amd_smi_path=str(tmp_path / "no-amd-smi"), rocm_smi_path=str(tmp_path / "no-rocm-smi"))
    assert facts["present"] is False and facts["reason"] == "neither amd-smi nor rocm-smi found" and problems == []
