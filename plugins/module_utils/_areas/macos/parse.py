# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""macOS hosts (Apple Silicon inference boxes), the parsers: ``sw_vers``, ``sysctl``, ``memory_pressure``,
``notifyutil -g com.apple.system.thermalpressurelevel``, ``pmset -g therm``, ``softwareupdate --list``
and the old-style property lists ``defaults read`` prints.

Text in, plain dicts out; no I/O, no Ansible import, Python 3.6 syntax (the module runs with macOS's
``/usr/bin/python3``, 3.9). The captures they are tested on are in tests/unit/fixtures/macos/.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# macOS major versions and their names (Apple's release names; 26 follows 15 since 2025).
MARKETING_NAMES = {
    11: "Big Sur", 12: "Monterey", 13: "Ventura", 14: "Sonoma", 15: "Sequoia", 26: "Tahoe",
}

# OSThermalPressureLevel of libkern/OSThermalNotification.h on macOS.
THERMAL_PRESSURE_NAMES = ("nominal", "moderate", "heavy", "trapping", "sleeping")
# kern.memorystatus_vm_pressure_level (the dispatch memory-pressure constants).
MEMORY_PRESSURE_NAMES = {1: "normal", 2: "warn", 4: "critical"}

_UNITS = {"B": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}


def _int(text):
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


# --- sw_vers -------------------------------------------------------------------------------------

def version_major(version):
    """``13.5.2`` → 13; ``10.15.7`` → 10; None or garbage → None."""
    match = re.match(r"\s*(\d+)", version or "")
    return int(match.group(1)) if match else None


def parse_sw_vers(text):
    """``sw_vers`` → ``{product_name, os_version, os_version_extra, os_build, os_major, os_name}``.

    ``ProductVersionExtra`` is the Rapid Security Response suffix (``(a)``), present only when one is
    installed. ``os_name`` is the release's name (``Ventura``) for macOS 11 and later.
    """
    values = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    version = values.get("ProductVersion") or None
    major = version_major(version)
    return {
        "product_name": values.get("ProductName") or None,
        "os_version": version,
        "os_version_extra": values.get("ProductVersionExtra") or None,
        "os_build": values.get("BuildVersion") or None,
        "os_major": major,
        "os_name": MARKETING_NAMES.get(major),
    }


# --- sysctl --------------------------------------------------------------------------------------

def sysctl_value(text, name):
    """The value of ``name`` in ``sysctl NAME`` (``name: value``) or ``sysctl -n NAME`` (the value alone)
    output; None when the output is empty or names another key."""
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith(name + ":"):
            return line[len(name) + 1:].strip()
        if ":" in line.split(" ", 1)[0]:
            continue        # another key's line
        return line
    return None


def _size(number, unit):
    return int(round(float(number.replace(",", ".")) * _UNITS[unit.upper()]))


def parse_swapusage(value):
    """``total = 4096.00M  used = 2743.50M  free = 1352.50M  (encrypted)`` → bytes and ``encrypted``.

    A decimal comma (a non-C locale) is read too. Missing parts are None.
    """
    found = {"swap_total_bytes": None, "swap_used_bytes": None, "swap_free_bytes": None, "swap_encrypted": None}
    for key, number, unit in re.findall(r"(total|used|free)\s*=\s*([\d.,]+)\s*([BKMGT])", value or ""):
        found["swap_%s_bytes" % key] = _size(number, unit)
    if value and found["swap_total_bytes"] is not None:
        found["swap_encrypted"] = "(encrypted)" in value
    return found


def pressure_level_name(level):
    """1 → ``normal``, 2 → ``warn``, 4 → ``critical``; anything else → None."""
    return MEMORY_PRESSURE_NAMES.get(level)


# --- memory_pressure -----------------------------------------------------------------------------

def parse_memory_pressure(text):
    """``memory_pressure`` → ``{memory_bytes, page_size_bytes, memory_free_pct, swapins, swapouts}``.

    ``The system has 34359738368 (2097152 pages with a page size of 16384).`` gives the physical
    (unified) memory; ``System-wide memory free percentage: 88%`` is the share the kernel counts as
    free (``kern.memorystatus_level``), the figure Activity Monitor's memory pressure is drawn from.
    """
    text = text or ""
    found = {"memory_bytes": None, "page_size_bytes": None, "memory_free_pct": None, "swapins": None,
             "swapouts": None}
    match = re.search(r"The system has (\d+)(?: \((\d+) pages with a page size of (\d+)\))?", text)
    if match:
        found["memory_bytes"] = int(match.group(1))
        found["page_size_bytes"] = _int(match.group(3)) if match.group(3) else None
    match = re.search(r"System-wide memory free percentage:\s*(\d+)\s*%", text)
    if match:
        found["memory_free_pct"] = int(match.group(1))
    for key in ("swapins", "swapouts"):
        match = re.search(r"^%s:\s*(\d+)" % key.capitalize(), text, re.MULTILINE)
        if match:
            found[key] = int(match.group(1))
    return found


# --- thermal -------------------------------------------------------------------------------------

def parse_thermal_pressure(text):
    """``notifyutil -g com.apple.system.thermalpressurelevel`` → the level 0-4, or None."""
    match = re.search(r"com\.apple\.system\.thermalpressurelevel\s+(\d+)", text or "")
    return int(match.group(1)) if match else None


def thermal_pressure_name(level):
    if level is None or not 0 <= level < len(THERMAL_PRESSURE_NAMES):
        return None
    return THERMAL_PRESSURE_NAMES[level]


def parse_pmset_therm(text):
    """``pmset -g therm`` → what it recorded.

    Intel Macs print the CPU power status (``CPU_Speed_Limit = 100``, ``CPU_Scheduler_Limit``,
    ``CPU_Available_CPUs``) and ``Thermal Warning Level = N``; Apple Silicon prints three ``Note: No ...
    has been recorded`` lines, even while it throttles. ``recorded`` is whether anything was.
    """
    text = text or ""
    values = dict((key, int(value)) for key, value in re.findall(r"\b(CPU_\w+)\s*=\s*(-?\d+)", text))
    thermal = re.search(r"Thermal Warning Level\s*=\s*(\d+)", text, re.IGNORECASE)
    performance = re.search(r"Performance Warning Level\s*=\s*(\d+)", text, re.IGNORECASE)
    result = {
        "cpu_speed_limit_pct": values.get("CPU_Speed_Limit"),
        "cpu_scheduler_limit_pct": values.get("CPU_Scheduler_Limit"),
        "cpu_available_cpus": values.get("CPU_Available_CPUs"),
        "thermal_warning_level": int(thermal.group(1)) if thermal else None,
        "performance_warning_level": int(performance.group(1)) if performance else None,
    }
    result["pmset_recorded"] = any(value is not None for value in result.values())
    return result


# --- softwareupdate --list -----------------------------------------------------------------------

def _fields(line):
    """``Title: macOS Sonoma 14.0, Version: 14.0, Size: 4404034KiB, Recommended: YES, Action: restart,``
    → ``{Title: ..., Version: ...}``. A title may itself contain commas: a part without ``Key: `` belongs
    to the one before."""
    fields, last = {}, None
    for part in line.strip().split(", "):
        part = part.strip().rstrip(",").strip()
        if not part:
            continue
        key, sep, value = part.partition(": ")
        if sep and re.match(r"^[A-Z][A-Za-z ]*$", key):
            fields[key] = value.strip()
            last = key
        elif last is not None:
            fields[last] += ", " + part
    return fields


def _size_kib(text):
    match = re.match(r"^\s*(\d+)\s*(KiB|K|MiB|M|GiB|G)?\s*$", text or "")
    if not match:
        return None
    factor = {"M": 1024, "MiB": 1024, "G": 1024 ** 2, "GiB": 1024 ** 2}.get(match.group(2), 1)
    return int(match.group(1)) * factor


def parse_softwareupdate_list(text):
    """``softwareupdate --list`` (stdout and stderr together) → ``{state, updates, message}``.

    ``state``: ``updates`` (a list follows), ``none`` (``No new software available.``) or ``unknown``
    (anything else: an error, no network; ``message`` is its first lines). Each update: ``label``,
    ``title``, ``version``, ``size_kib``, ``recommended``, ``restart`` (``Action: restart``). The format
    is the one of macOS 10.15 and later (``* Label:`` then a ``Title:`` line).
    """
    text = text or ""
    updates, current = [], None
    for line in text.splitlines():
        label = re.match(r"^\s*\*\s*Label:\s*(.*?)\s*$", line)
        if label:
            current = {"label": label.group(1), "title": None, "version": None, "size_kib": None,
                       "recommended": None, "restart": False}
            updates.append(current)
            continue
        if current is not None and line.strip().startswith("Title:"):
            fields = _fields(line)
            current.update(
                title=fields.get("Title"), version=fields.get("Version"), size_kib=_size_kib(fields.get("Size")),
                recommended=None if "Recommended" not in fields else fields["Recommended"].upper() == "YES",
                restart="restart" in fields.get("Action", "").lower())
    if updates:
        return {"state": "updates", "updates": updates, "message": None}
    if "No new software available" in text:
        return {"state": "none", "updates": [], "message": None}
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and line.strip() not in ("Software Update Tool", "Finding available software")]
    return {"state": "unknown", "updates": [], "message": " ".join(lines[:3]) or "no output"}


def is_macos_update(update):
    """Whether an update is macOS itself (``macOS Sonoma 14.0``), not Safari or the Command Line Tools."""
    name = update.get("title") or update.get("label") or ""
    return bool(re.match(r"^(macOS|Mac OS X|OS X)\b", name))


def classify_updates(updates, os_major):
    """Mark each update ``macos`` and ``major`` (macOS of a newer major version than ``os_major``).

    Returns new dicts; ``major`` is None when the running version is not known.
    """
    classified = []
    for update in updates:
        update = dict(update)
        update["macos"] = is_macos_update(update)
        major = version_major(update.get("version"))
        if major is None:
            match = re.search(r"\b(\d+)(?:\.\d+)*\b", update.get("title") or "")
            major = int(match.group(1)) if match else None
        if not update["macos"]:
            update["major"] = False
        elif os_major is None or major is None:
            update["major"] = None
        else:
            update["major"] = major > os_major
        classified.append(update)
    return classified


# --- defaults read (old-style property lists) ----------------------------------------------------

class PlistError(ValueError):
    """Text that is not an old-style (NeXTSTEP) property list."""


_UNQUOTED = re.compile(r"[A-Za-z0-9_$+/:.\-]+")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


class _Reader(object):
    def __init__(self, text):
        self.text = text
        self.pos = 0

    def skip(self):
        text = self.text
        while self.pos < len(text):
            if text[self.pos].isspace():
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                self.pos = len(text) if end < 0 else end + 2
            else:
                break

    def peek(self):
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char):
        if self.peek() != char:
            raise PlistError("expected %r at offset %d, found %r" % (char, self.pos, self.peek() or "end of text"))
        self.pos += 1

    def value(self):
        char = self.peek()
        if char == "{":
            return self.dictionary()
        if char == "(":
            return self.array()
        if char == '"':
            return self.quoted()
        if char == "<":
            end = self.text.find(">", self.pos)
            if end < 0:
                raise PlistError("unterminated <data> at offset %d" % self.pos)
            data = self.text[self.pos + 1:end]
            self.pos = end + 1
            return "<%s>" % data
        match = _UNQUOTED.match(self.text, self.pos)
        if not match:
            raise PlistError("unexpected %r at offset %d" % (char or "end of text", self.pos))
        self.pos = match.end()
        return match.group(0)

    def quoted(self):
        self.pos += 1
        out = []
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(out)
            if char == "\\" and self.pos + 1 < len(text):
                nxt = text[self.pos + 1]
                if nxt in ("U", "u") and re.match(r"[0-9A-Fa-f]{4}", text[self.pos + 2:self.pos + 6]):
                    out.append(chr(int(text[self.pos + 2:self.pos + 6], 16)))
                    self.pos += 6
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1
        raise PlistError("unterminated string")

    def dictionary(self):
        self.expect("{")
        result = {}
        while self.peek() != "}":
            if not self.peek():
                raise PlistError("unterminated dictionary")
            key = self.value()
            if not isinstance(key, str):
                raise PlistError("a dictionary key must be a string at offset %d" % self.pos)
            self.expect("=")
            result[key] = self.value()
            self.expect(";")
        self.pos += 1
        return result

    def array(self):
        self.expect("(")
        result = []
        while self.peek() != ")":
            if not self.peek():
                raise PlistError("unterminated array")
            result.append(self.value())
            if self.peek() == ",":
                self.pos += 1
        self.pos += 1
        return result


def parse_defaults(text):
    """The old-style property list ``defaults read DOMAIN`` prints → a dict of strings, lists and dicts.

    Every scalar stays a string (``1``, ``YES``, ``"10.15.7 (19H114)"``): the property-list text does not
    say whether ``1`` was a boolean or a number; :func:`flag` and :func:`number` read them. Raises
    :class:`PlistError` on text that is not one dictionary.
    """
    reader = _Reader(text or "")
    if reader.peek() != "{":
        raise PlistError("not a property list (no opening brace)")
    result = reader.dictionary()
    if reader.peek():
        raise PlistError("text after the dictionary at offset %d" % reader.pos)
    return result


def flag(value):
    """``1``/``YES``/``true`` → True, ``0``/``NO``/``false`` → False, anything else (or None) → None."""
    if value is None or isinstance(value, (list, dict)):
        return None
    text = str(value).strip().lower()
    if text in ("1", "yes", "true"):
        return True
    if text in ("0", "no", "false"):
        return False
    return None


def number(value):
    if value is None or isinstance(value, (list, dict)):
        return None
    return _int(value)


def domain_missing(stderr):
    """Whether ``defaults read`` said the domain does not exist (no such preferences: nothing managed)."""
    text = (stderr or "").lower()
    return "does not exist" in text or "not found" in text


# The Software Update preferences (System Settings > General > Software Update > Automatic updates).
UPDATE_SETTINGS = (
    ("AutomaticCheckEnabled", "auto_check_enabled"),
    ("AutomaticDownload", "auto_download"),
    ("AutomaticallyInstallMacOSUpdates", "auto_install_macos_updates"),
    ("CriticalUpdateInstall", "critical_update_install"),
    ("ConfigDataInstall", "config_data_install"),
)


def update_settings(local, managed):
    """``{fact key: True/False/None}`` of the Software Update preferences, and the keys a profile sets.

    ``local`` is ``/Library/Preferences/com.apple.SoftwareUpdate``, ``managed`` the same domain under
    ``/Library/Managed Preferences`` (a configuration profile); the managed value wins, as on macOS.
    None: not set in either.
    """
    settings, managed_keys = {}, []
    for key, name in UPDATE_SETTINGS:
        value = flag((managed or {}).get(key))
        if value is not None:
            managed_keys.append(name)
        else:
            value = flag((local or {}).get(key))
        settings[name] = value
    return settings, managed_keys


def major_deferral(restrictions):
    """``(deferred, days)`` from the managed restrictions (``com.apple.applicationaccess``).

    ``forceDelayedMajorSoftwareUpdates`` hides a major upgrade for
    ``enforcedSoftwareUpdateMajorOSDeferredInstallDelay`` days (None: not set, Apple's default applies).
    """
    restrictions = restrictions or {}
    deferred = flag(restrictions.get("forceDelayedMajorSoftwareUpdates")) is True
    days = number(restrictions.get("enforcedSoftwareUpdateMajorOSDeferredInstallDelay")) if deferred else None
    return deferred, days
