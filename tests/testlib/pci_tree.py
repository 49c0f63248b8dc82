"""A ``/sys/bus/pci/devices`` tree under a temporary root, written from real captures, for the gpu
and proxmox areas.

The areas read ``<root>/sys/bus/pci/devices/<address>/{vendor,device,class}``, the ``driver`` and
``iommu_group`` links and the ``pci_bus`` directory of bridges (option ``root``). The devices come
from captures (tests/unit/fixtures/sysfs_pci/PROVENANCE.md, tests/unit/fixtures/proxmox/PROVENANCE.md):
``from_listing`` (one ``address vendor device class [driver]`` line per device, as captured from a
real /sys), ``from_lspci_nn`` (``lspci -nn`` lines), ``from_iommu_listing`` (the IOMMU group
listings of passthrough guides: ``IOMMU Group 1 01:00.0 VGA ...`` or ``IOMMU Group 1:`` followed
by indented ``lspci -nns`` lines), ``drivers_from_lspci_nnk`` (the ``Kernel driver in use`` of each
device of an ``lspci -nnk`` capture) and ``from_nvidia_smi_xml`` (the ``<pci>`` section nvidia-smi
prints for each GPU: bus id, ``pci_device_id`` = device << 16 | vendor, and the base and sub class of
DTD v12 and later). ``write`` lays them out the way the kernel shows them.
"""

import os
import re
import xml.etree.ElementTree as ET

_LSPCI = re.compile(r"^(?P<address>[0-9a-f:.]+) .*\[(?P<klass>[0-9a-f]{4})\]: .*\[(?P<vendor>[0-9a-f]{4}):(?P<device>[0-9a-f]{4})\]")


_GROUP = re.compile(r"^IOMMU [Gg]roup +(?P<group>\d+):?(?P<rest>.*)$")
_DRIVER = re.compile(r"^\s+Kernel driver in use: (?P<driver>\S+)")


def device(address, vendor, device_id, klass, driver=None, iommu_group=None):
    return {"address": address, "vendor": vendor, "device": device_id, "class": klass, "driver": driver,
            "iommu_group": iommu_group}


def from_listing(text):
    devices = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            devices.append(device(fields[0], fields[1], fields[2], fields[3], fields[4] if len(fields) > 4 else None))
    return devices


def from_lspci_nn(text, driver=None):
    """``03:00.0 Display controller [0380]: ... [1002:738c] (rev 01)`` → devices (domain 0000, prog-if 00)."""
    devices = []
    for line in text.splitlines():
        match = _LSPCI.match(line.strip())
        if match:
            address = match.group("address")
            address = address if address.count(":") == 2 else "0000:" + address
            devices.append(device(address, "0x" + match.group("vendor"), "0x" + match.group("device"),
                                  "0x%s00" % match.group("klass"), driver))
    return devices


def from_iommu_listing(text):
    """An IOMMU group listing (``IOMMU Group 1 01:00.0 VGA ... [0300]: ... [10de:21c4] (rev a1)``, or
    ``IOMMU Group 1:`` then indented ``lspci -nns`` lines) → devices with their ``iommu_group``."""
    devices, group = [], None
    for line in text.splitlines():
        match = _GROUP.match(line.strip())
        if match:
            group, line = match.group("group"), match.group("rest")
        if group is not None and line.strip():
            for dev in from_lspci_nn(line):
                dev["iommu_group"] = group
                devices.append(dev)
    return devices


def drivers_from_lspci_nnk(text):
    """``{address: driver}`` from the ``Kernel driver in use`` lines of an ``lspci -nnk`` capture."""
    drivers, address = {}, None
    for line in text.splitlines():
        match = _LSPCI.match(line.strip()) if not line[:1].isspace() else None
        if match:
            address = match.group("address")
            address = address if address.count(":") == 2 else "0000:" + address
            continue
        found = _DRIVER.match(line)
        if found and address:
            drivers[address] = found.group("driver")
    return drivers


def with_drivers(devices, drivers):
    """``devices`` with ``drivers`` (``{address: driver or None}``) bound; others keep theirs."""
    return [dict(dev, driver=drivers.get(dev["address"], dev["driver"])) for dev in devices]


def from_nvidia_smi_xml(text, driver=None):
    """The GPUs of a ``nvidia-smi -q -x`` capture as PCI devices (needs ``pci_base_class``: DTD v12+)."""
    devices = []
    for gpu in ET.fromstring(text).findall("gpu"):
        bus_id = gpu.findtext("pci/pci_bus_id").strip()           # 00000000:00:06.0
        ids = int(gpu.findtext("pci/pci_device_id").strip(), 16)  # 0x233510DE: device 0x2335, vendor 0x10de
        klass = "0x%02x%02x00" % (int(gpu.findtext("pci/pci_base_class")), int(gpu.findtext("pci/pci_sub_class")))
        domain, rest = bus_id.split(":", 1)
        devices.append(device("%04x:%s" % (int(domain, 16), rest.lower()), "0x%04x" % (ids & 0xFFFF),
                              "0x%04x" % (ids >> 16), klass, driver))
    return devices


def write(root, devices):
    """Write ``devices`` under ``<root>/sys/bus/pci/devices`` (and their IOMMU groups under
    ``<root>/sys/kernel/iommu_groups``); returns ``root`` (the areas' ``root`` option).

    A bridge (class ``0x0604``) gets the ``pci_bus`` directory the kernel gives bridges."""
    base = os.path.join(str(root), "sys", "bus", "pci", "devices")
    groups = os.path.join(str(root), "sys", "kernel", "iommu_groups")
    os.makedirs(base, exist_ok=True)
    for dev in devices:
        path = os.path.join(base, dev["address"])
        os.makedirs(path)
        for name in ("vendor", "device", "class"):
            with open(os.path.join(path, name), "w") as handle:
                handle.write(dev[name] + "\n")
        if dev.get("driver"):
            os.symlink(os.path.join("..", "..", "..", "bus", "pci", "drivers", dev["driver"]), os.path.join(path, "driver"))
        if dev["class"].startswith("0x0604"):
            os.makedirs(os.path.join(path, "pci_bus", dev["address"]))
        if dev.get("iommu_group") is not None:
            members = os.path.join(groups, str(dev["iommu_group"]), "devices")
            os.makedirs(members, exist_ok=True)
            os.symlink(os.path.join("..", "..", "..", "..", "kernel", "iommu_groups", str(dev["iommu_group"])),
                       os.path.join(path, "iommu_group"))
            os.symlink(os.path.join("..", "..", "..", "..", "bus", "pci", "devices", dev["address"]),
                       os.path.join(members, dev["address"]))
    return str(root)
