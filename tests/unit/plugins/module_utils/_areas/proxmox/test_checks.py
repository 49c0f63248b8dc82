"""proxmox verdicts called directly on hand-built data (the gathered trees are in test_collect.py).

The rule (docs/proxmox.md, checks.py): a device a VM passes through must be bound to vfio-pci; when it
is not, crit when the VM runs, or starts on boot and a host driver holds the device; warn otherwise.
"""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.proxmox import checks


def _vm(status="stopped", onboot=False, functions=(), missing=(), mdev=None, vmid=100):
    entry = {"key": "hostpci0", "value": "0000:01:00,pcie=1", "mdev": mdev, "mapping": None, "error": None,
             "unresolved": None, "functions": list(functions), "missing": list(missing)}
    return {"vmid": vmid, "name": "gpu-vm", "status": status, "onboot": onboot, "config_error": None, "hostpci": [entry]}


def _function(address="0000:01:00.0", driver="vfio-pci", gpu="nvidia", group="1", device="0x2204"):
    return {"address": address, "vendor_id": "0x10de", "device_id": device, "class": "0x030000" if gpu else "0x040300",
            "driver": driver, "iommu_group": group, "gpu": gpu}


def _host(vms, devices=(), iommu=True):
    return {"role": "host", "node": "pve", "iommu_enabled": iommu, "api_error": None, "vm_count": len(vms),
            "vms": vms, "gpus": [], "_devices": list(devices)}


def _only(results, name):
    return [r for r in results if r["check"] == name]


# The table of checks.py, row by row: (driver, VM status, onboot) -> status.
@pytest.mark.parametrize("driver, status, onboot, expected", [
    ("vfio-pci", "running", True, "ok"),
    ("vfio-pci", "stopped", False, "ok"),
    (None, "running", False, "crit"),
    (None, "stopped", True, "warn"),
    (None, "stopped", False, "warn"),
    ("nvidia", "running", False, "crit"),
    ("nvidia", "stopped", True, "crit"),
    ("nvidia", "stopped", False, "warn"),
    ("amdgpu", "stopped", True, "crit"),
    ("nouveau", "stopped", False, "warn"),
])
@pytest.mark.parametrize("gpu, name", [("nvidia", "gpu_host_driver"), (None, "hostpci_not_vfio")])
def test_a_passthrough_device_not_on_vfio(driver, status, onboot, expected, gpu, name):
    vm = _vm(status, onboot, [_function(driver=driver, gpu=gpu)])
    [result] = _only(checks.evaluate(_host([vm]), {}), name)
    assert (result["status"], result["value"], result["threshold"], result["subject"]) == (
        expected, driver, "vfio-pci", {"vm": 100, "device": "0000:01:00.0"})


def test_the_fix_names_the_ids_of_every_function_of_the_vm_and_the_driver_to_soften():
    vm = _vm("stopped", True, [_function(driver="nvidia"), _function("0000:01:00.1", "snd_hda_intel", None, device="0x1aef")])
    results = checks.evaluate(_host([vm]), {})
    [gpu] = _only(results, "gpu_host_driver")
    [audio] = _only(results, "hostpci_not_vfio")
    assert "ids=10de:2204,10de:1aef" in gpu["message"] and "softdep nvidia pre: vfio-pci" in gpu["message"]
    assert "ids=10de:2204,10de:1aef" in audio["message"] and "softdep snd_hda_intel pre: vfio-pci" in audio["message"]
    assert "VM 100 starts on boot, when Proxmox must tear it from nvidia" in gpu["message"]


def test_a_mediated_device_keeps_its_host_driver_and_is_not_judged():
    vm = _vm("running", True, [_function(driver="nvidia")], mdev="nvidia-63")
    nic = {"address": "0000:02:00.0", "iommu_group": "1", "bridge": False, "class": "0x020000", "driver": "igb"}
    results = checks.evaluate(_host([vm], devices=[nic]), {})
    assert [r["check"] for r in results] == ["pve_api", "iommu"]


@pytest.mark.parametrize("status, onboot, expected", [("running", False, "crit"), ("stopped", True, "crit"),
                                                      ("stopped", False, "warn")])
def test_a_device_not_on_the_bus(status, onboot, expected):
    [result] = _only(checks.evaluate(_host([_vm(status, onboot, missing=["0000:03:00"])]), {}), "hostpci_missing")
    assert (result["status"], result["value"], result["subject"]) == (expected, "0000:03:00", {"vm": 100, "device": "0000:03:00"})


def test_an_invalid_hostpci_entry_is_reported_against_its_key():
    vm = _vm("stopped", True)
    vm["hostpci"][0].update(value="0000:01:00.0,mapping=gpu", error="both host and mapping are set")
    [result] = _only(checks.evaluate(_host([vm]), {}), "hostpci_missing")
    assert (result["status"], result["subject"]) == ("crit", {"vm": 100, "device": "hostpci0"})
    assert "both host and mapping are set" in result["message"]


@pytest.mark.parametrize("status, onboot, expected", [("stopped", True, "crit"), ("running", False, "crit"),
                                                      ("stopped", False, "warn")])
def test_the_iommu_off_with_passthrough_vms(status, onboot, expected):
    [result] = _only(checks.evaluate(_host([_vm(status, onboot, [_function()])], iommu=False), {}), "iommu")
    assert (result["status"], result["value"], result["threshold"]) == (expected, False, True)


def test_no_iommu_verdict_without_passthrough():
    results = checks.evaluate(_host([], iommu=False), {})
    assert [r["check"] for r in results] == ["pve_api"]


def test_a_group_shared_with_a_host_device_bridges_aside_and_naming_the_other_vm():
    devices = [
        {"address": "0000:00:01.0", "iommu_group": "1", "bridge": True, "class": "0x060400", "driver": "pcieport"},
        {"address": "0000:01:00.0", "iommu_group": "1", "bridge": False, "class": "0x030000", "driver": "vfio-pci"},
        {"address": "0000:02:00.0", "iommu_group": "1", "bridge": False, "class": "0x010601", "driver": "ahci"},
        {"address": "0000:03:00.0", "iommu_group": "1", "bridge": False, "class": "0x020000", "driver": "vfio-pci"},
    ]
    first = _vm("stopped", False, [_function()])
    second = _vm("stopped", False, [_function("0000:03:00.0", gpu=None)], vmid=101)
    results = _only(checks.evaluate(_host([first, second], devices), {}), "iommu_group_shared")
    assert [(r["subject"], r["status"], r["value"]) for r in results] == [
        ({"vm": 100, "iommu_group": "1"}, "warn", ["0000:02:00.0", "0000:03:00.0"]),
        ({"vm": 101, "iommu_group": "1"}, "warn", ["0000:01:00.0", "0000:02:00.0"])]
    assert "0000:02:00.0 class 0x010601 (ahci)" in results[0]["message"]
    assert "0000:03:00.0 class 0x020000 (vfio-pci, passed to VM 101)" in results[0]["message"]


def test_a_group_of_its_own_is_ok():
    devices = [{"address": "0000:01:00.0", "iommu_group": "7", "bridge": False, "class": "0x030000", "driver": "vfio-pci"}]
    [result] = _only(checks.evaluate(_host([_vm(functions=[_function(group="7")])], devices), {}), "iommu_group_shared")
    assert (result["status"], result["subject"]) == ("ok", {"vm": 100, "iommu_group": "7"})


def test_an_unreadable_vm_list_is_unknown_and_nothing_is_judged():
    data = dict(_host([]), api_error="pvesh not found", vm_count=None)
    [result] = checks.evaluate(data, {})
    assert (result["check"], result["status"]) == ("pve_api", "unknown")


def _guest(gpus, expected=None):
    return {"role": "guest", "gpus": gpus, "guest_expected_gpus": expected, "pci_error": None}


BOUND = {"address": "0000:01:00.0", "driver": "nvidia", "state": "driver"}
UNBOUND = {"address": "0000:02:00.0", "driver": None, "state": "no_driver"}


@pytest.mark.parametrize("gpus, expected, status, value", [
    ([BOUND], 1, "ok", 1),
    ([BOUND], None, "ok", 1),
    ([], 1, "crit", 0),
    ([BOUND], 2, "crit", 1),
    ([BOUND, UNBOUND], 2, "warn", 1),
    ([UNBOUND], None, "warn", 0),
    ([], None, "ok", 0),
])
def test_the_guests_gpus(gpus, expected, status, value):
    [result] = checks.evaluate(_guest(gpus, expected), {})
    assert (result["check"], result["status"], result["value"]) == ("guest_gpu", status, value)


def test_a_guest_whose_bus_cannot_be_read_is_unknown():
    [result] = checks.evaluate(dict(_guest([]), pci_error="could not read /sys/bus/pci/devices: Permission denied"), {})
    assert (result["check"], result["status"]) == ("guest_gpu", "unknown")


def test_neither_node_nor_guest():
    [result] = checks.evaluate({"role": "none", "dmi": {"sys_vendor": "Dell Inc.", "product_name": "PowerEdge R740"}}, {})
    assert (result["check"], result["status"]) == ("proxmox", "ok")
    assert "DMI Dell Inc. / PowerEdge R740" in result["message"]
