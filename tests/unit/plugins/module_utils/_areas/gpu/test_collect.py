"""The gpu area gathered: source selection, fall-back from NVML to nvidia-smi, checks from faults.

Runs in this process with the real nvidia-ml-py and no libnvidia-ml.so.1 (this machine has no
driver), so ``auto`` really falls back to the nvidia-smi stand-in.
"""

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from testlib import nvml_double, stuck_tool


@pytest.fixture(autouse=True)
def _no_real_driver():
    nvml_double.skip_with_real_driver()


def _gather(run_command, **options):
    return AREA.gather(run_command, AREA.validate(options))


def _runner(args, check_rc=False, environ_update=None, data=None, handle_exceptions=False):
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=dict(os.environ, **(environ_update or {})))
    return proc.returncode, proc.stdout, proc.stderr


def _no_amd(tmp_path):
    return dict(amd_smi_path=str(tmp_path / "no-amd-smi"), rocm_smi_path=str(tmp_path / "no-rocm-smi"))


def test_auto_falls_back_to_nvidia_smi(tmp_path, fixture_path):
    with open(fixture_path("nvidia_smi", "a10g-driver515-dtdv11.xml")) as handle:
        tool = nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), handle.read())
    fact, warnings = _gather(_runner, source="auto", nvidia_smi_path=tool, **_no_amd(tmp_path))
    assert warnings == []
    assert fact["nvidia"]["source"] == "nvidia_smi" and fact["nvidia"]["gpus"][0]["name"] == "NVIDIA A10G"
    assert fact["nvidia"]["gpus"][0]["processes"] is None  # include_processes defaults to false
    assert fact["status"] == "ok" and fact["schema_version"] == 1


def test_source_nvml_does_not_fall_back(tmp_path, fixture_path):
    with open(fixture_path("nvidia_smi", "a10g-driver515-dtdv11.xml")) as handle:
        tool = nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), handle.read())
    fact, _warnings = _gather(_runner, source="nvml", nvidia_smi_path=tool, **_no_amd(tmp_path))
    assert fact["nvidia"]["present"] is False and "libnvidia-ml.so.1 not found" in fact["nvidia"]["reason"]
    assert [c["check"] for c in fact["checks"]] == ["gpu_present"] and fact["status"] == "ok"


def test_source_none_gathers_nothing(tmp_path):
    fact, warnings = _gather(_runner, source="none")
    assert fact["nvidia"]["reason"] == "disabled (source=none)" and fact["amd"]["present"] is False
    assert warnings == [] and fact["status"] == "ok"


def test_nvidia_smi_mismatch_is_crit(tmp_path):
    tool = nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), "Failed to initialize NVML: Driver/library version mismatch\n", rc=18)
    fact, _warnings = _gather(_runner, source="nvidia_smi", nvidia_smi_path=tool, **_no_amd(tmp_path))
    assert fact["status"] == "crit"
    assert [c["check"] for c in fact["checks"] if c["status"] == "crit"] == ["driver_library_mismatch"]


def test_garbled_output_warns_and_names_the_command(tmp_path):
    tool = nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), "<nvidia_smi_log><gpu id='1'><product_name>X</product_name></gpu><gpu>&&&")
    fact, warnings = _gather(_runner, source="nvidia_smi", nvidia_smi_path=tool, **_no_amd(tmp_path))
    assert fact["nvidia"]["gpu_count"] == 1 and fact["nvidia"]["gpus"][0]["name"] == "X"
    assert len(warnings) == 1 and warnings[0].startswith("%s -q -x: the XML is truncated or garbled" % tool)
    check = [c for c in fact["checks"] if c["check"] == "tool_output"][0]
    assert check["status"] == "warn" and tool in check["message"] and fact["status"] == "warn"


def test_thresholds_reach_the_checks(tmp_path, fixture_path):
    with open(fixture_path("nvidia_smi", "rtx3060-driver570-dtdv12.xml")) as handle:
        tool = nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), handle.read())
    fact, _warnings = _gather(_runner, source="nvidia_smi", nvidia_smi_path=tool,
                              thresholds={"temperature_warn_c": 40, "temperature_crit_c": 50}, **_no_amd(tmp_path))
    temp = [c for c in fact["checks"] if c["check"] == "gpu_temperature"][0]
    assert (temp["status"], temp["value"], temp["threshold"]) == ("warn", 42, 40)
    assert fact["thresholds"]["temperature_warn_c"] == 40


@pytest.mark.parametrize("timeout", [0, -5])
def test_a_timeout_below_one_second_is_refused_naming_the_option(timeout):
    with pytest.raises(AreaError, match=r"^gpu: timeout must be at least 1 second, got %s$" % timeout):
        AREA.validate({"timeout": timeout})
    assert AREA.validate({"timeout": 1})["timeout"] == 1


def test_a_hung_nvidia_smi_that_ignores_sigterm_is_a_tool_output_warning_that_says_timed_out(tmp_path):
    tool = stuck_tool.ignoring_sigterm(tmp_path)
    fact, warnings = _gather(_runner, source="nvidia_smi", nvidia_smi_path=tool, timeout=1, **_no_amd(tmp_path))
    said = "%s timed out after 1 s and was killed (it ignored SIGTERM)" % tool
    assert warnings == ["%s -q -x: %s" % (tool, said)]
    [check] = [c for c in fact["checks"] if c["check"] == "tool_output"]
    assert check["status"] == "warn" and said in check["message"] and "exited -9" not in check["message"]


_READERS_IMPORTED = r"""
import json, os, subprocess, sys
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA

def run(args, check_rc=False, environ_update=None, data=None, handle_exceptions=False):
    proc = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, **(environ_update or {})))
    return proc.returncode, proc.stdout, proc.stderr

options = json.loads(sys.argv[1])
fact, _warnings = AREA.gather(run, AREA.validate(options))
prefix = "ansible_collections.gpufleet.maintenance.plugins.module_utils._tools."
print(json.dumps({"readers": sorted(m[len(prefix):] for m in sys.modules if m.startswith(prefix)),
                  "nvidia": fact["nvidia"]["reason"], "amd": fact["amd"]["reason"]}))
"""


def _readers_imported(tmp_path, **options):
    proc = subprocess.run([sys.executable, "-c", _READERS_IMPORTED, json.dumps(options)], capture_output=True, text=True, check=False,
                          env=dict(os.environ, PATH=str(tmp_path / "empty"), PYTHONPATH=os.pathsep.join(sys.path)))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_host_imports_the_reader_of_a_tool_only_where_the_tool_is(tmp_path):
    # Every daily gathers this area on every host, which compiles each module the run imports (docs/performance.md,
    # Fleet scale): where neither nvidia-smi nor amd-smi/rocm-smi is installed their readers are not imported...
    seen = _readers_imported(tmp_path, source="auto", nvidia_smi_path=str(tmp_path / "no-nvidia-smi"), **_no_amd(tmp_path))
    assert "nvidia_smi" not in seen["readers"] and "amd_smi" not in seen["readers"], seen
    assert "nvidia-smi not found" in seen["nvidia"] and seen["amd"] == "neither amd-smi nor rocm-smi found"
    # ... and where they are, each is (the stand-ins answer with no GPU: what is reported comes from their readers).
    tools = tmp_path / "bin"
    tools.mkdir()
    for name, text in (("nvidia-smi", "No devices were found"), ("amd-smi", "[]")):
        (tools / name).write_text("#!/bin/sh\necho '%s'\n" % text)
        (tools / name).chmod(0o755)
    seen = _readers_imported(tmp_path, source="auto", nvidia_smi_path=str(tools / "nvidia-smi"),
                             amd_smi_path=str(tools / "amd-smi"), rocm_smi_path=str(tmp_path / "no-rocm-smi"))
    assert "nvidia_smi" in seen["readers"] and "amd_smi" in seen["readers"], seen
    assert seen["amd"] == "amd-smi reports no AMD GPU", seen
