"""The proxmox area gathered on trees and command answers made of captures.

The node: the VM list recorded from PVE 6.2 (VMs 101-103 running, template 9001) through ``pvesh``, and
for ``qm config <vmid>`` captured configs of other nodes; the PCI bus of a captured IOMMU group listing.
Where a test puts a config on a bus it was not captured on, it says so; the bus and the config are as
captured (tests/unit/fixtures/proxmox/PROVENANCE.md).
"""

import json
import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import pci_bus
from testlib import pci_tree, proxmox_host

AREA = registry.area("proxmox")
COMET_LAKE = "iommu-groups-comet-lake-gtx1660super.txt"
WINTEST = "qemu-server-100.conf-pve906-wintest-amd-phoenix3.txt"
MAC = "qm-config-pve91-102-mac-rx6600.txt"
MULTIFUNCTION = "qemu-server-test-q35-linux-hostpci-multifunction.conf"


def _gather(root, answers, tmp_path, **options):
    tools = proxmox_host.write_standins(tmp_path / "bin", answers)
    replay = proxmox_host.Replay(answers)
    params = AREA.validate(dict({"root": str(root), "node": proxmox_host.NODE, "pvesh_path": tools["pvesh"],
                                 "qm_path": tools["qm"]}, **options))
    fact, warnings = AREA.gather(replay, params)
    return fact, warnings, replay


def _checks(fact, name):
    return [c for c in fact["checks"] if c["check"] == name]


def _comet_lake(tmp_path, drivers):
    devices = pci_tree.with_drivers(pci_tree.from_iommu_listing(proxmox_host.read("proxmox", COMET_LAKE)), drivers)
    return proxmox_host.node_tree(tmp_path / "root", devices)


def _answers(configs):
    answers = proxmox_host.vm_list_answer()
    answers.update(proxmox_host.qm_config_answers(dict((vmid, proxmox_host.read("proxmox", name))
                                                       for vmid, name in configs.items())))
    return answers


VFIO_ALL = dict(("0000:01:00.%d" % f, "vfio-pci") for f in range(4))


def test_the_bus_reader_gives_groups_bridges_and_drivers(tmp_path):
    root = _comet_lake(tmp_path, {"0000:01:00.0": "vfio-pci"})
    bus = pci_bus.read_devices(root)
    by = dict((d["address"], d) for d in bus["devices"])
    assert bus["error"] is None and len(by) == 11
    assert by["0000:01:00.0"] == {"address": "0000:01:00.0", "vendor": "0x10de", "device": "0x21c4", "class": "0x030000",
                                  "driver": "vfio-pci", "iommu_group": "1", "bridge": False}
    assert [a for a, d in sorted(by.items()) if d["bridge"]] == ["0000:00:01.0", "0000:00:1b.0"]
    assert pci_bus.iommu_groups(root) == ["0", "1", "2", "3", "4", "5", "6"]


def test_a_node_whose_passthrough_gpu_is_on_vfio(tmp_path):
    # VM 101 gets wintest's captured config (hostpci0 0000:01:00.0, hostpci1 0000:01:00.1: its own host had
    # its iGPU there) on the Comet Lake bus, where 01:00 is a GTX 1660 SUPER with four functions.
    root = _comet_lake(tmp_path, VFIO_ALL)
    fact, warnings, replay = _gather(root, _answers({101: WINTEST, 102: MAC, 103: MULTIFUNCTION}), tmp_path)
    assert warnings == []
    assert replay.calls == ["pvesh get /nodes/testnode/qemu --output-format json",
                            "qm config 101", "qm config 102", "qm config 103"]   # not the template 9001
    assert (fact["role"], fact["node"], fact["vm_count"], fact["iommu_enabled"]) == ("host", "testnode", 3, True)
    vms = dict((vm["vmid"], vm) for vm in fact["vms"])
    assert sorted(vms) == [101, 102, 103]
    assert (vms[101]["name"], vms[101]["status"], vms[101]["onboot"]) == ("test-qemu", "running", False)
    functions = [(f["address"], f["gpu"], f["driver"], f["iommu_group"]) for e in vms[101]["hostpci"] for f in e["functions"]]
    assert functions == [("0000:01:00.0", "nvidia", "vfio-pci", "1"), ("0000:01:00.1", None, "vfio-pci", "1")]
    assert [m for e in vms[102]["hostpci"] for m in e["missing"]] == ["0000:03:00"]
    assert [m for e in vms[103]["hostpci"] for m in e["missing"]] == ["f0:43", "1234:f0:43"]
    # The Intel iGPU (8086) is not one of the GPUs; the GTX 1660 SUPER is held by VM 101.
    assert [(g["address"], g["held_by"], g["state"]) for g in fact["gpus"]] == [("0000:01:00.0", [101], "passthrough")]

    assert [c["status"] for c in _checks(fact, "pve_api")] == ["ok"]
    assert [c["status"] for c in _checks(fact, "iommu")] == ["ok"]
    assert [(c["subject"], c["status"]) for c in _checks(fact, "gpu_host_driver")] == [
        ({"vm": 101, "device": "0000:01:00.0"}, "ok")]
    assert [(c["subject"], c["status"]) for c in _checks(fact, "hostpci_not_vfio")] == [
        ({"vm": 101, "device": "0000:01:00.1"}, "ok")]
    # VM 101 gets .0 and .1 of group 1; .2 (USB) and .3 (UCSI) are in it too; the root port 00:01.0 is a bridge.
    [shared] = _checks(fact, "iommu_group_shared")
    assert shared["subject"] == {"vm": 101, "iommu_group": "1"} and shared["status"] == "warn"
    assert shared["value"] == ["0000:01:00.2", "0000:01:00.3"]
    # The configured devices not on this bus, of VMs that run: crit.
    assert [(c["subject"], c["status"]) for c in _checks(fact, "hostpci_missing")] == [
        ({"vm": 102, "device": "0000:03:00"}, "crit"), ({"vm": 103, "device": "f0:43"}, "crit"),
        ({"vm": 103, "device": "1234:f0:43"}, "crit")]
    assert fact["status"] == "crit"


def test_a_card_left_on_its_host_drivers_is_crit_with_the_ids_to_bind(tmp_path):
    # The vfio notes' bus as captured: group 15 is the card meant for a VM, still on nvidia, snd_hda_intel,
    # xhci_hcd and nvidia-gpu. The config naming it is this test's (its author used libvirt, not Proxmox).
    devices = pci_tree.from_iommu_listing(proxmox_host.read("proxmox", "iommu-groups-vfio-notes-gtx1060-tu104.txt"))
    drivers = pci_tree.drivers_from_lspci_nnk(proxmox_host.read("proxmox", "lspci-nnk-vfio-notes-tu104-still-on-nvidia.txt"))
    root = proxmox_host.node_tree(tmp_path / "root", pci_tree.with_drivers(devices, drivers))
    answers = proxmox_host.vm_list_answer()
    answers.update(proxmox_host.qm_config_answers({101: "hostpci0: 0000:09:00,pcie=1\n", 102: "name: b\n", 103: "name: c\n"}))
    fact, _warnings, _replay = _gather(root, answers, tmp_path)

    [gpu] = _checks(fact, "gpu_host_driver")
    assert (gpu["subject"], gpu["status"], gpu["value"], gpu["threshold"]) == (
        {"vm": 101, "device": "0000:09:00.0"}, "crit", "nvidia", "vfio-pci")
    assert "options vfio-pci ids=10de:1e81,10de:10f8,10de:1ad8,10de:1ad9" in gpu["message"]
    assert "softdep nvidia pre: vfio-pci" in gpu["message"]
    others = _checks(fact, "hostpci_not_vfio")
    assert [(c["subject"]["device"], c["value"], c["status"]) for c in others] == [
        ("0000:09:00.1", "snd_hda_intel", "crit"), ("0000:09:00.2", "xhci_hcd", "crit"), ("0000:09:00.3", "nvidia-gpu", "crit")]
    # Group 15 holds the four functions and nothing else.
    assert [(c["subject"]["iommu_group"], c["status"]) for c in _checks(fact, "iommu_group_shared")] == [("15", "ok")]
    # The GTX 1060 of group 14 is the host's: no VM holds it, nothing is said about it.
    assert [(g["address"], g["held_by"]) for g in fact["gpus"]] == [("0000:08:00.0", []), ("0000:09:00.0", [101])]


def test_a_node_with_the_iommu_off_cannot_start_its_passthrough_vms(tmp_path):
    # wintest's config on its own host's two devices (the Phoenix3 iGPU and its audio, as posted), written
    # without IOMMU groups: the same bus with the IOMMU off.
    devices = pci_tree.from_lspci_nn(proxmox_host.read("proxmox", "lspci-nn-pve906-amd-phoenix3.txt"), driver="vfio-pci")
    root = proxmox_host.node_tree(tmp_path / "root", devices)
    fact, _warnings, _replay = _gather(root, _answers({101: WINTEST, 102: MAC, 103: MAC}), tmp_path)
    assert fact["iommu_enabled"] is False
    [iommu] = _checks(fact, "iommu")
    assert iommu["status"] == "crit" and "VM 101, 102, 103" in iommu["message"]
    assert [(g["gpu"], g["device_id"], g["held_by"]) for g in fact["gpus"]] == [("amd", "0x1900", [101])]
    assert _checks(fact, "iommu_group_shared") == []   # no groups to judge


def test_a_node_without_passthrough_says_so_and_judges_nothing_else(tmp_path):
    root = _comet_lake(tmp_path, {"0000:01:00.0": "nvidia"})
    fact, _warnings, _replay = _gather(root, _answers({101: MULTIFUNCTION, 102: MAC, 103: MAC}) | {
        "qm config 101": {"out": "name: plain\nonboot: 1\n"}, "qm config 102": {"out": "name: x\n"},
        "qm config 103": {"out": ""}}, tmp_path)
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("pve_api", "ok")]
    assert fact["checks"][0]["message"] == "node testnode: 3 VM(s) read, 0 with PCI passthrough"
    assert fact["vms"] == [] and [(g["address"], g["held_by"], g["state"]) for g in fact["gpus"]] == [
        ("0000:01:00.0", [], "driver")]


def test_pvesh_that_fails_is_unknown_not_ok(tmp_path):
    root = _comet_lake(tmp_path, VFIO_ALL)
    fact, _warnings, replay = _gather(root, {}, tmp_path)   # the stand-in knows no answer: exit 2
    [api] = fact["checks"]
    assert (api["check"], api["status"]) == ("pve_api", "unknown")
    assert ("pvesh get /nodes/testnode/qemu exited 2: stand-in: no captured answer for "
            "'pvesh get /nodes/testnode/qemu --output-format json'") in api["message"]
    assert fact["vm_count"] is None and replay.calls == ["pvesh get /nodes/testnode/qemu --output-format json"]


def test_a_config_that_cannot_be_read_is_unknown(tmp_path):
    root = _comet_lake(tmp_path, VFIO_ALL)
    answers = _answers({101: WINTEST, 102: MAC})
    # qm's wording for a VM whose config is gone, written by this test
    answers["qm config 103"] = {"rc": 2, "err": "Configuration file 'nodes/testnode/qemu-server/103.conf' does not exist\n"}
    fact, _warnings, _replay = _gather(root, answers, tmp_path)
    [api] = _checks(fact, "pve_api")
    assert api["status"] == "unknown" and "VM 103" in api["message"] and "does not exist" in api["message"]
    assert [vm["vmid"] for vm in fact["vms"]] == [101, 102, 103]


def test_no_pvesh_on_a_node_is_unknown(tmp_path):
    root = _comet_lake(tmp_path, VFIO_ALL)
    params = AREA.validate({"root": str(root), "node": "testnode", "pvesh_path": str(tmp_path / "nothing"),
                            "qm_path": str(tmp_path / "nothing")})
    fact, _warnings = AREA.gather(proxmox_host.Replay({}), params)
    [api] = fact["checks"]
    assert api["status"] == "unknown" and "pvesh and qm not found" in api["message"]


def test_cluster_mappings_resolve_for_this_node_and_mediated_devices_are_not_judged(tmp_path):
    root = _comet_lake(tmp_path, dict(VFIO_ALL, **{"0000:00:17.0": "ahci"}))
    answers = _answers({101: "qemu-server-test-q35-linux-hostpci-mapping.conf", 102: MAC, 103: MAC})
    # The mapping document is this test's, written from pve-guest-common's $map_fmt (not a capture).
    answers["pvesh get /cluster/mapping/pci --output-format json"] = {"out": json.dumps([
        {"id": "someNic", "map": ["node=testnode,path=0000:00:17.0,id=8086:a382"]},
        {"id": "someGpu", "map": ["node=testnode,path=0000:01:00.0,id=10de:21c4"]}])}
    fact, _warnings, _replay = _gather(root, answers, tmp_path)
    vm = next(vm for vm in fact["vms"] if vm["vmid"] == 101)
    assert [[f["address"] for f in e["functions"]] for e in vm["hostpci"]] == [["0000:00:17.0"], ["0000:01:00.0"], ["0000:00:17.0"]]
    # someNic (the SATA controller, here bound to ahci) is judged; someGpu is a mediated device: not judged.
    judged = [(c["check"], c["subject"]["device"], c["status"]) for c in fact["checks"]
              if c["subject"].get("vm") == 101 and c["check"] in ("gpu_host_driver", "hostpci_not_vfio")]
    assert judged == [("hostpci_not_vfio", "0000:00:17.0", "crit"), ("hostpci_not_vfio", "0000:00:17.0", "crit")]


def test_mappings_that_cannot_be_read_are_unknown(tmp_path):
    root = _comet_lake(tmp_path, VFIO_ALL)
    answers = _answers({101: "qemu-server-test-q35-linux-hostpci-mapping.conf", 102: MAC, 103: MAC})
    fact, warnings, _replay = _gather(root, answers, tmp_path)
    unknown = [c for c in _checks(fact, "hostpci_missing") if c["status"] == "unknown"]
    assert [c["subject"] for c in unknown] == [{"vm": 101, "device": "mapping someNic"}, {"vm": 101, "device": "mapping someNic"}]
    assert any("/cluster/mapping/pci" in w for w in warnings)


def _guest(tmp_path, devices, **options):
    root = proxmox_host.guest_tree(tmp_path / "root", devices,
                                   proxmox_host.dmi(proxmox_host.read("proxmox", "dmi-qemu-guest.txt")))
    replay = proxmox_host.Replay({})
    fact, _warnings = AREA.gather(replay, AREA.validate(dict({"root": root}, **options)))
    assert replay.calls == []   # a guest runs no command
    return fact


def test_a_guest_with_its_gpu_and_driver(tmp_path):
    gpu = pci_tree.from_lspci_nn(proxmox_host.read("proxmox", "lspci-nn-kata-guest-gt1030.txt"), driver="nvidia")
    fact = _guest(tmp_path, gpu, guest_expected_gpus=1)
    assert (fact["role"], fact["dmi"]["sys_vendor"], fact["guest_expected_gpus"]) == ("guest", "QEMU", 1)
    assert [(g["address"], g["device_id"], g["state"]) for g in fact["gpus"]] == [("0000:00:08.0", "0x1d01", "driver")]
    [check] = fact["checks"]
    assert (check["check"], check["status"], check["value"], check["threshold"]) == ("guest_gpu", "ok", 1, 1)


def test_a_guest_whose_gpu_has_no_driver(tmp_path):
    gpu = pci_tree.from_lspci_nn(proxmox_host.read("proxmox", "lspci-nnk-kata-guest-quadro-m4000-no-driver.txt"))
    [check] = _guest(tmp_path, gpu, guest_expected_gpus=1)["checks"]
    assert (check["check"], check["status"]) == ("guest_gpu", "warn")
    assert "0000:01:01.0 (no driver)" in check["message"]


def test_a_guest_that_lost_its_gpu(tmp_path):
    # This project's own VM (virtio devices, no GPU) as the bus of a guest that should have one.
    bus = pci_tree.from_listing(proxmox_host.read("sysfs_pci", "debian12-vm-no-gpu.txt"))
    [check] = _guest(tmp_path, bus, guest_expected_gpus=1)["checks"]
    assert (check["check"], check["status"], check["value"], check["threshold"]) == ("guest_gpu", "crit", 0, 1)
    # With no expectation the daily has nothing to say about it.
    assert _guest(tmp_path / "again", bus, only_on_proxmox=True) is None


def test_a_host_that_is_neither_reports_nothing_in_the_daily(tmp_path):
    root = tmp_path / "plain"
    os.makedirs(str(root / "sys" / "class" / "dmi" / "id"))
    (root / "sys" / "class" / "dmi" / "id" / "sys_vendor").write_text("Dell Inc.\n")
    replay = proxmox_host.Replay({})
    assert AREA.gather(replay, AREA.validate({"root": str(root), "only_on_proxmox": True})) == (None, [])
    fact, _warnings = AREA.gather(replay, AREA.validate({"root": str(root)}))
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("proxmox", "ok")]
    assert "DMI Dell Inc." in fact["checks"][0]["message"] and replay.calls == []


@pytest.mark.parametrize("options, message", [
    ({"timeout": 0}, "proxmox: timeout must be at least 1 (got 0)"),
    ({"guest_expected_gpus": -1}, "proxmox: guest_expected_gpus must be at least 0 (got -1)"),
])
def test_out_of_range_options_name_the_option(options, message):
    with pytest.raises(Exception) as error:
        AREA.validate(options)
    assert message in str(error.value)
