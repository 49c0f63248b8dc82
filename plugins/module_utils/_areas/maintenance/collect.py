# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the host for the maintenance area: the journal, runner logs, CPU/BIOS data, apt's settings.

I/O only, through the runner (``_common/runner.py``); parsing is in ``parse.py``, verdicts in
``checks.py``. ``find`` (which tool), ``read`` (a file's text or None) and ``who`` (the euid and
group names journalctl runs with) are parameters so tests can replay real captures. What could not
be read is kept with the reason (``journal.reason``, ``firmware.bios_reason``, ``runner_logs_unread``...)
for the checks to say ``unknown``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner

COLLECT = ("journal", "firmware", "autoupdate")
MAX_BOOTS_READ = 20  # the newest boots whose last lines are read; older ones in the window count as unread
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


def identity():
    """``(euid, group names)`` of this process: who journalctl runs as."""
    import grp  # POSIX-only; imported here so the module loads anywhere

    names = []
    for gid in set(os.getgroups()) | set([os.getegid()]):
        try:
            names.append(grp.getgrgid(gid).gr_name)
        except KeyError:
            continue
    return os.geteuid(), sorted(names)


def list_boots(run, tool):
    """``(boots or None, reason)``: the boots the journal holds, oldest first (``parse.parse_list_boots``)."""
    result = run([tool, "--list-boots", "-o", "json", "--utc", "--no-pager"], 120)
    if result is None or result.rc != 0:
        return None, "journalctl --list-boots failed: %s" % _stderr(result)
    boots = parse.parse_list_boots(result.stdout)
    if boots is None:
        boots = parse.parse_list_boots_table(result.stdout)
    if not boots:
        return None, "the journal holds no entries (%s)" % (_stderr(result) or "journalctl --list-boots lists no boot")
    return boots, None


def collect_journal(run, find, since, who):
    """``(journal, boots)``: the journal's line counts since ``since`` (``present: false`` and the reason
    when it could not be read) and the boots it holds (``parse.parse_list_boots``; None when not read)."""
    journal = {"present": False, "reason": None, "entries": 0}
    tool = find("journalctl")
    if tool is None:
        journal["reason"] = "journalctl not found (no systemd journal on this host)"
        return journal, None
    journal["reason"] = parse.journal_access_limit(*who)
    if journal["reason"]:
        return journal, None
    boots, journal["reason"] = list_boots(run, tool)
    if journal["reason"]:
        return journal, None
    result = run([tool, "-q", "--no-pager", "-o", "json", "--output-fields=MESSAGE,PRIORITY",
                  "--since", "@%d" % since], 120)
    if result is None or result.rc != 0:
        journal["reason"] = "journalctl failed: %s" % _stderr(result)
        return journal, boots
    counts, entries = parse.parse_journal_json(result.stdout)
    journal.update(counts, present=True, entries=entries)
    return journal, boots


def journal_reboots(run, tool, boots, since, current):
    """The ``reboots`` fact from the journal: how each boot that ended in the window ended (its last lines)."""
    ended = []
    for number, boot in enumerate(reversed(parse.journal_boots_ended(boots, since, current))):
        clean = None
        if number < MAX_BOOTS_READ:
            result = run([tool, "-b", boot["boot_id"], "-n", "30", "-o", "json",
                          "--output-fields=MESSAGE,SYSLOG_IDENTIFIER,_PID", "--no-pager", "-q"], 60)
            clean = parse.ended_cleanly(result.stdout) if result is not None and result.rc == 0 else None
        ended.append({"boot": boot["boot_id"], "started_s": boot["first_s"], "ended_s": boot["last_s"], "clean": clean})
    return parse.reboots_summary("journal", boots[0]["first_s"], ended)


def wtmp_reboots(run, find, since):
    """The ``reboots`` fact from wtmp (``last -x -F``), or ``(None, reason)`` when it could not be read."""
    tool = find("last")
    if tool is None:
        return None, "last not found"
    result = run([tool, "-x", "-F"], 60, env={"TZ": "UTC"})
    if result is None or result.rc != 0:
        return None, "last -x -F failed: %s" % _stderr(result)
    wtmp = parse.parse_last_x(result.stdout)
    if not wtmp["records"]:
        return None, "wtmp holds no boot record"
    return parse.reboots_summary("wtmp", wtmp["begins_s"], parse.wtmp_boots_ended(wtmp["records"], since)), None


def collect_reboots(run, find, since, boots, boots_reason, read):
    """Boots in the window and how they ended: from the journal when it reaches back to ``since``,
    else from wtmp when that does, else from whichever reaches back further (``covered_since_s`` says
    how far); ``source`` None and the reasons when neither could be read."""
    views, reasons = [], []
    if boots:
        current = parse.current_boot_id(read("/proc/sys/kernel/random/boot_id"))
        views.append(journal_reboots(run, find("journalctl"), boots, since, current))
    else:
        reasons.append("journal: %s" % boots_reason)
    if not views or views[0]["covered_since_s"] is None or views[0]["covered_since_s"] > since:
        wtmp, reason = wtmp_reboots(run, find, since)
        if wtmp:
            views.append(wtmp)
        else:
            reasons.append("wtmp: %s" % reason)
    if not views:
        return {"source": None, "reason": "; ".join(reasons), "covered_since_s": None, "ended": 0, "unexpected": 0,
                "unread": 0, "boots": []}
    return min(views, key=lambda view: view["covered_since_s"] if view["covered_since_s"] is not None else float("inf"))


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


def collect_runner_logs(paths, since, read):
    """``(counts, unread)``: line counts over the log files written since ``since``, and the files
    that could not be read (``path: why``)."""
    logs = {"files": 0, "errors": 0, "timeouts": 0, "oom": 0, "xid": 0}
    unread = []
    for path in log_files(paths, since):
        text = read(path)
        if text is None:
            unread.append("%s: %s" % (path, "permission denied" if not os.access(path, os.R_OK) else "not readable as text"))
            continue
        logs["files"] += 1
        parse.count_lines(text.splitlines(), logs)
    return logs, unread


def collect_firmware(run, find, read, today):
    cpuinfo = read("/proc/cpuinfo")
    firmware = parse.parse_cpuinfo(cpuinfo)
    if cpuinfo is None:
        firmware["cpuinfo_reason"] = "could not read /proc/cpuinfo"
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
        if firmware["bios_age_days"] is None:
            firmware["bios_reason"] = "the BIOS release date %r is not a date (MM/DD/YYYY)" % (firmware["bios_date"],)
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


def collect(run_command, params, find=runner.find_tool, read=read_file, now=None, today=None, who=None):
    """``(data, warnings)``: the parts of :data:`COLLECT` asked for in ``params["collect"]``."""
    now = time.time() if now is None else now
    today = today or datetime.date.today()
    since = since_epoch(params, now)
    parts = list(params.get("collect") or COLLECT)
    warnings = []

    def run(argv, timeout, env=None):
        try:
            return runner.run(run_command, argv, timeout=timeout, env=env)
        except runner.ToolError as exc:
            warnings.append(str(exc))
            return None

    data = {"collected": parts, "since_s": since}
    if "journal" in parts:
        data["journal"], boots = collect_journal(run, find, since, who or identity())
        data["runner_logs"], data["runner_logs_unread"] = collect_runner_logs(params.get("log_paths") or [], since, read)
        data["reboots"] = collect_reboots(run, find, since, boots, data["journal"]["reason"], read)
    if "firmware" in parts:
        data["firmware"] = collect_firmware(run, find, read, today)
    if "autoupdate" in parts:
        data["autoupdate"] = collect_autoupdate(run, find, read)
    return data, warnings
