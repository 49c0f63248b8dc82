"""GPUs on the PCI bus: sysfs vendor/class text of real devices → GPU entries; reading a built sysfs tree."""

import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu.collect import read_pci
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import nvidia_smi
from testlib import pci_tree


def _read(fixture_path, *parts):
    with open(fixture_path(*parts)) as handle:
        return handle.read()


def test_the_h200_of_a_real_capture_is_an_nvidia_3d_controller(fixture_path):
    [dev] = pci_tree.from_nvidia_smi_xml(_read(fixture_path, "device_h200", "nvidia-smi-q-x.xml"))
    assert (dev["address"], dev["vendor"], dev["device"], dev["class"]) == ("0000:00:06.0", "0x10de", "0x2335", "0x030200")
    gpu = parse.pci_gpu(dev["address"], dev["vendor"] + "\n", dev["class"] + "\n", None)
    assert gpu == {"address": "0000:00:06.0", "vendor": "nvidia", "class": "0x030200", "driver": None, "state": "no_driver"}
    assert parse.pci_gpu(dev["address"], dev["vendor"], dev["class"], "nvidia")["state"] == "driver"
    assert parse.pci_gpu(dev["address"], dev["vendor"], dev["class"], "nouveau")["state"] == "no_driver"
    assert parse.pci_gpu(dev["address"], dev["vendor"], dev["class"], "vfio-pci")["state"] == "passthrough"


def test_a_geforce_is_a_vga_controller(fixture_path):
    [dev] = pci_tree.from_nvidia_smi_xml(_read(fixture_path, "nvidia_smi", "rtx3060-driver570-dtdv12.xml"))
    assert (dev["address"], dev["class"]) == ("0000:2d:00.0", "0x030000")
    assert parse.pci_gpu(dev["address"], dev["vendor"], dev["class"])["vendor"] == "nvidia"


def test_amd_mi100s_are_gpus_and_amd_bridges_are_not(fixture_path):
    devices = pci_tree.from_lspci_nn(_read(fixture_path, "sysfs_pci", "lspci-nn-amd-mi100-x5-amdgpu-probe-failed.txt"))
    assert len(devices) == 15
    gpus = [parse.pci_gpu(d["address"], d["vendor"], d["class"], d["driver"]) for d in devices]
    found = [g for g in gpus if g]
    assert [g["address"] for g in found] == ["0000:03:00.0", "0000:43:00.0", "0000:a3:00.0", "0000:c3:00.0", "0000:e3:00.0"]
    assert {(g["vendor"], g["class"], g["state"]) for g in found} == {("amd", "0x038000", "no_driver")}


@pytest.mark.parametrize("vendor, klass, expected", [
    ("0x1002", "0x120000", "amd"),      # Instinct accelerators that amdgpu binds by class (processing accelerator)
    ("0x10de", "0x120000", None),       # not an NVIDIA GPU class
    ("0x10de", "0x068000", None),       # NVIDIA bridge (NVSwitch)
    ("0x8086", "0x030000", None),       # another vendor's VGA
])
def test_vendor_and_class(vendor, klass, expected):
    gpu = parse.pci_gpu("0000:01:00.0", vendor, klass)
    assert (gpu or {}).get("vendor") == expected


def test_the_devices_of_a_real_vm_without_gpu_are_no_gpus(fixture_path):
    devices = pci_tree.from_listing(_read(fixture_path, "sysfs_pci", "debian12-vm-no-gpu.txt"))
    assert len(devices) == 6 and devices[1]["driver"] == "virtio-pci"
    assert [parse.pci_gpu(d["address"], d["vendor"], d["class"], d["driver"]) for d in devices] == [None] * 6


def test_bus_ids_of_every_tool_compare_equal():
    assert parse.bus_id_key("00000000:3B:00.0") == parse.bus_id_key("0000:3b:00.0") == parse.bus_id_key("3b:00.0") == (0, 0x3B, 0, 0)
    assert parse.bus_id_key(None) is None and parse.bus_id_key("N/A") is None


def test_unreported_matches_by_address_and_trusts_a_vendor_whose_gpus_have_none(fixture_path):
    smi, _problems = nvidia_smi.parse_xml(_read(fixture_path, "nvidia_smi", "rtx3060-driver570-dtdv12.xml"))
    reported = parse.pci_gpu("0000:2d:00.0", "0x10de", "0x030000", "nvidia")
    other = parse.pci_gpu("0000:00:06.0", "0x10de", "0x030200", None)
    amd = parse.pci_gpu("0000:03:00.0", "0x1002", "0x038000", None)
    assert parse.unreported([reported, other, amd], {"nvidia": smi, "amd": {"present": False}}) == [other, amd]
    no_address = {"present": True, "gpus": [{"index": 0, "pci_bus_id": None}]}
    assert parse.unreported([amd], {"nvidia": smi, "amd": no_address}) == []


def test_read_pci_reads_a_tree_built_from_captures(tmp_path, fixture_path):
    devices = pci_tree.from_listing(_read(fixture_path, "sysfs_pci", "debian12-vm-no-gpu.txt"))
    devices += pci_tree.from_nvidia_smi_xml(_read(fixture_path, "device_h200", "nvidia-smi-q-x.xml"), driver="nvidia")
    root = pci_tree.write(tmp_path, devices)
    pci = read_pci(root)
    assert pci == {"path": os.path.join(root, "sys", "bus", "pci", "devices"), "error": None, "gpus": [
        {"address": "0000:00:06.0", "vendor": "nvidia", "class": "0x030200", "driver": "nvidia", "state": "driver"}]}


def test_read_pci_says_when_the_bus_cannot_be_read(tmp_path):
    pci = read_pci(str(tmp_path))
    assert pci["gpus"] == [] and pci["error"].startswith("could not read %s" % pci["path"])
    assert "No such file or directory" in pci["error"]
