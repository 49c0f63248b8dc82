"""The proxmox area's parsers on captures (tests/unit/fixtures/proxmox/PROVENANCE.md).

Expected values are read from the captures: the hostpci lines of the posted VM configs, the VM list
recorded from PVE 6.2, the vfio-pci ids the vfio notes' author wrote by hand for the card listed.
"""

import json

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.proxmox import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import pci_bus
from testlib import pci_tree, proxmox_host


def _config(name):
    config, problems = parse.parse_qm_config(proxmox_host.read("proxmox", name))
    assert problems == []
    return config


@pytest.mark.parametrize("text, address, all_functions", [
    ("0000:01:00.0", "0000:01:00.0", False),   # wintest's hostpci0
    ("0000:03:00", "0000:03:00", True),         # the RX 6600 VM: every function of 03:00
    ("d0:13.0", "0000:d0:13.0", False),         # qemu-server's test: no domain
    ("f0:43", "0000:f0:43", True),
    ("1234:f0:43", "1234:f0:43", True),         # a domain of its own
])
def test_pci_ids_as_qemu_server_writes_them(text, address, all_functions):
    assert parse.pci_id(text) == {"id": text, "address": address, "all_functions": all_functions}


@pytest.mark.parametrize("text", ["", "01:00.0.1", "1:00.0", "vfio", "0000:01:00.g"])
def test_what_is_not_a_pci_id(text):
    assert parse.pci_id(text) is None


def test_the_hostpci_entries_of_the_posted_pve906_config():
    config = _config("qemu-server-100.conf-pve906-wintest-amd-phoenix3.txt")
    assert config["name"] == "wintest" and "onboot" not in config
    assert config["args"] == "-cpu 'host,-hypervisor,kvm=off'"   # the line added by hand, before a blank line
    entries = parse.hostpci_entries(config)
    assert [(e["key"], [i["address"] for i in e["ids"]], e["pcie"], e["x_vga"], e["mapping"], e["error"]) for e in entries] == [
        ("hostpci0", ["0000:01:00.0"], True, False, None, None),
        ("hostpci1", ["0000:01:00.1"], True, False, None, None),
    ]


def test_a_device_without_a_function_and_x_vga():
    [entry] = parse.hostpci_entries(_config("qm-config-pve91-102-mac-rx6600.txt"))
    assert entry["value"] == "0000:03:00,x-vga=1"
    assert entry["ids"] == [{"id": "0000:03:00", "address": "0000:03:00", "all_functions": True}]
    assert entry["x_vga"] is True and entry["pcie"] is False


def test_qemu_servers_own_configs_keep_the_index_order_and_options():
    entries = parse.hostpci_entries(_config("qemu-server-test-q35-linux-hostpci.conf"))
    assert [e["key"] for e in entries] == ["hostpci0", "hostpci1", "hostpci2", "hostpci3", "hostpci4", "hostpci7"]
    assert [e["ids"][0]["address"] for e in entries] == [
        "0000:00:ff.1", "0000:d0:13.0", "0000:00:f4.0", "0000:d0:15.1", "0000:d0:17.0", "0000:d0:15.1"]
    assert [e["pcie"] for e in entries] == [False, True, False, True, True, True]


def test_mappings_and_mediated_devices():
    entries = parse.hostpci_entries(_config("qemu-server-test-q35-linux-hostpci-mapping.conf"))
    assert [(e["mapping"], e["mdev"], e["ids"], e["error"]) for e in entries] == [
        ("someNic", None, [], None), ("someGpu", "some-model", [], None), ("someNic", None, [], None)]


def test_multifunction_ids_with_and_without_a_domain():
    entries = parse.hostpci_entries(_config("qemu-server-test-q35-linux-hostpci-multifunction.conf"))
    assert [e["ids"][0] for e in entries] == [
        {"id": "f0:43", "address": "0000:f0:43", "all_functions": True},
        {"id": "1234:f0:43", "address": "1234:f0:43", "all_functions": True}]


@pytest.mark.parametrize("value, error", [
    ("", "neither a PCI address nor a mapping"),
    ("pcie=1", "neither a PCI address nor a mapping"),
    ("0000:01:00.0,mapping=gpu", "both host and mapping are set"),
    ("host=01:00.0;zz:00.0", "'zz:00.0' is not a PCI address"),
])
def test_hostpci_values_qemu_server_refuses(value, error):
    assert parse.parse_hostpci(value)["error"] == error


def test_host_lists_several_ids():
    entry = parse.parse_hostpci("host=0000:01:00.0;0000:01:00.1,pcie=on")
    assert [i["address"] for i in entry["ids"]] == ["0000:01:00.0", "0000:01:00.1"] and entry["pcie"] is True


def test_the_current_configuration_ends_at_the_first_section():
    text = proxmox_host.read("proxmox", "qm-config-pve91-102-mac-rx6600.txt") + "\n[before-update]\nhostpci0: 0000:0a:00\n"
    config, problems = parse.parse_qm_config(text)
    assert config["hostpci0"] == "0000:03:00,x-vga=1" and problems == []


def test_a_line_that_is_not_key_value_is_a_problem():
    config, problems = parse.parse_qm_config("name: a\nthis is not a key\n")
    assert config == {"name": "a"} and problems == ["line 2 is not 'key: value': 'this is not a key'"]


def test_the_vm_list_recorded_from_pve62():
    vms = parse.parse_vm_list(json.dumps(proxmox_host.api_pve62()["/nodes/testnode/qemu"]))
    # PVE 6.2 printed vmid as "101" and template as "" or 1
    assert [(v["vmid"], v["name"], v["status"], v["template"]) for v in vms] == [
        (101, "test-qemu", "running", False), (102, "test-qemu-windows", "running", False),
        (103, "test-qemu-multi-nic", "running", False), (9001, "test-qemu-template", "stopped", True)]


@pytest.mark.parametrize("text", ['{"data": []}', '[{"name": "no id"}]', "not json"])
def test_what_is_not_a_vm_list(text):
    with pytest.raises(ValueError):
        parse.parse_vm_list(text)


def test_cluster_mappings_for_this_node():
    # Written by this test from pve-guest-common's $map_fmt (node, path, id, iommugroup): not a capture.
    text = json.dumps([
        {"id": "someNic", "map": ["node=testnode,path=0000:00:17.0,id=8086:a382,iommugroup=5",
                                  "node=other,path=0000:05:00.0,id=8086:a382"]},
        {"id": "someGpu", "map": ["node=testnode,path=0000:01:00.0;0000:01:00.1,id=10de:21c4"]},
        {"id": "elsewhere", "map": ["node=other,path=0000:02:00.0"]},
    ])
    mappings = parse.parse_pci_mappings(text, "testnode")
    assert sorted(mappings) == ["someGpu", "someNic"]
    assert [[i["address"] for i in alt] for alt in mappings["someGpu"]] == [["0000:01:00.0", "0000:01:00.1"]]
    assert [[i["address"] for i in alt] for alt in mappings["someNic"]] == [["0000:00:17.0"]]


def test_matching_finds_every_function_of_a_device(tmp_path):
    devices = pci_tree.from_iommu_listing(proxmox_host.read("proxmox", "iommu-groups-comet-lake-gtx1660super.txt"))
    bus = pci_bus.read_devices(pci_tree.write(tmp_path, devices))["devices"]
    found, missing = parse.matching([parse.pci_id("0000:01:00"), parse.pci_id("03:00.0")], bus)
    assert [d["address"] for d in found] == ["0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3"]
    assert missing == ["03:00.0"]


def test_the_vfio_ids_of_a_card_are_those_its_owner_wrote(tmp_path):
    # The vfio notes' author wrote "options vfio-pci ids=10de:1e81,10de:10f8,10de:1ad8,10de:1ad9" for group 15.
    devices = pci_tree.from_iommu_listing(proxmox_host.read("proxmox", "iommu-groups-vfio-notes-gtx1060-tu104.txt"))
    bus = pci_bus.read_devices(pci_tree.write(tmp_path, devices))["devices"]
    card = [parse.function(d) for d in bus if d["iommu_group"] == "15"]
    assert parse.vfio_ids(card) == "10de:1e81,10de:10f8,10de:1ad8,10de:1ad9"
    assert [f["gpu"] for f in card] == ["nvidia", None, None, None]   # the VGA function only is a GPU


def test_a_qemu_guest_by_its_dmi_strings():
    assert parse.qemu_guest(proxmox_host.dmi(proxmox_host.read("proxmox", "dmi-qemu-guest.txt"))) is True
    assert parse.qemu_guest({"sys_vendor": "Dell Inc.", "product_name": "PowerEdge R740"}) is False
    assert parse.qemu_guest({}) is False
