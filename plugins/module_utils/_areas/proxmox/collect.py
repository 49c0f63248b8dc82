# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a Proxmox VE node (its VMs through ``pvesh`` and ``qm``, its PCI bus and IOMMU groups) or a
QEMU/KVM guest (its PCI bus); files below ``root``.

I/O only, through the collection's runner; parsing in ``parse.py``, verdicts in ``checks.py``. No
Ansible import. A node is a host with ``/etc/pve`` (the cluster file system's mount point); a guest
is one whose DMI strings say QEMU or KVM.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import proxmox_gate
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.proxmox import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import pci_bus

# What a node and a guest are (and the DMI strings read) is said by the platform gate, which
# _areas/gather.py asks first (only_on_proxmox): there any other host does not even import this file.
read_dmi = proxmox_gate.read_dmi


def _tool(run_command, argv, timeout):
    """``(stdout, problem)`` of one pvesh/qm command: the problem names the command and what it said."""
    try:
        result = _runner.run(run_command, argv, timeout=timeout)
    except _runner.ToolError as exc:
        return None, str(exc)
    if result.rc != 0:
        said = (result.stderr or result.stdout or "").strip().splitlines()
        command = " ".join([os.path.basename(argv[0])] + [str(a) for a in argv[1:3]])
        return None, "%s exited %s%s" % (command, result.rc, ": %s" % said[-1] if said else "")
    return result.stdout, None


def _vms(run_command, pvesh, qm, node, timeout, warnings):
    """``(vms, problem)``: the node's VMs (templates left out) with their configuration read."""
    out, problem = _tool(run_command, [pvesh, "get", "/nodes/%s/qemu" % node, "--output-format", "json"], timeout)
    if problem:
        return [], problem
    try:
        listed = parse.parse_vm_list(out)
    except ValueError as exc:
        return [], "pvesh get /nodes/%s/qemu printed no VM list: %s" % (node, exc)
    vms = []
    for item in listed:
        if item["template"]:
            continue
        vm = {"vmid": item["vmid"], "name": item["name"], "status": item["status"], "onboot": None,
              "config_error": None, "hostpci": []}
        text, problem = _tool(run_command, [qm, "config", str(item["vmid"])], timeout)
        if problem:
            vm["config_error"] = problem
        else:
            config, problems = parse.parse_qm_config(text)
            warnings.extend("qm config %s: %s" % (item["vmid"], p) for p in problems)
            vm["name"] = vm["name"] or config.get("name")
            vm["onboot"] = parse.flag(config.get("onboot"))
            vm["hostpci"] = parse.hostpci_entries(config)
        vms.append(vm)
    return vms, None


def _resolve(vms, devices, mappings):
    """Each hostpci entry's PCI functions (``functions``) and what of it is not on this host (``missing``)."""
    for vm in vms:
        for entry in vm["hostpci"]:
            entry["functions"], entry["missing"], entry["unresolved"], ids = [], [], None, entry["ids"]
            if entry["mapping"]:
                alternatives = (mappings or {}).get(entry["mapping"])
                if mappings is None:
                    entry["unresolved"] = "the cluster's PCI mappings could not be read"
                    continue
                if not alternatives:
                    entry["missing"] = ["mapping %s (no entry for this node)" % entry["mapping"]]
                    continue
                # Proxmox takes the first free alternative; the fact shows the first that is on the bus.
                ids = next((alt for alt in alternatives if parse.matching(alt, devices)[0]), alternatives[0])
            found, missing = parse.matching(ids, devices)
            entry["functions"] = [parse.function(device) for device in found]
            entry["missing"] = missing


def _gpus(devices, vms):
    gpus = []
    for device in devices:
        gpu = parse.gpu_of(device)
        if gpu is None:
            continue
        held_by = [vm["vmid"] for vm in vms
                   if any(f["address"] == device["address"] for entry in vm["hostpci"] for f in entry.get("functions", []))]
        gpus.append(dict(parse.function(device), state=gpu["state"], held_by=held_by))
    return gpus


def _empty(role, dmi):
    return {"role": role, "node": None, "dmi": dmi, "iommu_enabled": None, "pci_error": None, "api_error": None,
            "vm_count": None, "vms": [], "gpus": [], "guest_expected_gpus": None}


def collect(run_command, params):
    """``(data, warnings)``: the ``gpufleet_proxmox`` readings. With ``only_on_proxmox``, a host that is
    neither a node nor a QEMU/KVM guest with a GPU (or an expected one) gives ``(None, warnings)``."""
    root, warnings = params.get("root") or "/", []
    dmi = read_dmi(root)
    role = proxmox_gate.role(root, dmi)
    if role == "none":
        return (None, warnings) if params.get("only_on_proxmox") else (_empty(role, dmi), warnings)

    bus = pci_bus.read_devices(root)
    devices = bus["devices"]
    data = _empty(role, dmi)
    data.update(pci_error=bus["error"], _devices=devices)
    if bus["error"]:
        warnings.append(bus["error"])

    if role == "guest":
        data["guest_expected_gpus"] = params.get("guest_expected_gpus")
        data["gpus"] = _gpus(devices, [])
        if params.get("only_on_proxmox") and not data["gpus"] and not data["guest_expected_gpus"] and not bus["error"]:
            return None, warnings
        return data, warnings

    groups = pci_bus.iommu_groups(root)
    data["iommu_enabled"] = bool(groups) or any(d["iommu_group"] is not None for d in devices)
    node = params.get("node") or socket.gethostname().split(".")[0]
    data["node"] = node
    timeout = int(params["timeout"])
    pvesh = _runner.find_tool("pvesh", params.get("pvesh_path"))
    qm = _runner.find_tool("qm", params.get("qm_path"))
    if not pvesh or not qm:
        missing = " and ".join(name for name, path in (("pvesh", pvesh), ("qm", qm)) if not path)
        data["api_error"] = "%s not found%s" % (missing, "" if root in ("", "/") else " (root is %s)" % root)
        return data, warnings
    vms, data["api_error"] = _vms(run_command, pvesh, qm, node, timeout, warnings)
    mappings = {}
    if any(entry["mapping"] for vm in vms for entry in vm["hostpci"]):
        out, problem = _tool(run_command, [pvesh, "get", "/cluster/mapping/pci", "--output-format", "json"], timeout)
        try:
            mappings = parse.parse_pci_mappings(out, node) if out is not None else None
        except ValueError as exc:
            problem = "pvesh get /cluster/mapping/pci: %s" % exc
            mappings = None
        if problem:
            warnings.append(problem)
    _resolve(vms, devices, mappings)
    data["vm_count"] = len(vms) if not data["api_error"] else None
    data["vms"] = [vm for vm in vms if vm["hostpci"] or vm["config_error"]]
    data["gpus"] = _gpus(devices, data["vms"])
    return data, warnings
