# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The maintenance area's readings from captured text: journal and log lines, CPU and BIOS data,
apt's settings and timer units.

Text in, plain dicts out. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import re

PATTERNS = {
    "timeouts": re.compile(r"timed? ?out|timeout", re.I),
    "oom": re.compile(r"out of memory|oom-kill|oom_reaper|CUDA error: out of memory", re.I),
    "xid": re.compile(r"NVRM: Xid", re.I),
    "errors": re.compile(r"\berror\b", re.I),
}
DRIVER_PACKAGES = re.compile(r"nvidia|cuda|rocm|amdgpu|linux-image", re.I)


# ---------------------------------------------------------------- journal and runner logs

def empty_counts():
    return {"errors": 0, "timeouts": 0, "oom": 0, "xid": 0}


def count_lines(lines, counts=None):
    """Count error/timeout/OOM/Xid lines (plain text)."""
    counts = counts if counts is not None else empty_counts()
    for line in lines:
        for name, pattern in PATTERNS.items():
            if pattern.search(line):
                counts[name] += 1
    return counts


def journal_message(entry):
    """The ``MESSAGE`` of a ``journalctl -o json`` entry as text (journald gives binary ones as byte arrays)."""
    message = entry.get("MESSAGE")
    if isinstance(message, list):
        try:
            message = bytes(message).decode("utf-8", "replace")
        except (TypeError, ValueError):
            message = ""
    return message if isinstance(message, str) else ""


def journal_entries(text):
    """``journalctl -o json`` output (one object a line) → the entries that parse as JSON objects."""
    entries = []
    for raw in (text or "").splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def parse_journal_json(text):
    """``journalctl -o json`` lines → counts; priority <= 3 counts as an error too."""
    counts = empty_counts()
    entries = journal_entries(text)
    for entry in entries:
        before = counts["errors"]
        count_lines([journal_message(entry)], counts)
        try:
            priority = int(entry.get("PRIORITY", 6))
        except (TypeError, ValueError):
            priority = 6
        if priority <= 3 and counts["errors"] == before:
            counts["errors"] += 1
    return counts, len(entries)


# Groups whose members read the whole journal (systemd's defaults, and wheel on Fedora-like systems).
JOURNAL_GROUPS = ("systemd-journal", "adm", "wheel")


def journal_access_limit(euid, group_names):
    """Why journalctl would show only part of the journal to this user (None: it shows all of it)."""
    if euid == 0 or any(name in JOURNAL_GROUPS for name in group_names):
        return None
    return ("journalctl runs as uid %d, which is neither root nor in the %s group: it sees only its own "
            "entries" % (euid, "/".join(JOURNAL_GROUPS)))


def parse_list_boots(text):
    """``journalctl --list-boots -o json`` (systemd >= 251) → ``[{index, boot_id, first_s, last_s}]``,
    oldest first; None when the text is not that JSON (an older journalctl prints its table)."""
    try:
        rows = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(rows, list):
        return None
    boots = []
    for row in rows:
        if not isinstance(row, dict) or not row.get("boot_id"):
            continue
        boots.append({"index": row.get("index"), "boot_id": row["boot_id"],
                      "first_s": _usec(row.get("first_entry")), "last_s": _usec(row.get("last_entry"))})
    return boots


_BOOT_ROW = re.compile(r"^\s*(?P<index>-?\d+)\s+(?P<boot_id>[0-9a-f]{32})\s+\w+ (?P<first>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) "
                       r"(?P<tz1>[^\s\u2014]+)\s*(?:\u2014|\s)\s*\w+ (?P<last>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?P<tz2>\S+)\s*$")


def parse_list_boots_table(text):
    """``journalctl --list-boots --utc`` as a table (systemd < 251: ``-1 <id> Mon 2020-10-12 21:46:33
    UTC\u2014Mon ...``; later: a header line and columns) → the rows of :func:`parse_list_boots`.
    Times in another zone than UTC are left out (None): run journalctl with ``--utc``."""
    boots = []
    for line in (text or "").splitlines():
        match = _BOOT_ROW.match(line)
        if not match:
            continue
        boots.append({"index": int(match.group("index")), "boot_id": match.group("boot_id"),
                      "first_s": _utc(match.group("first"), match.group("tz1")),
                      "last_s": _utc(match.group("last"), match.group("tz2"))})
    return boots


def _usec(value):
    try:
        return int(value) // 1000000
    except (TypeError, ValueError):
        return None


def _utc(text, zone):
    if zone != "UTC":
        return None
    stamp = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(stamp.timestamp())


# ---------------------------------------------------------------- firmware

def parse_cpuinfo(text):
    """``/proc/cpuinfo`` → ``{cpu_model, microcode, cpu_count}``."""
    model = None
    microcode = None
    count = 0
    for line in (text or "").splitlines():
        key, _sep, value = line.partition(":")
        key = key.strip()
        value = value.strip()
        if key == "processor":
            count += 1
        elif key == "model name" and model is None:
            model = value
        elif key == "microcode" and microcode is None:
            microcode = value
    return {"cpu_model": model, "microcode": microcode, "cpu_count": count or None}


def parse_dmidecode_bios(text):
    """``dmidecode -t bios`` → ``{bios_vendor, bios_version, bios_date}`` (None when absent)."""
    wanted = {"Vendor": "bios_vendor", "Version": "bios_version", "Release Date": "bios_date"}
    result = dict((v, None) for v in wanted.values())
    for line in (text or "").splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key in wanted and result[wanted[key]] is None:
            result[wanted[key]] = value.strip() or None
    return result


def parse_bios_date(text):
    """``MM/DD/YYYY`` (SMBIOS) → ``date`` or None."""
    try:
        return datetime.datetime.strptime((text or "").strip(), "%m/%d/%Y").date()
    except ValueError:
        return None


def bios_age_days(bios_date, today):
    """Days since the BIOS release date (``MM/DD/YYYY``), or None when the date is not understood."""
    released = parse_bios_date(bios_date)
    return (today - released).days if released else None


# ---------------------------------------------------------------- auto-update window

_APT_LINE = re.compile(r'^(?P<key>[^\s]+)\s+"(?P<value>.*)";\s*$')


def parse_apt_config(text):
    """``apt-config dump`` → ``{key: value}``; list items (``Key:: "x";``) become lists."""
    result = {}
    for line in (text or "").splitlines():
        match = _APT_LINE.match(line.strip())
        if not match:
            continue
        key, value = match.group("key"), match.group("value")
        if key.endswith("::"):
            existing = result.get(key[:-2])
            if not isinstance(existing, list):
                existing = [] if existing in (None, "") else [existing]
            existing.append(value)
            result[key[:-2]] = existing
        else:
            result[key] = value
    return result


def parse_timer_calendar(text, base=None):
    """A systemd timer unit (or drop-in on top of ``base``) → ``OnCalendar`` values (an empty one resets)."""
    values = list(base or [])
    for line in (text or "").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.strip() == "OnCalendar":
            value = value.strip()
            if value:
                values.append(value)
            else:
                values = []
    return values


def _truthy(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def autoupdate_facts(apt, timers):
    """What the OS does on its own: ``apt`` from :func:`parse_apt_config`, ``timers`` name → OnCalendar."""
    upgrades = _truthy(apt.get("APT::Periodic::Unattended-Upgrade", "0"))
    lists = _truthy(apt.get("APT::Periodic::Update-Package-Lists", "0"))
    blacklist = apt.get("Unattended-Upgrade::Package-Blacklist") or []
    return {
        "unattended_upgrades": upgrades,
        "update_package_lists": lists,
        "automatic_reboot": _truthy(apt.get("Unattended-Upgrade::Automatic-Reboot", "false")),
        "automatic_reboot_time": apt.get("Unattended-Upgrade::Automatic-Reboot-Time"),
        "package_blacklist": blacklist,
        "driver_packages_blocked": any(DRIVER_PACKAGES.search(item) for item in blacklist),
        "timers": timers,
    }
