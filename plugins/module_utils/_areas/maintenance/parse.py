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


# ---------------------------------------------------------------- reboots

# The last lines of a boot that was shut down or rebooted on purpose: PID 1 (systemd) reaching the
# shutdown targets or "Shutting down.", logind announcing it, journald stopping, systemd-shutdown.
# A user manager (systemd, PID not 1) also reaches "Shutdown" when a user logs out: not a marker.
_CLEAN_PID1 = re.compile(r"^(Reached target (System )?(Shutdown|Power[- ]Off|Reboot|Halt|Kexec|Final Step)\b"
                         r"|Starting (System )?(Power[- ]Off|Reboot|Halt|Kexec)\b|Shutting down\.?$)")
_CLEAN_OTHER = {"systemd-logind": re.compile(r"^System is (rebooting|powering down|halting)"),
                "systemd-journald": re.compile(r"^Journal stopped")}
_LAST_TIME = r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}"
_LAST_RECORD = re.compile(r"^(?P<kind>reboot|shutdown)\s+system (boot|down)\s.*?(?P<time>%s)" % _LAST_TIME)
_LAST_BEGINS = re.compile(r"^wtmp begins (?P<time>%s)" % _LAST_TIME)


def current_boot_id(text):
    """``/proc/sys/kernel/random/boot_id`` (a UUID) → the journal's form (32 hex digits), or None."""
    boot_id = (text or "").strip().replace("-", "").lower()
    return boot_id if re.match(r"^[0-9a-f]{32}$", boot_id) else None


def ended_cleanly(text):
    """The last lines of a boot (``journalctl -b ID -n N -o json``) → True when they show a shutdown."""
    for entry in journal_entries(text):
        message = journal_message(entry).strip()
        ident = entry.get("SYSLOG_IDENTIFIER")
        if ident == "systemd" and str(entry.get("_PID")) == "1" and _CLEAN_PID1.search(message):
            return True
        if ident == "systemd-shutdown" or (ident in _CLEAN_OTHER and _CLEAN_OTHER[ident].search(message)):
            return True
    return False


def journal_boots_ended(boots, since, current):
    """The boots of ``journalctl --list-boots`` that ended since ``since``: every one but the running
    boot (``current``; the last listed when it is not known) whose last entry is in the window."""
    running = current if current else (boots[-1]["boot_id"] if boots else None)
    return [b for b in boots if b["boot_id"] != running and b["last_s"] is not None and b["last_s"] >= since]


def _last_time(text):
    return int(datetime.datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def parse_last_x(text):
    """``last -x -F`` (with ``TZ=UTC``) → ``{records: [(kind, epoch s)] oldest first, begins_s}``: ``reboot``
    (a boot) and ``shutdown`` (a clean shutdown or reboot) records; ``begins_s`` from the footer."""
    records, begins = [], None
    for line in (text or "").splitlines():
        match = _LAST_RECORD.match(line)
        if match:
            records.append((match.group("kind"), _last_time(match.group("time"))))
            continue
        match = _LAST_BEGINS.match(line)
        if match:
            begins = _last_time(match.group("time"))
    return {"records": sorted(records, key=lambda r: (r[1], r[0] == "reboot")), "begins_s": begins}


def wtmp_boots_ended(records, since):
    """The boots that ended since ``since``, from wtmp records oldest first: a boot ended cleanly when a
    shutdown record comes before the next boot record; the newest boot is the running one. A shutdown
    before the first boot record ends a boot whose start wtmp no longer holds."""
    boots = [index for index, (kind, _ts) in enumerate(records) if kind == "reboot"]
    ended = []
    if boots and boots[0] > 0:
        ended.append({"boot": "wtmp", "started_s": None, "ended_s": records[0][1], "clean": True})
    for number, index in enumerate(boots[:-1]):
        following = records[index + 1:boots[number + 1]]
        shutdowns = [ts for kind, ts in following if kind == "shutdown"]
        end = shutdowns[0] if shutdowns else records[boots[number + 1]][1]
        ended.append({"boot": "wtmp", "started_s": records[index][1], "ended_s": end, "clean": bool(shutdowns)})
    return [boot for boot in ended if boot["ended_s"] >= since]


def reboots_summary(source, covered_since, ended):
    """The ``reboots`` fact from one source: the boots that ended in the window, newest first."""
    ended = sorted(ended, key=lambda b: b["ended_s"] or 0, reverse=True)
    return {"source": source, "reason": None, "covered_since_s": covered_since, "ended": len(ended),
            "unexpected": sum(1 for b in ended if b["clean"] is False),
            "unread": sum(1 for b in ended if b["clean"] is None), "boots": ended}


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
