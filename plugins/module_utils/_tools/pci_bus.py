# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The devices on the PCI bus, read from sysfs below a root: what the kernel says of each device.

``<root>/sys/bus/pci/devices/<address>/`` holds ``vendor``, ``device`` and ``class`` (hex text),
the ``driver`` link (the bound kernel driver, absent when none), the ``iommu_group`` link (absent
when the IOMMU is off) and, for bridges, a ``pci_bus`` directory (how Proxmox VE tells bridges
from endpoints when it binds an IOMMU group to vfio-pci). Used by the gpu area (GPUs no driver
reports) and the proxmox area (passthrough). I/O only, no Ansible import; ``root`` lets tests
point at a tree written from captures (tests/testlib/pci_tree.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

DEVICES = os.path.join("sys", "bus", "pci", "devices")
IOMMU_GROUPS = os.path.join("sys", "kernel", "iommu_groups")


def _link_name(path):
    return os.path.basename(os.readlink(path)) if os.path.islink(path) else None


def _text(path):
    with open(path) as handle:
        return handle.read().strip().lower()


def read_devices(root):
    """``{path, error, devices}``: every device under ``<root>/sys/bus/pci/devices``.

    A device is ``{address, vendor, device, class, driver, iommu_group, bridge}``; ``vendor``,
    ``device`` and ``class`` as sysfs prints them (``0x10de``, ``0x2204``, ``0x030000``),
    ``iommu_group`` the group's number as text (None without an IOMMU), ``device`` None when the
    file is missing. ``error`` says why the bus (or some devices) could not be read; with the bus
    unreadable ``devices`` is empty: nobody looked.
    """
    path = os.path.join(root or "/", DEVICES)
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        return {"path": path, "error": "could not read %s: %s" % (path, exc.strerror or exc), "devices": []}
    devices, unreadable = [], []
    for name in names:
        base = os.path.join(path, name)
        try:
            vendor = _text(os.path.join(base, "vendor"))
            klass = _text(os.path.join(base, "class"))
        except (IOError, OSError) as exc:
            unreadable.append("%s: %s" % (name, exc.strerror or exc))
            continue
        try:
            device = _text(os.path.join(base, "device"))
        except (IOError, OSError):
            device = None
        devices.append({"address": name, "vendor": vendor, "device": device, "class": klass,
                        "driver": _link_name(os.path.join(base, "driver")),
                        "iommu_group": _link_name(os.path.join(base, "iommu_group")),
                        "bridge": os.path.isdir(os.path.join(base, "pci_bus")) or klass.startswith("0x0604")})
    error = "could not read %d device(s) under %s (%s)" % (len(unreadable), path, "; ".join(unreadable)) if unreadable else None
    return {"path": path, "error": error, "devices": devices}


def iommu_groups(root):
    """The IOMMU group numbers under ``<root>/sys/kernel/iommu_groups`` (empty: the IOMMU is off), or
    None when the directory cannot be read (a kernel without IOMMU support has none)."""
    try:
        return sorted(os.listdir(os.path.join(root or "/", IOMMU_GROUPS)), key=lambda n: (len(n), n))
    except OSError:
        return None
