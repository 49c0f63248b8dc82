# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GPUs on the PCI bus, from the sysfs text of each device, whatever the driver says.

A GPU the driver cannot see (its kernel module was not built for a new kernel, or not loaded) is
still on the PCI bus: ``/sys/bus/pci/devices/<address>/vendor`` is ``0x10de`` (NVIDIA) or ``0x1002``
(AMD) and ``class`` is a display controller (``0x03xxxx``: VGA, 3D, other) or, for AMD's Instinct
accelerators, a processing accelerator (``0x1200xx``). The ``driver`` link names the kernel driver
bound to it, if any. Pure functions: text in, dicts out; no I/O, no Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

VENDORS = {"0x10de": "nvidia", "0x1002": "amd"}
# Class code prefixes (base class and subclass as sysfs prints them) that make a device a GPU.
GPU_CLASSES = {"nvidia": ("0x03",), "amd": ("0x03", "0x1200")}
# The kernel driver each vendor's GPU tools need; any other (none, nouveau, radeon) means "not loaded".
VENDOR_DRIVERS = {"nvidia": ("nvidia",), "amd": ("amdgpu",)}
# A GPU bound to one of these is handed to virtual machines: not this host's to use.
PASSTHROUGH_DRIVERS = ("vfio-pci", "pci-stub")
TITLES = {"nvidia": "NVIDIA", "amd": "AMD"}


def pci_gpu(address, vendor_text, class_text, driver=None):
    """One device's sysfs ``vendor`` and ``class`` text (and the name of its bound driver) →
    ``{address, vendor, class, driver, state}``, or None when it is not an NVIDIA/AMD GPU.

    ``state``: ``driver`` (its vendor's driver is bound), ``passthrough`` (vfio-pci, pci-stub) or
    ``no_driver`` (nothing, or another driver such as nouveau, is bound).
    """
    vendor = VENDORS.get((vendor_text or "").strip().lower())
    klass = (class_text or "").strip().lower()
    if vendor is None or not klass.startswith(GPU_CLASSES[vendor]):
        return None
    if driver in VENDOR_DRIVERS[vendor]:
        state = "driver"
    elif driver in PASSTHROUGH_DRIVERS:
        state = "passthrough"
    else:
        state = "no_driver"
    return {"address": address, "vendor": vendor, "class": klass, "driver": driver, "state": state}


def bus_id_key(bus_id):
    """``00000000:3B:00.0`` (NVML, nvidia-smi) or ``0000:3b:00.0`` (sysfs, amd-smi) → a comparable
    ``(domain, bus, device, function)``; None when it is not a PCI address."""
    try:
        rest, function = str(bus_id).strip().rsplit(".", 1)
        domain, bus, device = rest.split(":")[-3:] if rest.count(":") >= 2 else ["0"] + rest.split(":")
        return (int(domain, 16), int(bus, 16), int(device, 16), int(function, 16))
    except (ValueError, AttributeError):
        return None


def unreported(pci_gpus, sections):
    """The GPUs on the bus that their vendor's tools did not report.

    ``sections``: ``{"nvidia": facts, "amd": facts}``. A GPU counts as reported when its vendor's
    section lists a GPU at its address; when that section lists a GPU without an address (amd-smi
    without ``static``, a GPU lost before its address was read), every GPU of that vendor counts as
    reported, since they cannot be told apart.
    """
    missing = []
    for gpu in pci_gpus or []:
        section = sections.get(gpu["vendor"]) or {}
        listed = (section.get("gpus") or []) if section.get("present") else []
        keys = [bus_id_key(entry.get("pci_bus_id")) for entry in listed]
        if listed and (None in keys or bus_id_key(gpu["address"]) in keys):
            continue
        missing.append(gpu)
    return missing


def describe(gpu):
    """``NVIDIA GPU 0000:3b:00.0 (no driver bound)`` / ``(bound to nouveau)`` / ``(nvidia driver loaded)``."""
    if gpu["state"] == "driver":
        how = "%s driver loaded" % gpu["driver"]
    elif gpu["driver"]:
        how = "bound to %s" % gpu["driver"]
    else:
        how = "no driver bound"
    return "%s GPU %s (%s)" % (TITLES[gpu["vendor"]], gpu["address"], how)
