# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxmox VE passthrough, from what the tools print: pure functions, text or JSON in, dicts out.

- ``pvesh get /nodes/<node>/qemu --output-format json``: the node's VMs, their status.
- ``qm config <vmid>``: a VM's configuration (``key: value`` lines, the ``/etc/pve/qemu-server/<vmid>.conf``
  format), of which the ``hostpciN`` entries: qemu-server's property string
  ``[[host=]<HOSTPCIID[;HOSTPCIID2...]>][,mapping=<id>][,mdev=<type>][,pcie=<1|0>][,x-vga=<1|0>]...``,
  a HOSTPCIID being ``[domain:]bus:dev[.func]`` (hex; no function: every function of the device),
  as ``PVE/QemuServer/PCI.pm`` parses it.
- ``pvesh get /cluster/mapping/pci --output-format json``: cluster-wide device mappings
  (``map`` entries ``node=<n>,path=<id>[;<id>...],id=<vendor:device>,...``).
- The PCI bus as sysfs shows it (``_tools/pci_bus.py``), and DMI (is this a QEMU/KVM guest).

No I/O, no Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import proxmox_gate
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import parse as gpu_parse

HOSTPCI_KEY = re.compile(r"^hostpci(\d+)$")
# qemu-server's $PCIRE: an optional domain of 4+ hex digits, bus and device, an optional function.
_PCI_ID = re.compile(r"^(?:(?P<domain>[0-9a-f]{4,}):)?(?P<bus>[0-9a-f]{2}):(?P<slot>[0-9a-f]{2})(?:\.(?P<function>[0-9a-f]))?$")
_TRUE = ("1", "on", "yes", "true")
VFIO = "vfio-pci"
# The DMI vendor strings of a QEMU/KVM guest and the DMI files read: the platform gate's.
GUEST_DMI_PREFIXES = proxmox_gate.GUEST_DMI_PREFIXES
DMI_FIELDS = proxmox_gate.DMI_FIELDS


def pci_id(text):
    """A HOSTPCIID (``01:00.0``, ``0000:01:00``, ``1234:f0:43``) → ``{id, address, all_functions}``:
    ``address`` is the sysfs form (``0000:01:00.0``; without a function ``0000:01:00``). None when
    it is not one."""
    match = _PCI_ID.match((text or "").strip().lower())
    if not match:
        return None
    domain = match.group("domain") or "0000"
    prefix = "%04x:%s:%s" % (int(domain, 16), match.group("bus"), match.group("slot"))
    function = match.group("function")
    return {"id": text.strip(), "address": prefix + ("." + function if function else ""),
            "all_functions": function is None}


def parse_hostpci(value):
    """A ``hostpciN`` value → ``{value, ids, mapping, mdev, pcie, x_vga, error}``.

    ``ids``: the parsed HOSTPCIIDs of ``host`` (the property's default key: ``0000:01:00,pcie=1``
    has ``host=0000:01:00``); ``mapping``: a cluster mapping's id; ``mdev``: a mediated device type
    (NVIDIA vGPU and the like: the device keeps its host driver); ``error``: why it is not valid.
    """
    value = (value or "").strip()
    entry = {"value": value, "ids": [], "mapping": None, "mdev": None, "pcie": False, "x_vga": False, "error": None}
    host, options, stray = None, {}, []
    for index, part in enumerate(p.strip() for p in value.split(",")):
        if "=" in part:
            key, _sep, option = part.partition("=")
            options[key.strip()] = option.strip()
        elif index == 0 and part:
            host = part
        elif part:
            stray.append(part)
    host = options.pop("host", host)
    entry.update(mapping=options.get("mapping") or None, mdev=options.get("mdev") or None,
                 pcie=options.get("pcie", "").lower() in _TRUE, x_vga=options.get("x-vga", "").lower() in _TRUE)
    problems = ["unexpected %r" % part for part in stray]
    if host and entry["mapping"]:
        problems.append("both host and mapping are set")
    if host:
        for text in host.split(";"):
            parsed = pci_id(text)
            if parsed is None:
                problems.append("%r is not a PCI address" % text)
            else:
                entry["ids"].append(parsed)
    elif not entry["mapping"]:
        problems.append("neither a PCI address nor a mapping")
    entry["error"] = "; ".join(problems) or None
    return entry


def parse_qm_config(text):
    """``qm config`` text (or a ``qemu-server/<vmid>.conf``) → ``({key: value}, problems)``.

    The current configuration only: reading stops at the first ``[section]`` (snapshots, pending
    changes). ``#`` lines (the description in a .conf file) and blank lines are skipped.
    """
    config, problems = {}, []
    for number, line in enumerate((text or "").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            break
        key, sep, value = stripped.partition(":")
        if not sep or not key or " " in key:
            problems.append("line %d is not 'key: value': %r" % (number, stripped[:80]))
            continue
        config[key] = value.strip()
    return config, problems


def flag(value):
    """A Proxmox boolean (``1``, ``0``, ``on``...; a number in pvesh JSON) → bool."""
    return str(value if value is not None else "").strip().lower() in _TRUE


def hostpci_entries(config):
    """The ``hostpciN`` entries of a parsed configuration, in index order, each with its ``key``."""
    keys = sorted((int(HOSTPCI_KEY.match(key).group(1)), key) for key in config if HOSTPCI_KEY.match(key))
    return [dict(parse_hostpci(config[key]), key=key) for _index, key in keys]


def parse_vm_list(text):
    """``pvesh get /nodes/<node>/qemu --output-format json`` → VMs sorted by id:
    ``{vmid, name, status, template}`` (``vmid`` a number, also where PVE 6 printed ``"101"``).
    Raises ValueError when the text is not that list."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of VMs, got %s" % type(data).__name__)
    vms = []
    for item in data:
        if not isinstance(item, dict) or item.get("vmid") in (None, ""):
            raise ValueError("a VM without a vmid: %r" % (item,))
        vms.append({"vmid": int(item["vmid"]), "name": item.get("name"), "status": item.get("status"),
                    "template": flag(item.get("template"))})
    return sorted(vms, key=lambda vm: vm["vmid"])


def parse_pci_mappings(text, node):
    """``pvesh get /cluster/mapping/pci --output-format json`` → ``{mapping id: [[address, ...], ...]}``
    for ``node``: the alternatives its ``map`` entries give on that node (each a list of HOSTPCIIDs,
    parsed as :func:`pci_id`). Raises ValueError when the text is not that list."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of mappings, got %s" % type(data).__name__)
    mappings = {}
    for item in data:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        entries = item.get("map") or []
        for entry in entries if isinstance(entries, list) else [entries]:
            fields = dict(part.split("=", 1) for part in str(entry).split(",") if "=" in part)
            if fields.get("node") != node or not fields.get("path"):
                continue
            mappings.setdefault(item["id"], []).append([pci_id(path) for path in fields["path"].split(";")])
    return mappings


def matching(ids, devices):
    """The devices (``_tools/pci_bus`` records) each HOSTPCIID names: ``(found, missing ids)``."""
    found, missing = [], []
    for parsed in ids:
        if parsed is None:
            continue
        if parsed["all_functions"]:
            hits = [d for d in devices if d["address"].rsplit(".", 1)[0] == parsed["address"]]
        else:
            hits = [d for d in devices if d["address"] == parsed["address"]]
        if hits:
            found.extend(d for d in hits if d not in found)
        else:
            missing.append(parsed["id"])
    return found, missing


def gpu_of(device):
    """The gpu area's view of a PCI device (``{vendor: nvidia|amd, state...}``), or None: not a GPU."""
    return gpu_parse.pci_gpu(device["address"], device["vendor"], device["class"], device["driver"])


def function(device):
    """The fact's record of one passed-through PCI function."""
    gpu = gpu_of(device)
    return {"address": device["address"], "vendor_id": device["vendor"], "device_id": device["device"],
            "class": device["class"], "driver": device["driver"], "iommu_group": device["iommu_group"],
            "gpu": gpu["vendor"] if gpu else None}


def vfio_ids(functions):
    """``10de:2204,10de:1aef``: the ``vendor:device`` ids for ``options vfio-pci ids=...``."""
    ids = []
    for item in functions:
        if item.get("vendor_id") and item.get("device_id"):
            pair = "%s:%s" % (item["vendor_id"].replace("0x", ""), item["device_id"].replace("0x", ""))
            if pair not in ids:
                ids.append(pair)
    return ",".join(ids)


def qemu_guest(dmi):
    """Whether the DMI strings (``{sys_vendor, product_name, ...}``) are a QEMU/KVM guest's (the platform
    gate's test, ``_areas/proxmox_gate.py``)."""
    return proxmox_gate.qemu_guest(dmi)
