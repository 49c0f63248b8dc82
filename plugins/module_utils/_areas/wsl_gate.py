# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform gate of the area ``wsl``: is this host WSL at all? The one place that says it.

``_areas/gather.py`` asks :func:`may_apply` before it imports the area when ``only_on_wsl`` is true,
so a host that is not WSL pays for reading ``/proc/version`` and not for compiling the area. The
area's own ``collect.py`` (the Darwin short cut, the path below ``root``) and ``parse.py`` (the kernel
string) use the functions here, so the gate and the area cannot disagree.

Standard library only (and the macos gate's kernel name), no import of the area (importing
``_areas/wsl`` would import all of it): this file lies beside the area's folder, not in it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

# the kernel name as the macos gate reads it (a sibling gate, standard library only itself)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos_gate import DARWIN, kernel_name

PROC_VERSION = "/proc/version"


def path_under(root, path):
    """``path`` read below ``root`` (``""`` and ``/`` are this host's own tree)."""
    return os.path.join(root, path.lstrip("/")) if root not in ("", "/") else path


def darwin(root, system=None):
    """Whether the tree read is this host's own and the host is macOS: no ``/proc/version``, never WSL.

    ``system``: the kernel name to judge (the tests'); this host's when None."""
    return root in ("", "/") and (system or kernel_name()) == DARWIN


def wsl_kernel(proc_version):
    """Whether the kernel string ``proc_version`` (``/proc/version``) is a WSL kernel's (WSL1 or WSL2).

    WSL kernels name Microsoft (``*-microsoft-standard-WSL2``, ``*-Microsoft``); no other kernel does."""
    return "microsoft" in (proc_version or "").lower()


def may_apply(options):
    """False only when this host is certainly not WSL; True when it is, or when that cannot be told.

    ``options``: the area's raw options (not validated: ``root`` and ``proc_version_path`` absent or
    None are their defaults; a value that is not a plain string, or one that validation would expand,
    ``~`` or ``$``, cannot be told here). An unreadable kernel string cannot be told either: the area
    runs and reports it unknown.
    """
    root = options.get("root")
    path = options.get("proc_version_path")
    root = "/" if root is None else root
    path = PROC_VERSION if path is None else path
    if not all(isinstance(value, str) and "~" not in value and "$" not in value for value in (root, path)):
        return True
    if darwin(root):
        return False
    try:
        with open(path_under(root, path), "r") as handle:
            return wsl_kernel(handle.read())
    except (IOError, OSError, ValueError, UnicodeError):
        return True
