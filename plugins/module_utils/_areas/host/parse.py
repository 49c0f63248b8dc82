# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host basics from /proc text: uptime, load, memory, mounts; disk use from a statvfs result.

Text in, plain dicts out. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


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
