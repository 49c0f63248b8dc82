# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform gate of the area ``proxmox``: is this host a Proxmox VE node or a QEMU/KVM guest at all?
The one place that says it.

``_areas/gather.py`` asks :func:`may_apply` before it imports the area when ``only_on_proxmox`` is
true, so any other host pays for a look at ``/etc/pve`` and four DMI files and not for compiling the
area. The area's own ``collect.py`` (its role: host, guest or none) and ``parse.py`` (a guest's DMI
strings) use the functions here, so the gate and the area cannot disagree. Whether a guest has a GPU
(or is expected to) is the area's to say: a guest always passes the gate.

Standard library only, and no import of the area (importing ``_areas/proxmox`` would import all of
it): this file lies beside the area's folder, not in it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

DMI_DIR = os.path.join("sys", "class", "dmi", "id")
DMI_FIELDS = ("sys_vendor", "product_name", "bios_vendor", "board_vendor")
# The DMI vendor strings of a QEMU/KVM guest (systemd-detect-virt's table: "QEMU", "KVM").
GUEST_DMI_PREFIXES = ("QEMU", "KVM")


def under(root, path):
    """``path`` below ``root`` (None or ``""``: this host's own tree)."""
    return os.path.join(root or "/", path.lstrip("/"))


def read_dmi(root):
    """``{sys_vendor, product_name, bios_vendor, board_vendor}`` below ``root`` (None where a file is missing)."""
    dmi = {}
    for name in DMI_FIELDS:
        try:
            with open(os.path.join(root or "/", DMI_DIR, name)) as handle:
                dmi[name] = handle.read().strip() or None
        except (IOError, OSError):
            dmi[name] = None
    return dmi


def qemu_guest(dmi):
    """Whether the DMI strings (``{sys_vendor, product_name, ...}``) are a QEMU/KVM guest's."""
    return any(str(dmi.get(name) or "").startswith(GUEST_DMI_PREFIXES) for name in DMI_FIELDS)


def role(root, dmi):
    """``host`` (a node: it has ``/etc/pve``, the cluster file system's mount point), ``guest`` (its DMI
    strings, ``dmi`` as :func:`read_dmi` gives them, say QEMU or KVM) or ``none``."""
    if os.path.isdir(under(root, "/etc/pve")):
        return "host"
    if qemu_guest(dmi):
        return "guest"
    return "none"


def may_apply(options):
    """False only when this host is certainly neither a node nor a QEMU/KVM guest; True otherwise.

    ``options``: the area's raw options (not validated): ``root`` absent or None is ``/``; a value that
    is not a plain string, or one that validation would expand (``~``, ``$``), cannot be told here.
    """
    root = options.get("root")
    root = "/" if root is None else root
    if not isinstance(root, str) or "~" in root or "$" in root:
        return True
    try:
        return role(root, read_dmi(root)) != "none"
    except (ValueError, UnicodeError):
        return True
