# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the host for the maintenance area: the journal, runner logs, CPU/BIOS data, apt's settings.

I/O only, through the runner (``_common/runner.py``); parsing is in ``parse.py``, verdicts in
``checks.py``. ``find`` (which tool) and ``read`` (a file's text or None) are parameters so tests
can replay real captures. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner

COLLECT = ("journal", "firmware", "autoupdate")
DEFAULT_SINCE_DAYS = 7
TIMER_DIRS = ("/lib/systemd/system", "/usr/lib/systemd/system", "/etc/systemd/system")
DMI_KEYS = ("bios_vendor", "bios_version", "bios_date")


def read_file(path):
    """The text of ``path``, or None when it cannot be read."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError, UnicodeDecodeError):
        return None


def since_epoch(params, now):
    """The start of the review window: ``since_s``, else ``since_days`` (default 7) before ``now``."""
    if params.get("since_s") is not None:
        return int(params["since_s"])
    days = params.get("since_days")
    return int(now - float(DEFAULT_SINCE_DAYS if days is None else days) * 86400)


def _stderr(result):
    return (result.stderr or "").strip()[:200] if result else "did not run"


def collect_journal(run, find, since):
    journal = {"present": False, "reason": None, "entries": 0}
    tool = find("journalctl")
    if tool is None:
        journal["reason"] = "journalctl not found (no systemd journal on this host)"
        return journal
    result = run([tool, "-q", "--no-pager", "-o", "json", "--output-fields=MESSAGE,PRIORITY",
                  "--since", "@%d" % since], 120)
    if result is None or result.rc not in (0, 1):
        journal["reason"] = "journalctl failed: %s" % _stderr(result)
        return journal
    counts, entries = parse.parse_journal_json(result.stdout)
    journal.update(counts, present=True, entries=entries)
    if result.rc == 1 and not entries:
        journal["reason"] = (result.stderr or "").strip()[:200] or None
    return journal


def log_files(paths, since):
    """Files under ``paths`` (files or directories) modified since ``since``."""
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


def collect_runner_logs(paths, since, read, warnings):
    logs = {"files": 0, "errors": 0, "timeouts": 0, "oom": 0, "xid": 0}
    for path in log_files(paths, since):
        text = read(path)
        if text is None:
            warnings.append("could not read log file %s" % path)
            continue
        logs["files"] += 1
        parse.count_lines(text.splitlines(), logs)
    return logs


def collect_firmware(run, find, read, today):
    firmware = parse.parse_cpuinfo(read("/proc/cpuinfo"))
    bios = dict((key, None) for key in DMI_KEYS)
    sysfs = dict((key, read("/sys/class/dmi/id/%s" % key)) for key in DMI_KEYS)
    if sysfs["bios_version"]:
        bios = dict((k, (v or "").strip() or None) for k, v in sysfs.items())
    else:
        tool = find("dmidecode")
        if tool:
            result = run([tool, "-t", "bios"], 30)
            if result is not None and result.rc == 0:
                bios = parse.parse_dmidecode_bios(result.stdout)
            else:
                firmware["bios_reason"] = "dmidecode failed: %s" % _stderr(result)
        else:
            firmware["bios_reason"] = "no /sys/class/dmi/id and no dmidecode (a container or VM without DMI)"
    firmware.update(bios)
    firmware.setdefault("bios_reason", None if bios["bios_version"] else "DMI reports no BIOS version")
    if firmware["bios_version"] is not None:
        firmware["bios_age_days"] = parse.bios_age_days(firmware["bios_date"], today)
    return firmware


def read_timers(read, names=("apt-daily", "apt-daily-upgrade"), root="/"):
    """name → OnCalendar list, from the unit file then its drop-ins (later ones win)."""
    timers = {}
    for name in names:
        values = []
        for directory in TIMER_DIRS:
            text = read(os.path.join(root, directory.lstrip("/"), "%s.timer" % name))
            if text is not None:
                values = parse.parse_timer_calendar(text)
        for directory in TIMER_DIRS:
            dropins = os.path.join(root, directory.lstrip("/"), "%s.timer.d" % name)
            if os.path.isdir(dropins):
                for entry in sorted(os.listdir(dropins)):
                    if entry.endswith(".conf"):
                        values = parse.parse_timer_calendar(read(os.path.join(dropins, entry)) or "", values)
        timers[name] = values
    return timers


def collect_autoupdate(run, find, read):
    tool = find("apt-config")
    if tool is None:
        return {"present": False, "reason": "apt-config not found (not a Debian/Ubuntu host)"}
    result = run([tool, "dump"], 30)
    if result is None or result.rc != 0:
        return {"present": False, "reason": "apt-config dump failed: %s" % _stderr(result)}
    auto = parse.autoupdate_facts(parse.parse_apt_config(result.stdout), read_timers(read))
    auto.update(present=True, reason=None)
    return auto


def collect(run_command, params, find=runner.find_tool, read=read_file, now=None, today=None):
    """``(data, warnings)``: the parts of :data:`COLLECT` asked for in ``params["collect"]``."""
    now = time.time() if now is None else now
    today = today or datetime.date.today()
    since = since_epoch(params, now)
    parts = list(params.get("collect") or COLLECT)
    warnings = []

    def run(argv, timeout):
        try:
            return runner.run(run_command, argv, timeout=timeout)
        except runner.ToolError as exc:
            warnings.append(str(exc))
            return None

    data = {"collected": parts, "since_s": since}
    if "journal" in parts:
        data["journal"] = collect_journal(run, find, since)
        data["runner_logs"] = collect_runner_logs(params.get("log_paths") or [], since, read, warnings)
    if "firmware" in parts:
        data["firmware"] = collect_firmware(run, find, read, today)
    if "autoupdate" in parts:
        data["autoupdate"] = collect_autoupdate(run, find, read)
    return data, warnings
