"""``gpu_present``: what is on the PCI bus against what the GPU tools said (issue 18).

Gathered for real in this process: the real nvidia-ml-py finds no libnvidia-ml.so.1 here, nvidia-smi
is a stand-in replaying a capture (tests/unit/fixtures/nvidia_smi), and the PCI bus is a sysfs tree
written under a temporary ``root`` from real captures (tests/testlib/pci_tree.py).
"""

import os
import subprocess

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA
from testlib import hardware, nvml_double, pci_tree

FAILED_TO_COMMUNICATE = "nvidia-smi-wsl2-failed-to-communicate.txt"
DKMS_FIX = "dkms autoinstall"


@pytest.fixture(autouse=True)
def _no_real_driver():
    if os.path.exists("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"):
        hardware.skip_without("a machine without an NVIDIA driver", "NVML would answer instead of the paths under test")


def _runner(args, check_rc=False, environ_update=None, data=None, handle_exceptions=False):
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=dict(os.environ, **(environ_update or {})))
    return proc.returncode, proc.stdout, proc.stderr


def _read(fixture_path, *parts):
    with open(fixture_path(*parts)) as handle:
        return handle.read()


def _vm(fixture_path):
    """The PCI devices of a real VM without a GPU."""
    return pci_tree.from_listing(_read(fixture_path, "sysfs_pci", "debian12-vm-no-gpu.txt"))


def _h200(fixture_path, driver=None):
    return pci_tree.from_nvidia_smi_xml(_read(fixture_path, "device_h200", "nvidia-smi-q-x.xml"), driver=driver)


def _gather(tmp_path, devices, nvidia_smi=None, **options):
    root = pci_tree.write(tmp_path / "root", devices) if devices is not None else str(tmp_path / "no-sys")
    options.setdefault("nvidia_smi_path", nvidia_smi or str(tmp_path / "no-nvidia-smi"))
    options.update(amd_smi_path=str(tmp_path / "no-amd-smi"), rocm_smi_path=str(tmp_path / "no-rocm-smi"), root=root)
    fact, _warnings = AREA.gather(_runner, AREA.validate(options))
    return fact, [c for c in fact["checks"] if c["check"] == "gpu_present"]


def _failed_to_communicate(tmp_path, fixture_path):
    return nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), _read(fixture_path, "nvidia_smi", FAILED_TO_COMMUNICATE), rc=9)


def test_nvidia_smi_that_cannot_talk_to_the_driver_with_a_gpu_on_the_bus_is_crit(tmp_path, fixture_path):
    tool = _failed_to_communicate(tmp_path, fixture_path)
    fact, [check] = _gather(tmp_path, _vm(fixture_path) + _h200(fixture_path), nvidia_smi=tool)
    assert fact["status"] == "crit" and check["status"] == "crit" and check["subject"] == {}
    assert check["message"].startswith("GPU present, driver not loaded: NVIDIA GPU 0000:00:06.0 (no driver bound); "
                                       "%s -q -x: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA "
                                       "driver." % tool)
    assert DKMS_FIX in check["message"] and "linux-headers-$(uname -r)" in check["message"]
    assert check["value"] == ["0000:00:06.0"]
    assert fact["pci"]["gpus"] == [{"address": "0000:00:06.0", "vendor": "nvidia", "class": "0x030200", "driver": None,
                                    "state": "no_driver"}]
    assert fact["nvidia"]["present"] is False  # the facts say what the tools said; the verdict is the check's


def test_nvidia_smi_that_cannot_talk_to_the_driver_without_a_gpu_on_the_bus_is_unknown(tmp_path, fixture_path):
    tool = _failed_to_communicate(tmp_path, fixture_path)
    fact, [check] = _gather(tmp_path, _vm(fixture_path), nvidia_smi=tool)
    assert fact["status"] == "unknown" and check["status"] == "unknown"
    assert check["message"].startswith("could not look: %s -q -x: NVIDIA-SMI has failed because it couldn't communicate "
                                       "with the NVIDIA driver." % tool)
    assert "no NVIDIA/AMD GPU is on the PCI bus (%s/sys/bus/pci/devices)" % (tmp_path / "root") in check["message"]
    assert "fell off the bus" in check["message"]


def test_no_tooling_and_a_gpu_on_the_bus_without_a_driver_is_crit_not_no_gpu(tmp_path, fixture_path):
    fact, [check] = _gather(tmp_path, _vm(fixture_path) + _h200(fixture_path, driver="nouveau"))
    assert check["status"] == "crit"
    assert check["message"].startswith("GPU present, driver not loaded: NVIDIA GPU 0000:00:06.0 (bound to nouveau); "
                                       "NVML library libnvidia-ml.so.1 not found")
    summary = AREA.present(fact)
    assert summary[0].startswith("gpu: NVIDIA GPU 0000:00:06.0 (bound to nouveau) on the PCI bus, none read (")


def test_five_amd_gpus_whose_driver_probe_failed_are_crit(tmp_path, fixture_path):
    devices = pci_tree.from_lspci_nn(_read(fixture_path, "sysfs_pci", "lspci-nn-amd-mi100-x5-amdgpu-probe-failed.txt"))
    _fact, [check] = _gather(tmp_path, devices, source="nvidia_smi")
    assert check["status"] == "crit" and check["value"] == [
        "0000:03:00.0", "0000:43:00.0", "0000:a3:00.0", "0000:c3:00.0", "0000:e3:00.0"]
    assert "AMD GPU 0000:e3:00.0 (no driver bound)" in check["message"]
    assert "neither amd-smi nor rocm-smi found" in check["message"] and "modprobe amdgpu" in check["message"]


def test_a_gpu_with_its_driver_loaded_but_no_tool_to_read_it_is_unknown(tmp_path, fixture_path):
    _fact, [check] = _gather(tmp_path, _vm(fixture_path) + _h200(fixture_path, driver="nvidia"))
    assert check["status"] == "unknown"
    assert check["message"].startswith("could not look: NVIDIA GPU 0000:00:06.0 (nvidia driver loaded) on the PCI bus, "
                                       "but no tool could read it (")
    assert "nvidia-ml-py" in check["message"]


def test_no_gpu_on_the_bus_and_no_tooling_is_ok_having_looked(tmp_path, fixture_path):
    fact, [check] = _gather(tmp_path, _vm(fixture_path))
    assert fact["status"] == "ok" and check["status"] == "ok" and check["value"] is False
    assert check["message"].startswith("no NVIDIA/AMD GPU on the PCI bus and no GPU tooling found (")
    assert check["message"].endswith("): normal on a CPU-only host")


def test_a_gpu_handed_to_virtual_machines_is_not_this_hosts(tmp_path, fixture_path):
    _fact, [check] = _gather(tmp_path, _vm(fixture_path) + _h200(fixture_path, driver="vfio-pci"))
    assert check["status"] == "ok"
    assert "for this host (NVIDIA GPU 0000:00:06.0 (bound to vfio-pci))" in check["message"]


def test_a_bus_that_cannot_be_read_with_no_tooling_is_unknown(tmp_path):
    fact, [check] = _gather(tmp_path, None)
    assert fact["pci"]["error"].startswith("could not read ")
    assert check["status"] == "unknown" and check["message"].startswith("could not look: could not read ")
    assert "and no GPU tool reported a GPU" in check["message"] and "source: none" in check["message"]


def test_a_second_gpu_the_driver_does_not_list_is_crit_while_the_first_reports(tmp_path, fixture_path):
    xml = _read(fixture_path, "nvidia_smi", "rtx3060-driver570-dtdv12.xml")
    tool = nvml_double.nvidia_smi_standin(str(tmp_path / "bin"), xml)
    devices = pci_tree.from_nvidia_smi_xml(xml, driver="nvidia") + _h200(fixture_path)
    fact, [check] = _gather(tmp_path, devices, nvidia_smi=tool, source="nvidia_smi")
    assert fact["nvidia"]["gpu_count"] == 1 and check["status"] == "crit" and check["value"] == ["0000:00:06.0"]
    assert check["message"].startswith("GPU present, driver not loaded: NVIDIA GPU 0000:00:06.0 (no driver bound): ")
    # every GPU on the bus reported: no gpu_present check at all, as before
    fact, checks = _gather(tmp_path / "again", pci_tree.from_nvidia_smi_xml(xml, driver="nvidia"), nvidia_smi=tool,
                           source="nvidia_smi")
    assert checks == [] and fact["status"] == "ok"


def test_source_none_looks_at_nothing(tmp_path, fixture_path):
    fact, [check] = _gather(tmp_path, _h200(fixture_path), source="none")
    assert check["status"] == "ok" and "pci" not in fact
    assert check["message"] == ("no NVIDIA/AMD GPU tooling found (disabled (source=none); disabled (source=none)): "
                                "normal on a CPU-only host")
