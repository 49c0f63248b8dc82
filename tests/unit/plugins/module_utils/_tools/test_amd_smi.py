"""rocm-smi JSON parsing over every real capture; amd-smi on a hand-written document (see AMD_SMI_METRIC)."""

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


# No real `amd-smi metric --json` capture is redistributed here: the one known to this project
# (../shared/fixtures/rocm_smi/amd-smi-metric-json-1gpu.json) carries a licence with a NON-AI clause,
# so it cannot ship in this collection (docs/testing.md). The parser is tested on the hand-written
# document below instead: its shape follows AMD's amd-smi CLI JSON (one object per GPU, readings as
# {"value", "unit"} objects, "N/A" strings where the driver has no reading); its numbers are chosen
# here, so every expected value in the tests is read off this text, not from the parser.
AMD_SMI_METRIC = """[
  {
    "gpu": 0,
    "usage": {"gfx_activity": {"value": 97, "unit": "%"}, "umc_activity": "N/A"},
    "power": {"socket_power": {"value": 241, "unit": "W"}, "gfx_voltage": "N/A", "power_management": "ENABLED"},
    "temperature": {"edge": {"value": 61, "unit": "C"}, "hotspot": {"value": 88, "unit": "C"},
                    "mem": {"value": 94, "unit": "C"}},
    "fan": {"speed": {"value": 112, "unit": "%"}, "usage": {"value": 44.0, "unit": "%"}, "rpm": "N/A"},
    "mem_usage": {"total_vram": {"value": 24560, "unit": "MB"}, "used_vram": {"value": 22104, "unit": "MB"},
                  "free_vram": {"value": 2456, "unit": "MB"}},
    "ecc": {"total_correctable_count": 3, "total_uncorrectable_count": 0, "total_deferred_count": "N/A"}
  },
  {
    "gpu": 1,
    "power": {"socket_power": "N/A"},
    "temperature": {"edge": "N/A", "hotspot": {"value": 40, "unit": "C"}, "mem": "N/A"},
    "fan": {"speed": "N/A", "max": "N/A", "rpm": "N/A", "usage": "N/A"},
    "xgmi_err": "N/A",
    "mem_usage": {"total_vram": {"value": 24560, "unit": "MB"}, "used_vram": {"value": 0, "unit": "MB"}},
    "ecc": {"total_correctable_count": "N/A", "total_uncorrectable_count": "N/A"}
  }
]
"""


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


def test_amd_smi_metric_document():
    facts, problems = _amd_smi.parse_amd_smi(AMD_SMI_METRIC)
    assert problems == []
    assert facts["present"] is True and facts["source"] == "amd_smi" and len(facts["gpus"]) == 2
    first, second = facts["gpus"]
    assert first["index"] == 0 and second["index"] == 1
    assert (first["temperature_edge_c"], first["temperature_junction_c"], first["temperature_memory_c"]) == (61.0, 88.0, 94.0)
    assert first["power_w"] == 241.0
    assert first["vram_total_mib"] == 24560 and first["vram_used_mib"] == 22104
    assert first["vram_used_pct"] == 90.0  # 22104 / 24560 = 0.9000 exactly
    assert first["fan_speed_pct"] == 44.0  # "usage" is the percentage; "speed" is amd-smi's raw 0-255 value
    assert first["ecc_correctable"] == 3 and first["ecc_uncorrectable"] == 0
    assert first["name"] is None  # metric output does not name the card (static does)
    # "N/A" is never a number: null readings, not zeros
    assert (second["temperature_edge_c"], second["temperature_junction_c"], second["temperature_memory_c"]) == (None, 40.0, None)
    assert second["power_w"] is None and second["fan_speed_pct"] is None
    assert second["ecc_correctable"] is None and second["ecc_uncorrectable"] is None
    assert second["vram_used_mib"] == 0 and second["vram_used_pct"] == 0.0


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


def test_gather_amd_smi_standin_metric_only(tmp_path):
    document = tmp_path / "metric.json"
    document.write_text(AMD_SMI_METRIC)
    tool = _tool(tmp_path, "amd-smi", 'case "$1" in metric) cat "%s";; *) echo "not available" >&2; exit 1;; esac' % document)
    facts, problems = _amd_smi.gather(_runner, amd_smi_path=tool)
    assert problems == []
    assert facts["source"] == "amd_smi" and facts["gpus"][0]["temperature_junction_c"] == 88.0
    assert facts["rocm_version"] is None and facts["driver_version"] is None  # static and version said "not available"


def test_gather_amd_smi_garbled_output_is_a_problem(tmp_path):
    tool = _tool(tmp_path, "amd-smi", 'echo "[{\\"gpu\\": 0, \\"temperature\\": {"')
    facts, problems = _amd_smi.gather(_runner, amd_smi_path=tool)
    assert facts["present"] is False
    assert problems and problems[0].startswith("amd-smi metric --json: could not read the JSON")


def test_gather_without_tools(tmp_path):
    facts, problems = _amd_smi.gather(_runner, amd_smi_path=str(tmp_path / "no-amd-smi"), rocm_smi_path=str(tmp_path / "no-rocm-smi"))
    assert facts["present"] is False and facts["reason"] == "neither amd-smi nor rocm-smi found" and problems == []
