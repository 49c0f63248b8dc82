# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the proxmox area is shown: its summary lines and Prometheus families. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

TITLES = {"nvidia": "NVIDIA", "amd": "AMD"}


def _function(item):
    kind = TITLES.get(item.get("gpu")) or "class %s" % item.get("class")
    return "%s %s %s" % (item.get("address"), kind, item.get("driver") or "no driver")


def summary_lines(fact):
    role = fact.get("role")
    if role == "none":
        return ["proxmox: not a Proxmox VE node or a QEMU/KVM guest"]
    if role == "guest":
        gpus = fact.get("gpus") or []
        expected = fact.get("guest_expected_gpus")
        return ["proxmox guest: %d GPU(s) on the PCI bus%s%s" % (
            len(gpus), " (%s expected)" % expected if expected else "",
            ": " + ", ".join(_function(g) for g in gpus) if gpus else "")]
    vms = [vm for vm in fact.get("vms") or [] if vm.get("hostpci")]
    lines = ["proxmox: node %s, %s VM(s), %d with PCI passthrough, IOMMU %s" % (
        fact.get("node"), "n/a" if fact.get("vm_count") is None else fact.get("vm_count"), len(vms),
        {True: "on", False: "off"}.get(fact.get("iommu_enabled"), "n/a"))]
    for vm in vms:
        functions = [item for entry in vm["hostpci"] for item in entry.get("functions") or []]
        missing = [m for entry in vm["hostpci"] for m in entry.get("missing") or []]
        lines.append("proxmox VM %s %s (%s%s): %s%s" % (
            vm.get("vmid"), vm.get("name") or "", vm.get("status") or "n/a", ", on boot" if vm.get("onboot") else "",
            ", ".join(_function(item) for item in functions) or "no device found",
            "; not on the bus: %s" % ", ".join(missing) if missing else ""))
    return lines


def metrics(fact, fam):
    for gpu in fact.get("gpus") or []:
        for vmid in gpu.get("held_by") or [None]:
            fam.add("gpufleet_proxmox_gpu_passthrough", "A GPU on a Proxmox node or guest: 1 per VM configured to hold "
                    "it (vmid empty: none), labelled with its bound driver.", "gauge",
                    {"role": fact.get("role") or "", "gpu": gpu.get("address") or "", "vmid": "" if vmid is None else str(vmid),
                     "driver": gpu.get("driver") or ""}, 1)
