# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The proxmox area's checks: the table (data) and the verdicts over what was collected.

Proxmox VE binds a passed-through device, and every other endpoint of its IOMMU group, to vfio-pci
when the VM starts (qemu-server ``prepare_pci_device``, pve-common ``pci_dev_group_bind_to_vfio``).
Tearing a GPU away from a host driver that holds it (nvidia, amdgpu, nouveau) at that moment is what
fails: the start hangs or errors, or the host loses its console. Hence the rule, one table for every
passthrough device (mediated devices, which keep their host driver, aside):

| bound to | VM running | VM starts on boot | otherwise |
| --- | --- | --- | --- |
| vfio-pci | ok | ok | ok |
| no driver | crit | warn | warn |
| a host driver | crit | crit | warn |

A running VM whose configured device is not on vfio-pci is not using it (a device that fell off the
bus, or a hostpci change pending until the VM restarts). Pure functions, no I/O, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.proxmox import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable

FIX_BIND = ("bind it to vfio-pci when the host boots: 'options vfio-pci ids=%s' in /etc/modprobe.d/vfio.conf "
            "(with 'softdep %s pre: vfio-pci', or the host driver blacklisted), then update-initramfs -u -k all "
            "and reboot the host")
FIX_IOMMU = ("enable VT-d / AMD-Vi in the firmware and the IOMMU on the kernel command line (intel_iommu=on; "
             "GRUB_CMDLINE_LINUX_DEFAULT, or /etc/kernel/cmdline and proxmox-boot-tool refresh), then reboot")

CHECKS = CheckTable(
    Check("proxmox", "On a host that is neither a Proxmox VE node nor a QEMU/KVM guest: says so (nothing else is "
          "checked).", fix="nothing to do"),
    Check("pve_api", "Whether the node's VMs and their configuration could be read (pvesh get /nodes/<node>/qemu, "
          "qm config).",
          fix="run 'pvesh get /nodes/<node>/qemu --output-format json' and 'qm config <vmid>' as root on the node; "
              "set the area's node option when the node name is not the short host name"),
    Check("iommu", "Whether the IOMMU is on (IOMMU groups in /sys/kernel/iommu_groups) on a node whose VMs pass "
          "PCI devices through.", fix=FIX_IOMMU),
    Check("gpu_host_driver", "Whether a GPU a VM passes through (hostpciN) is bound to vfio-pci rather than a host "
          "driver (nvidia, nouveau, amdgpu): crit when the VM runs or starts on boot.",
          subject=("vm", "device"), fix=FIX_BIND % ("<vendor:device>,...", "nvidia")),
    Check("hostpci_not_vfio", "Whether the other PCI functions a VM passes through (the GPU's audio, USB, a NIC...) "
          "are bound to vfio-pci: crit when the VM runs or starts on boot and they are held by a host driver.",
          subject=("vm", "device"), fix=FIX_BIND % ("<vendor:device>,...", "snd_hda_intel")),
    Check("hostpci_missing", "Whether every device a VM's hostpciN names (an address, or a cluster mapping for "
          "this node) is on the host's PCI bus: the VM cannot start without it.",
          subject=("vm", "device"),
          fix="compare 'qm config <vmid>' with lspci -nn (a card moved slot, or a firmware update renumbered the "
              "bus) and fix the VM's hostpci entry or the mapping (Datacenter > Resource Mappings)"),
    Check("iommu_group_shared", "Whether a passed-through device shares its IOMMU group with devices the VM does "
          "not get (bridges aside): Proxmox binds the whole group to vfio-pci when the VM starts.",
          subject=("vm", "iommu_group"),
          fix="pass every function of the group to the VM, or move the card to a slot with its own IOMMU group "
              "(often the CPU's x16 slot); the ACS override (pcie_acs_override=downstream) splits groups at the "
              "cost of isolation"),
    Check("guest_gpu", "Inside a QEMU/KVM guest: whether the passed-through GPUs are on its PCI bus (as many as "
          "guest_expected_gpus) with their vendor's driver bound.",
          fix="on the Proxmox node check the VM's hostpci entries (qm config <vmid>) and that the GPU is bound to "
              "vfio-pci (gpufleet_proxmox there), then power the VM off and on: a reboot inside the guest does "
              "not re-attach a device"),
)


def _urgency(vm, driver):
    """``(status, why)`` of a device that is not on vfio-pci (the table in the module docstring)."""
    if vm.get("status") == "running":
        return "crit", "VM %s is running and does not hold it (a pending hostpci change shows the same)" % vm["vmid"]
    if driver and vm.get("onboot"):
        return "crit", "VM %s starts on boot, when Proxmox must tear it from %s" % (vm["vmid"], driver)
    if vm.get("onboot"):
        return "warn", "VM %s starts on boot; Proxmox binds vfio-pci then" % vm["vmid"]
    return "warn", "VM %s is %s; Proxmox binds vfio-pci when it starts" % (vm["vmid"], vm.get("status") or "not running")


def _describe(item):
    return "%s [%s:%s]" % (item["address"], (item.get("vendor_id") or "?").replace("0x", ""),
                           (item.get("device_id") or "?").replace("0x", ""))


def device_checks(vm, entry, functions_of_vm):
    """``gpu_host_driver`` / ``hostpci_not_vfio`` for each function of one hostpci entry."""
    results = []
    ids = parse.vfio_ids(functions_of_vm)
    for item in entry.get("functions") or []:
        is_gpu = item.get("gpu") is not None
        check = CHECKS["gpu_host_driver" if is_gpu else "hostpci_not_vfio"]
        subject = {"vm": vm["vmid"], "device": item["address"]}
        what = "%s of VM %s (%s)" % (_describe(item), vm["vmid"], entry["key"])
        driver = item.get("driver")
        if driver == parse.VFIO:
            results.append(check.result("ok", driver, parse.VFIO, "%s is bound to vfio-pci" % what, subject=subject))
            continue
        status, why = _urgency(vm, driver)
        bound = "bound to %s" % driver if driver else "bound to no driver"
        fix = FIX_BIND % (ids or "<vendor:device>", driver or ("nvidia" if is_gpu else "snd_hda_intel"))
        results.append(check.result(status, driver, parse.VFIO, "%s is %s, not vfio-pci: %s" % (what, bound, why),
                                    subject=subject, fix=fix))
    return results


def missing_checks(vm, entry):
    results = []
    for missing in entry.get("missing") or []:
        running = vm.get("status") == "running"
        status = "crit" if running or vm.get("onboot") else "warn"
        why = ("it vanished while VM %s runs" % vm["vmid"] if running else
               "VM %s will not start%s" % (vm["vmid"], " at boot" if vm.get("onboot") else ""))
        results.append(CHECKS["hostpci_missing"].result(
            status, missing, "on the bus", "VM %s's %s (%s) names %s, which is not on this node's PCI bus: %s"
            % (vm["vmid"], entry["key"], entry["value"], missing, why), subject={"vm": vm["vmid"], "device": missing}))
    return results


def group_checks(vm, functions_of_vm, devices, holders):
    """``iommu_group_shared``: one result per IOMMU group of the VM's passed-through functions."""
    results = []
    mine = set(item["address"] for item in functions_of_vm)
    for group in sorted(set(item["iommu_group"] for item in functions_of_vm if item.get("iommu_group") is not None),
                        key=lambda g: (len(g), g)):
        others = [d for d in devices if d["iommu_group"] == group and d["address"] not in mine and not d["bridge"]]
        subject = {"vm": vm["vmid"], "iommu_group": group}
        if not others:
            results.append(CHECKS["iommu_group_shared"].result(
                "ok", [], [], "IOMMU group %s holds only what VM %s gets (and bridges)" % (group, vm["vmid"]),
                subject=subject))
            continue
        shown = []
        for device in others:
            also = [v for v in holders.get(device["address"], []) if v != vm["vmid"]]
            shown.append("%s class %s (%s%s)" % (device["address"], device["class"],
                                                 device["driver"] or "no driver",
                                                 ", passed to VM %s" % ", ".join(map(str, also)) if also else ""))
        results.append(CHECKS["iommu_group_shared"].result(
            "warn", [d["address"] for d in others], [], "IOMMU group %s of VM %s also holds %s: starting the VM binds "
            "them to vfio-pci too, away from the host" % (group, vm["vmid"], "; ".join(shown)), subject=subject))
    return results


def api_check(data):
    check = CHECKS["pve_api"]
    if data.get("api_error"):
        return check.unknown("the VMs of node %s could not be read (%s)" % (data.get("node"), data["api_error"]))
    failed = [vm for vm in data.get("vms") or [] if vm.get("config_error")]
    if failed:
        return check.unknown("the configuration of VM %s could not be read (%s)"
                             % (", ".join(str(vm["vmid"]) for vm in failed), "; ".join(vm["config_error"] for vm in failed)))
    passing = [vm for vm in data.get("vms") or [] if vm.get("hostpci")]
    return check.result("ok", data.get("vm_count"), None, "node %s: %s VM(s) read, %s with PCI passthrough"
                        % (data.get("node"), data.get("vm_count"), len(passing)))


def iommu_check(data, passing):
    if not passing:
        return None
    check = CHECKS["iommu"]
    if data.get("iommu_enabled"):
        return check.result("ok", True, True, "the IOMMU is on (%d VM(s) pass PCI devices through)" % len(passing))
    urgent = [vm["vmid"] for vm in passing if vm.get("status") == "running" or vm.get("onboot")]
    return check.result("crit" if urgent else "warn", False, True,
                        "the IOMMU is off (no IOMMU groups) but VM %s pass PCI devices through: they cannot start"
                        % ", ".join(str(vm["vmid"]) for vm in passing))


def guest_check(data):
    check = CHECKS["guest_gpu"]
    gpus, expected = data.get("gpus") or [], data.get("guest_expected_gpus")
    bound = [g for g in gpus if g.get("state") == "driver"]
    listed = ", ".join("%s (%s)" % (g["address"], g.get("driver") or "no driver") for g in gpus) or "none"
    if expected and len(gpus) < expected:
        return check.result("crit", len(gpus), expected, "%d passthrough GPU(s) expected, %d on this guest's PCI bus (%s): "
                            "the VM runs without its GPU" % (expected, len(gpus), listed))
    if len(bound) < len(gpus):
        return check.result("warn", len(bound), len(gpus), "GPU(s) on this guest's PCI bus without their vendor's "
                            "driver: %s" % listed,
                            fix="install or load the GPU driver in the guest (the NVIDIA driver, or amdgpu)")
    if not gpus:
        return check.result("ok", 0, expected, "no GPU on this guest's PCI bus, and none expected")
    return check.result("ok", len(bound), expected, "%d GPU(s) on this guest's PCI bus with their driver: %s" % (len(bound), listed))


def evaluate(data, params):
    """The checks of the proxmox fact (see docs/checks.md)."""
    if data["role"] == "none":
        dmi = data.get("dmi") or {}
        return [CHECKS["proxmox"].result("ok", "none", None, "not a Proxmox VE node (no /etc/pve) and not a QEMU/KVM "
                                         "guest (DMI %s / %s): nothing to check"
                                         % (dmi.get("sys_vendor") or "n/a", dmi.get("product_name") or "n/a"))]
    if data["role"] == "guest":
        if data.get("pci_error") and not data.get("gpus"):
            return [CHECKS["guest_gpu"].unknown("the PCI bus could not be read (%s)" % data["pci_error"],
                                                fix="check that /sys/bus/pci/devices is readable (root option)")]
        return [guest_check(data)]
    results = [api_check(data)]
    passing = [vm for vm in data.get("vms") or [] if vm.get("hostpci")]
    iommu = iommu_check(data, passing)
    if iommu is not None:
        results.append(iommu)
    devices = data.get("_devices") or []
    holders = {}
    for vm in passing:
        for entry in vm["hostpci"]:
            for item in entry.get("functions") or []:
                holders.setdefault(item["address"], []).append(vm["vmid"])
    for vm in passing:
        # Mediated devices (vGPU) keep their host driver, and their group: nothing to judge.
        entries = [entry for entry in vm["hostpci"] if not entry.get("mdev")]
        functions = [item for entry in entries for item in entry.get("functions") or []]
        for entry in entries:
            if entry.get("error"):
                results.append(CHECKS["hostpci_missing"].result(
                    "crit" if vm.get("onboot") or vm.get("status") == "running" else "warn", entry["value"], None,
                    "VM %s's %s (%s) is not valid: %s" % (vm["vmid"], entry["key"], entry["value"], entry["error"]),
                    subject={"vm": vm["vmid"], "device": entry["key"]}))
                continue
            if entry.get("unresolved"):
                results.append(CHECKS["hostpci_missing"].unknown(
                    "VM %s's %s (%s): %s" % (vm["vmid"], entry["key"], entry["value"], entry["unresolved"]),
                    subject={"vm": vm["vmid"], "device": "mapping %s" % entry["mapping"]},
                    fix="run 'pvesh get /cluster/mapping/pci --output-format json' as root on the node"))
                continue
            results.extend(missing_checks(vm, entry))
            results.extend(device_checks(vm, entry, functions))
        if data.get("iommu_enabled"):
            results.extend(group_checks(vm, functions, devices, holders))
    return results
