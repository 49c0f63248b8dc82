# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cadence upkeep facts: journal and runner-log review, BIOS/microcode, the OS auto-update window.

Parsers take text and return plain dicts; checks are built with ``_checks``. ``gather()`` takes a
``run`` callable (``_runner.run`` bound to a module) and a ``read`` callable for files, so tests can
feed real captures. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import (
    level_check,
    make_check,
    worst_status,
)

SCHEMA_VERSION = 1
COLLECT = ("journal", "firmware", "autoupdate")

DEFAULT_THRESHOLDS = {
    "journal_errors_warn": 50,
    "journal_timeouts_warn": 10,
    "journal_oom_warn": 1,
    "journal_xid_crit": 1,
    "bios_age_warn_days": 1095,
}

PATTERNS = {
    "timeouts": re.compile(r"timed? ?out|timeout", re.I),
    "oom": re.compile(r"out of memory|oom-kill|oom_reaper|CUDA error: out of memory", re.I),
    "xid": re.compile(r"NVRM: Xid", re.I),
    "errors": re.compile(r"\berror\b", re.I),
}
DRIVER_PACKAGES = re.compile(r"nvidia|cuda|rocm|amdgpu|linux-image", re.I)


# ---------------------------------------------------------------- journal and runner logs

def count_lines(lines, counts=None):
    """Count error/timeout/OOM/Xid lines (plain text)."""
    counts = counts if counts is not None else {"errors": 0, "timeouts": 0, "oom": 0, "xid": 0}
    for line in lines:
        for name, pattern in PATTERNS.items():
            if pattern.search(line):
                counts[name] += 1
    return counts


def parse_journal_json(text):
    """``journalctl -o json`` lines → counts; priority <= 3 counts as an error too."""
    counts = {"errors": 0, "timeouts": 0, "oom": 0, "xid": 0}
    lines = 0
    for raw in (text or "").splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        lines += 1
        message = entry.get("MESSAGE")
        if isinstance(message, list):  # journald gives binary messages as byte arrays
            try:
                message = bytes(message).decode("utf-8", "replace")
            except (TypeError, ValueError):
                message = ""
        message = message or ""
        before = counts["errors"]
        count_lines([message], counts)
        try:
            priority = int(entry.get("PRIORITY", 6))
        except (TypeError, ValueError):
            priority = 6
        if priority <= 3 and counts["errors"] == before:
            counts["errors"] += 1
    return counts, lines


def journal_checks(counts, thresholds, source):
    fix_oom = "find the process in the journal, lower its batch/context size or add memory"
    return [
        level_check("log_errors", counts["errors"], warn=thresholds["journal_errors_warn"], what="error lines in %s" % source,
                    fix="read them: journalctl -p err --since '7 days ago'"),
        level_check("log_timeouts", counts["timeouts"], warn=thresholds["journal_timeouts_warn"], what="timeout lines in %s" % source,
                    fix="look for a hung service or a slow disk"),
        level_check("log_oom", counts["oom"], warn=thresholds["journal_oom_warn"], what="out-of-memory lines in %s" % source, fix=fix_oom),
        level_check("log_xid", counts["xid"], crit=thresholds["journal_xid_crit"], what="NVIDIA Xid lines in %s" % source,
                    fix="look up the Xid code in NVIDIA's Xid table; repeated Xid 79/48/63 means a failing GPU"),
    ]


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


def firmware_checks(firmware, thresholds, today):
    checks = []
    if firmware.get("bios_version") is None:
        checks.append(make_check("bios_age", "ok", None, thresholds["bios_age_warn_days"],
                                 "BIOS version not reported: %s" % firmware.get("bios_reason", "no DMI data")))
    else:
        released = parse_bios_date(firmware.get("bios_date"))
        age = (today - released).days if released else None
        firmware["bios_age_days"] = age
        checks.append(level_check("bios_age", age, warn=thresholds["bios_age_warn_days"], unit=" days",
                                  what="BIOS %s age" % firmware["bios_version"],
                                  fix="check the board vendor for a BIOS update (read its notes first)"))
    if firmware.get("microcode") is None:
        checks.append(make_check("microcode", "ok", None, None, "CPU microcode revision not reported by /proc/cpuinfo"))
    else:
        checks.append(make_check("microcode", "ok", firmware["microcode"], None,
                                 "CPU microcode revision %s" % firmware["microcode"]))
    return checks


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
    """Decide what the OS does on its own: ``apt`` from :func:`parse_apt_config`, ``timers`` name → OnCalendar."""
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


def autoupdate_checks(facts):
    checks = []
    if facts["unattended_upgrades"] and facts["automatic_reboot"]:
        checks.append(make_check("auto_reboot", "warn", True, False,
                                 "unattended-upgrades reboots the box on its own (at %s): a long inference or training "
                                 "run is killed; set Unattended-Upgrade::Automatic-Reboot \"false\" or pick a maintenance "
                                 "window" % (facts["automatic_reboot_time"] or "any time")))
    else:
        checks.append(make_check("auto_reboot", "ok", facts["automatic_reboot"] and facts["unattended_upgrades"], False,
                                 "no automatic reboot after updates"))
    if facts["unattended_upgrades"] and not facts["driver_packages_blocked"]:
        checks.append(make_check("auto_upgrade_driver", "warn", True, False,
                                 "unattended-upgrades may upgrade the GPU driver or kernel under running models: add "
                                 "nvidia/cuda to Unattended-Upgrade::Package-Blacklist or hold them with "
                                 "gpufleet.maintenance.package_pin"))
    else:
        checks.append(make_check("auto_upgrade_driver", "ok", False, False,
                                 "automatic upgrades leave the driver stack alone"))
    window = facts["timers"].get("apt-daily-upgrade")
    checks.append(make_check("update_window", "ok", window, None,
                             "apt-daily-upgrade runs at %s" % (", ".join(window) if window else "no schedule found")))
    return checks


TIMER_DIRS = ("/lib/systemd/system", "/usr/lib/systemd/system", "/etc/systemd/system")


def read_timers(read, names=("apt-daily", "apt-daily-upgrade"), root="/"):
    """name → OnCalendar list, from the unit file then its drop-ins (later ones win)."""
    timers = {}
    for name in names:
        values = []
        for directory in TIMER_DIRS:
            text = read(os.path.join(root, directory.lstrip("/"), "%s.timer" % name))
            if text is not None:
                values = parse_timer_calendar(text)
        for directory in TIMER_DIRS:
            dropins = os.path.join(root, directory.lstrip("/"), "%s.timer.d" % name)
            if os.path.isdir(dropins):
                for entry in sorted(os.listdir(dropins)):
                    if entry.endswith(".conf"):
                        values = parse_timer_calendar(read(os.path.join(dropins, entry)) or "", values)
        timers[name] = values
    return timers


# ---------------------------------------------------------------- gather

def read_file(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError, UnicodeDecodeError):
        return None


def _log_files(paths, since):
    for path in paths:
        if os.path.isfile(path):
            candidates = [path]
        elif os.path.isdir(path):
            candidates = [os.path.join(d, f) for d, _s, files in os.walk(path) for f in files]
        else:
            continue
        for candidate in sorted(candidates):
            try:
                if since is None or os.path.getmtime(candidate) >= since:
                    yield candidate
            except OSError:
                continue


def gather(collect, thresholds, run, find_tool, since=None, log_paths=(), read=read_file, today=None, now=None):
    """Return ``(fact, warnings)`` for the requested parts of ``COLLECT``."""
    import time
    now = now if now is not None else time.time()
    today = today or datetime.date.today()
    since = since if since is not None else now - 7 * 86400
    fact = {"schema_version": SCHEMA_VERSION, "collected": list(collect), "since_s": int(since)}
    checks = []
    warnings = []
    if "journal" in collect:
        journal = {"present": False, "reason": None, "entries": 0}
        tool = find_tool("journalctl")
        if tool is None:
            journal["reason"] = "journalctl not found (no systemd journal on this host)"
        else:
            result = run([tool, "-q", "--no-pager", "-o", "json", "--output-fields=MESSAGE,PRIORITY", "--since", "@%d" % int(since)], 120)
            if result is None or result.rc not in (0, 1):
                journal["reason"] = "journalctl failed: %s" % ((result.stderr or "").strip()[:200] if result else "did not run")
            else:
                counts, entries = parse_journal_json(result.stdout)
                journal.update(counts, present=True, entries=entries)
                if result.rc == 1 and not entries:
                    journal["reason"] = (result.stderr or "").strip()[:200] or None
        fact["journal"] = journal
        if journal["present"]:
            checks.extend(journal_checks(journal, thresholds, "the journal"))
        else:
            checks.append(make_check("log_errors", "ok", None, None, "journal not read: %s" % journal["reason"]))
        logs = {"files": 0, "errors": 0, "timeouts": 0, "oom": 0, "xid": 0}
        for path in _log_files(log_paths, since):
            text = read(path)
            if text is None:
                warnings.append("could not read log file %s" % path)
                continue
            logs["files"] += 1
            count_lines(text.splitlines(), logs)
        fact["runner_logs"] = logs
        if logs["files"]:
            for check in journal_checks(logs, thresholds, "the runner logs"):
                check["check"] = "runner_" + check["check"]
                checks.append(check)
    if "firmware" in collect:
        firmware = parse_cpuinfo(read("/proc/cpuinfo"))
        bios = {"bios_vendor": None, "bios_version": None, "bios_date": None}
        sysfs = dict((key, read("/sys/class/dmi/id/%s" % key)) for key in ("bios_vendor", "bios_version", "bios_date"))
        if sysfs["bios_version"]:
            bios = dict((k, (v or "").strip() or None) for k, v in sysfs.items())
        else:
            tool = find_tool("dmidecode")
            if tool:
                result = run([tool, "-t", "bios"], 30)
                if result is not None and result.rc == 0:
                    bios = parse_dmidecode_bios(result.stdout)
                else:
                    firmware["bios_reason"] = "dmidecode failed: %s" % ((result.stderr or "").strip()[:200] if result else "did not run")
            else:
                firmware["bios_reason"] = "no /sys/class/dmi/id and no dmidecode (a container or VM without DMI)"
        firmware.update(bios)
        firmware.setdefault("bios_reason", None if bios["bios_version"] else "DMI reports no BIOS version")
        checks.extend(firmware_checks(firmware, thresholds, today))
        fact["firmware"] = firmware
    if "autoupdate" in collect:
        tool = find_tool("apt-config")
        if tool is None:
            fact["autoupdate"] = {"present": False, "reason": "apt-config not found (not a Debian/Ubuntu host)"}
            checks.append(make_check("auto_reboot", "ok", None, None, "auto-update window not checked: apt-config not found"))
        else:
            result = run([tool, "dump"], 30)
            if result is None or result.rc != 0:
                reason = "apt-config dump failed: %s" % ((result.stderr or "").strip()[:200] if result else "did not run")
                fact["autoupdate"] = {"present": False, "reason": reason}
                checks.append(make_check("auto_reboot", "warn", None, None, reason + ": check /etc/apt/apt.conf.d"))
            else:
                auto = autoupdate_facts(parse_apt_config(result.stdout), read_timers(read))
                auto.update(present=True, reason=None)
                fact["autoupdate"] = auto
                checks.extend(autoupdate_checks(auto))
    fact["checks"] = checks
    fact["status"] = worst_status(checks)
    return fact, warnings


def summary_section(fact):
    """Lines for the printed health summary (``_summary.SECTIONS``)."""
    lines = []
    journal = fact.get("journal")
    if journal:
        if journal.get("present"):
            lines.append("journal since %s: %d error, %d timeout, %d out-of-memory, %d Xid line(s)" % (
                datetime.datetime.fromtimestamp(fact.get("since_s") or 0, tz=datetime.timezone.utc).strftime("%Y-%m-%d"),
                journal.get("errors", 0), journal.get("timeouts", 0), journal.get("oom", 0), journal.get("xid", 0)))
        else:
            lines.append("journal: not read (%s)" % journal.get("reason"))
    firmware = fact.get("firmware")
    if firmware:
        lines.append("firmware: BIOS %s (%s), microcode %s" % (
            firmware.get("bios_version") or "n/a", firmware.get("bios_date") or "n/a", firmware.get("microcode") or "n/a"))
    auto = fact.get("autoupdate")
    if auto:
        if auto.get("present"):
            lines.append("auto-updates: unattended-upgrades %s, automatic reboot %s, window %s" % (
                "on" if auto.get("unattended_upgrades") else "off", "on" if auto.get("automatic_reboot") else "off",
                ", ".join((auto.get("timers") or {}).get("apt-daily-upgrade") or []) or "n/a"))
        else:
            lines.append("auto-updates: not checked (%s)" % auto.get("reason"))
    return lines
