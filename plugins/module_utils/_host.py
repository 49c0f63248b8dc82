# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host basics for the health summary: uptime, load, memory, disk use of given paths.

Parsers take text and return plain dicts; ``gather()`` reads the files below ``root``.
No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import platform
import socket

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import (
    level_check,
    make_check,
    worst_status,
)

SCHEMA_VERSION = 1

DEFAULT_THRESHOLDS = {
    "disk_used_warn_pct": 80,
    "disk_used_crit_pct": 85,
    "memory_available_warn_pct": 10,
    "memory_available_crit_pct": 5,
}


def parse_uptime(text):
    """``/proc/uptime`` → seconds since boot (int), or None when unreadable."""
    try:
        return int(float(text.split()[0]))
    except (IndexError, ValueError, AttributeError):
        return None


def parse_loadavg(text):
    """``/proc/loadavg`` → ``{load_1m, load_5m, load_15m}`` (floats or None)."""
    parts = (text or "").split()
    result = {}
    for index, key in enumerate(("load_1m", "load_5m", "load_15m")):
        try:
            result[key] = float(parts[index])
        except (IndexError, ValueError):
            result[key] = None
    return result


def parse_meminfo(text):
    """``/proc/meminfo`` → ``{memory_total_bytes, memory_available_bytes, memory_available_pct}``."""
    values = {}
    for line in (text or "").splitlines():
        name, _sep, rest = line.partition(":")
        fields = rest.split()
        if not fields:
            continue
        try:
            number = int(fields[0])
        except ValueError:
            continue
        unit = fields[1].lower() if len(fields) > 1 else ""
        values[name.strip()] = number * 1024 if unit == "kb" else number
    total = values.get("MemTotal")
    available = values.get("MemAvailable")
    pct = round(100.0 * available / total, 1) if total and available is not None else None
    return {
        "memory_total_bytes": total,
        "memory_available_bytes": available,
        "memory_available_pct": pct,
    }


def parse_mounts(text):
    """``/proc/self/mounts`` → list of ``{device, mount, fstype}`` (octal escapes decoded)."""
    mounts = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        mounts.append({
            "device": _unescape(fields[0]),
            "mount": _unescape(fields[1]),
            "fstype": fields[2],
        })
    return mounts


def mount_for(path, mounts):
    """The mount entry whose mount point is the longest prefix of ``path`` (None if none)."""
    best = None
    for entry in mounts:
        point = entry["mount"]
        prefix = point if point.endswith("/") else point + "/"
        if path == point or path.startswith(prefix) or point == "/":
            if best is None or len(point) >= len(best["mount"]):
                best = entry
    return best


def disk_usage(statvfs):
    """``os.statvfs`` result → sizes as ``df`` shows them (used % of the space users can get)."""
    size = statvfs.f_blocks * statvfs.f_frsize
    free = statvfs.f_bfree * statvfs.f_frsize
    avail = statvfs.f_bavail * statvfs.f_frsize
    used = size - free
    usable = used + avail
    pct = round(100.0 * used / usable, 1) if usable else None
    return {
        "size_bytes": size,
        "used_bytes": used,
        "free_bytes": avail,
        "used_pct": pct,
    }


def disk_checks(disks, thresholds):
    """One ``disk_used`` check per path (absent paths are reported ok, with a note)."""
    checks = []
    for disk in disks:
        if not disk.get("present"):
            checks.append(make_check("disk_used", "ok", None, thresholds["disk_used_warn_pct"],
                                     "%s does not exist on this host; nothing to check" % disk["path"],
                                     path=disk["path"]))
            continue
        checks.append(level_check(
            "disk_used", disk["used_pct"],
            warn=thresholds["disk_used_warn_pct"], crit=thresholds["disk_used_crit_pct"], unit=" %",
            what="disk use of %s (%s)" % (disk["path"], disk["mount"]),
            fix="free space (docker_hygiene, old models, logs) or grow the filesystem",
            path=disk["path"],
        ))
    return checks


def memory_check(memory, thresholds):
    return level_check(
        "memory_available", memory.get("memory_available_pct"),
        warn=thresholds["memory_available_warn_pct"], crit=thresholds["memory_available_crit_pct"],
        unit=" %", what="available RAM", higher_is_worse=False,
        fix="a model runner may be swapping or leaking; check the largest processes",
    )


def gather(paths, thresholds=None, root="/"):
    """Read the host's basics and return the ``gpufleet_host`` fact (with checks and status)."""
    limits = dict(DEFAULT_THRESHOLDS)
    limits.update(thresholds or {})
    warnings = []

    def read(relative):
        try:
            with open(os.path.join(root, relative.lstrip("/")), "r") as handle:
                return handle.read()
        except (IOError, OSError) as exc:
            warnings.append("could not read %s: %s" % (relative, exc))
            return ""

    mounts = parse_mounts(read("/proc/self/mounts"))
    disks = []
    for path in paths:
        expanded = os.path.expanduser(path)
        entry = {"path": path, "present": os.path.exists(expanded), "mount": None, "device": None,
                 "fstype": None, "size_bytes": None, "used_bytes": None, "free_bytes": None, "used_pct": None}
        if entry["present"]:
            real = os.path.realpath(expanded)
            mount = mount_for(real, mounts) or {}
            entry.update(mount=mount.get("mount"), device=mount.get("device"), fstype=mount.get("fstype"))
            try:
                entry.update(disk_usage(os.statvfs(real)))
            except OSError as exc:
                warnings.append("could not stat %s: %s" % (path, exc))
        disks.append(entry)

    memory = parse_meminfo(read("/proc/meminfo"))
    checks = disk_checks(disks, limits) + [memory_check(memory, limits)]
    facts = {
        "schema_version": SCHEMA_VERSION,
        "hostname": socket.gethostname(),
        "kernel_release": platform.release(),
        "architecture": platform.machine(),
        "uptime_s": parse_uptime(read("/proc/uptime")),
        "cpu_count": os.cpu_count(),
        "disks": disks,
        "thresholds": limits,
        "checks": checks,
        "status": worst_status(checks),
    }
    facts.update(parse_loadavg(read("/proc/loadavg")))
    facts.update(memory)
    return facts, warnings


def _unescape(field):
    """Decode the octal escapes of /proc/self/mounts (``\\040`` is a space)."""
    if "\\" not in field:
        return field
    out = []
    index = 0
    while index < len(field):
        if field[index] == "\\" and index + 3 < len(field) and field[index + 1:index + 4].isdigit():
            out.append(chr(int(field[index + 1:index + 4], 8)))
            index += 4
        else:
            out.append(field[index])
            index += 1
    return "".join(out)
