"""The proxmox area's summary lines and Prometheus samples, on facts gathered from captures."""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.proxmox import present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import prom
from testlib import pci_tree, proxmox_host

AREA = registry.area("proxmox")


def _node(tmp_path):
    devices = pci_tree.from_iommu_listing(proxmox_host.read("proxmox", "iommu-groups-comet-lake-gtx1660super.txt"))
    root = proxmox_host.node_tree(tmp_path / "root", pci_tree.with_drivers(devices, {"0000:01:00.0": "vfio-pci",
                                                                                     "0000:01:00.1": "vfio-pci"}))
    answers = proxmox_host.vm_list_answer()
    answers.update(proxmox_host.qm_config_answers({
        101: proxmox_host.read("proxmox", "qemu-server-100.conf-pve906-wintest-amd-phoenix3.txt"),
        102: proxmox_host.read("proxmox", "qm-config-pve91-102-mac-rx6600.txt"), 103: "name: plain\n"}))
    tools = proxmox_host.write_standins(tmp_path / "bin", answers)
    params = AREA.validate({"root": root, "node": "testnode", "pvesh_path": tools["pvesh"], "qm_path": tools["qm"]})
    return AREA.gather(proxmox_host.Replay(answers), params)[0]


def test_the_node_summary_names_each_passthrough_vm_and_its_devices(tmp_path):
    assert present.summary_lines(_node(tmp_path)) == [
        "proxmox: node testnode, 3 VM(s), 2 with PCI passthrough, IOMMU on",
        "proxmox VM 101 test-qemu (running): 0000:01:00.0 NVIDIA vfio-pci, 0000:01:00.1 class 0x040300 vfio-pci",
        "proxmox VM 102 test-qemu-windows (running): no device found; not on the bus: 0000:03:00",
    ]


def test_the_metrics_say_which_vm_holds_which_gpu(tmp_path):
    fam = prom.metrics_from_facts({"gpufleet_proxmox": _node(tmp_path)})
    samples = prom.parse_samples(prom.render(fam), "gpufleet_proxmox_gpu_passthrough")
    assert samples == [({"role": "host", "gpu": "0000:01:00.0", "vmid": "101", "driver": "vfio-pci"}, 1.0)]
    statuses = prom.parse_samples(prom.render(fam), "gpufleet_check_status")
    assert ({"area": "proxmox", "check": "hostpci_missing", "subject": "device=0000:03:00,vm=102"}, 2.0) in statuses


def test_guest_and_neither():
    guest = {"role": "guest", "guest_expected_gpus": 1, "gpus": [
        {"address": "0000:00:08.0", "gpu": "nvidia", "driver": "nvidia", "class": "0x030000"}]}
    assert present.summary_lines(guest) == ["proxmox guest: 1 GPU(s) on the PCI bus (1 expected): 0000:00:08.0 NVIDIA nvidia"]
    assert present.summary_lines({"role": "guest", "guest_expected_gpus": 1, "gpus": []}) == [
        "proxmox guest: 0 GPU(s) on the PCI bus (1 expected)"]
    assert present.summary_lines({"role": "none"}) == ["proxmox: not a Proxmox VE node or a QEMU/KVM guest"]
