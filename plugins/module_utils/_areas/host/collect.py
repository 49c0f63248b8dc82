# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the host: /proc files below ``root`` and the disk use of the watched paths.

I/O only; parsing is in ``parse.py``, verdicts in ``checks.py``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import platform
import socket

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.host import parse


def read_disks(paths, mounts, warnings):
    """One entry per watched path: present or not, its mount and the use of its filesystem."""
    disks = []
    for path in paths:
        expanded = os.path.expanduser(path)
        entry = {"path": path, "present": os.path.exists(expanded), "mount": None, "device": None,
                 "fstype": None, "size_bytes": None, "used_bytes": None, "free_bytes": None, "used_pct": None}
        if entry["present"]:
            real = os.path.realpath(expanded)
            mount = parse.mount_for(real, mounts) or {}
            entry.update(mount=mount.get("mount"), device=mount.get("device"), fstype=mount.get("fstype"))
            try:
                entry.update(parse.disk_usage(os.statvfs(real)))
            except OSError as exc:
                warnings.append("could not stat %s: %s" % (path, exc))
        disks.append(entry)
    return disks


def collect(run_command, params, root="/", system=None):
    """``(data, warnings)``: the host's readings, before any verdict (``run_command`` is not needed).

    macOS has no /proc: there the disks are read, the load comes from ``os.getloadavg()`` and memory is
    left to the ``macos`` area (memory pressure, not available bytes); nothing is read from /proc.
    """
    if (system or platform.system()) == "Darwin":
        return _darwin(params)
    warnings = []

    def read(relative):
        try:
            with open(os.path.join(root, relative.lstrip("/")), "r") as handle:
                return handle.read()
        except (IOError, OSError) as exc:
            warnings.append("could not read %s: %s" % (relative, exc))
            return ""

    mounts = parse.parse_mounts(read("/proc/self/mounts"))
    data = {
        "hostname": socket.gethostname(),
        "kernel_release": platform.release(),
        "architecture": platform.machine(),
        "uptime_s": parse.parse_uptime(read("/proc/uptime")),
        "cpu_count": os.cpu_count(),
        "disks": read_disks(params["paths"], mounts, warnings),
    }
    data.update(parse.parse_loadavg(read("/proc/loadavg")))
    data.update(parse.parse_meminfo(read("/proc/meminfo")))
    return data, warnings


def _darwin(params):
    warnings = []
    data = {
        "hostname": socket.gethostname(),
        "kernel_release": platform.release(),
        "architecture": platform.machine(),
        "uptime_s": None,
        "cpu_count": os.cpu_count(),
        "disks": read_disks(params["paths"], [], warnings),
        # memory_available is not judged here on macOS: the macos area judges memory pressure
        "_memory_elsewhere": "macos",
    }
    data.update(parse.parse_loadavg(" ".join("%.2f" % load for load in os.getloadavg())))
    data.update(parse.parse_meminfo(""))
    return data, warnings
