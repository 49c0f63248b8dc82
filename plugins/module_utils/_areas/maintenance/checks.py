# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The maintenance area's checks: the table (data) and the verdicts over the collected readings.

Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import day

_FIX = {
    "errors": "read them: journalctl -p err --since '7 days ago'",
    "timeouts": "look for a hung service or a slow disk",
    "oom": "find the process in the journal, lower its batch/context size or add memory",
    "xid": "look up the Xid code in NVIDIA's Xid table; repeated Xid 79/48/63 means a failing GPU",
}
_WHAT = {"errors": "error lines", "timeouts": "timeout lines", "oom": "out-of-memory lines", "xid": "NVIDIA Xid lines"}
_THRESHOLD = {"errors": ("journal_errors_warn", 50), "timeouts": ("journal_timeouts_warn", 10),
              "oom": ("journal_oom_warn", 1), "xid": ("journal_xid_crit", 1)}
COUNTS = ("errors", "timeouts", "oom", "xid")


def _log_rows(prefix, source, fact_key):
    return tuple(
        Check("%slog_%s" % (prefix, name), "%s in %s since the start of the review window." % (_WHAT[name].capitalize(), source),
              thresholds=(_THRESHOLD[name],), fix=_FIX[name], reads=("%s.%s" % (fact_key, name),))
        for name in COUNTS)


CHECKS = CheckTable(*(
    _log_rows("", "the systemd journal", "journal")
    + _log_rows("runner_", "the runner logs (log_paths)", "runner_logs")
    + (
        Check("unexpected_reboots", "Boots in the review window that ended without a clean shutdown (journal, else wtmp).",
              thresholds=(("unexpected_reboots_warn", 1), ("unexpected_reboots_crit", 3)),
              fix="see how each one ended (journalctl -b BOOT_ID -n 50: a kernel panic, an MCE, an NVIDIA Xid) and "
                  "check the power: a PSU near its limit under 600 W+ GPU transients, the UPS, the BMC's event log",
              reads=("reboots.unexpected",)),
        Check("bios_age", "Age of the BIOS release (SMBIOS release date).",
              thresholds=(("bios_age_warn_days", 1095),), unit=" days",
              fix="check the board vendor for a BIOS update (read its notes first)", reads=("firmware.bios_age_days",)),
        Check("microcode", "The CPU microcode revision (informational).",
              fix="update the CPU microcode package (intel-microcode / amd64-microcode) or the BIOS"),
        Check("auto_reboot", "Whether unattended-upgrades reboots the box on its own.",
              fix="a long inference or training run is killed; set Unattended-Upgrade::Automatic-Reboot \"false\" "
                  "or pick a maintenance window"),
        Check("auto_upgrade_driver", "Whether unattended-upgrades may upgrade the GPU driver stack or kernel.",
              fix="add nvidia/cuda to Unattended-Upgrade::Package-Blacklist or hold them with "
                  "gpufleet.maintenance.package_pin"),
        Check("update_window", "When apt-daily-upgrade runs (informational).",
              fix="move apt-daily-upgrade.timer's OnCalendar into a maintenance window"),
    )
))


# What makes an unreadable source readable, by what the reason says (the first match wins).
_JOURNAL_FIX = (
    ("journalctl not found", "review this host's runner logs alone (log_paths), or run it where systemd-journald runs"),
    ("insufficient permissions", "run it as root (become: true) or as a member of the systemd-journal group"),
    ("sees only its own", "run it as root (become: true) or as a member of the systemd-journal group"),
    ("holds no entries", "start systemd-journald with persistent storage (mkdir -p /var/log/journal, then restart "
                         "systemd-journald)"),
)
_BIOS_FIX = (
    ("no /sys/class/dmi/id and no dmidecode", "install dmidecode; in a container the BIOS is the host's: review it there"),
    ("dmidecode failed", "run it as root (become: true): dmidecode reads /sys/firmware/dmi or /dev/mem"),
)
_AUTOUPDATE_FIX = (
    ("apt-config not found", "these checks read apt's settings (Debian, Ubuntu); review the automatic updates of this "
                             "system by hand"),
)


def fix_for(reason, fixes, default):
    """The fix for an unreadable source: the first of ``fixes`` whose words are in ``reason``."""
    return next((fix for words, fix in fixes if words in (reason or "")), default)


def log_checks(prefix, counts, limits, source):
    """``log_*`` (journal) or ``runner_log_*`` (runner logs) checks over the line counts."""
    return [CHECKS["%slog_%s" % (prefix, name)].level(counts[name], limits, "%s in %s" % (_WHAT[name], source))
            for name in COUNTS]


def journal_checks(data, limits):
    """The journal's checks; an unreadable journal is one ``unknown`` (on ``log_errors``) with the reason and fix."""
    journal = data["journal"]
    if journal["present"]:
        results = log_checks("", journal, limits, "the journal")
    else:
        results = [CHECKS["log_errors"].unknown("the journal was not read: %s" % journal["reason"],
                                                fix=fix_for(journal["reason"], _JOURNAL_FIX,
                                                            "run journalctl --list-boots by hand to see why it fails"))]
    return results + runner_log_checks(data, limits)


def runner_log_checks(data, limits):
    """The runner logs' checks; a file that could not be read makes ``runner_log_errors`` unknown unless
    what was read already found a problem (a problem ranks above not knowing)."""
    logs, unread = data["runner_logs"], data.get("runner_logs_unread") or []
    results = log_checks("runner_", logs, limits, "the runner logs") if logs["files"] else []
    if unread:
        reason = "%d runner log file(s) could not be read: %s" % (len(unread), "; ".join(unread[:5]))
        unknown = CHECKS["runner_log_errors"].unknown(
            reason, fix="let the user the play runs as read them (become: true, or the log's group)")
        errors = [r for r in results if r["check"] == "runner_log_errors"]
        if not errors or errors[0]["status"] == "ok":
            results = [r for r in results if r["check"] != "runner_log_errors"] + [unknown]
    return results


def reboots_check(reboots, since, limits):
    """``unexpected_reboots``: a problem found is reported even from a source that does not reach back to
    the start of the window; nothing found there, or nothing readable, is unknown."""
    check = CHECKS["unexpected_reboots"]
    if reboots["source"] is None:
        return check.unknown("no boot history was read (%s)" % reboots["reason"], threshold=limits["unexpected_reboots_warn"],
                             fix="run it as root (become: true), keep the journal (mkdir -p /var/log/journal) or wtmp")
    what = "boots that ended without a clean shutdown since %s (%s: %d of %d boot(s) that ended%s)" % (
        day(since), reboots["source"], reboots["unexpected"], reboots["ended"],
        ", %d not read" % reboots["unread"] if reboots["unread"] else "")
    result = check.level(reboots["unexpected"], limits, what)
    reaches = reboots["covered_since_s"]
    if result["status"] == "ok" and (reaches is None or reaches > since):
        return check.unknown("the %s reaches back only to %s and the window starts %s; %s" % (
            reboots["source"], day(reaches) if reaches is not None else "an unknown date", day(since), result["message"]),
            threshold=limits["unexpected_reboots_warn"], value=reboots["unexpected"],
            fix="keep the journal (Storage=persistent, mkdir -p /var/log/journal) and wtmp for longer than the window")
    return result


def firmware_checks(firmware, limits):
    results = []
    if firmware.get("bios_version") is None or firmware.get("bios_age_days") is None:
        reason = firmware.get("bios_reason") or "no DMI data"
        results.append(CHECKS["bios_age"].unknown("BIOS version or date not reported: %s" % reason,
                                                  threshold=limits["bios_age_warn_days"],
                                                  fix=fix_for(reason, _BIOS_FIX, "read the BIOS version and date in the "
                                                              "firmware setup or the BMC")))
    else:
        results.append(CHECKS["bios_age"].level(firmware["bios_age_days"], limits, "BIOS %s age" % firmware["bios_version"]))
    if firmware.get("cpuinfo_reason"):
        results.append(CHECKS["microcode"].unknown(firmware["cpuinfo_reason"], fix="check that /proc is mounted and readable"))
    elif firmware.get("microcode") is None:
        results.append(CHECKS["microcode"].result("ok", None, None, "CPU microcode revision not reported by /proc/cpuinfo "
                                                  "(normal on ARM and in some VMs)"))
    else:
        results.append(CHECKS["microcode"].result("ok", firmware["microcode"], None,
                                                  "CPU microcode revision %s" % firmware["microcode"]))
    return results


def autoupdate_unread_check(auto):
    """The ``auto_reboot`` check when apt's settings could not be read: unknown, with the reason and fix."""
    return CHECKS["auto_reboot"].unknown("the auto-update settings were not read: %s" % auto["reason"],
                                         fix=fix_for(auto["reason"], _AUTOUPDATE_FIX,
                                                     "check /etc/apt/apt.conf.d (apt-config dump shows the error)"))


def autoupdate_checks(auto):
    """The auto-update checks over what apt-config and the timers say (``auto`` from ``parse.autoupdate_facts``)."""
    results = []
    if auto["unattended_upgrades"] and auto["automatic_reboot"]:
        results.append(CHECKS["auto_reboot"].result("warn", True, False, "unattended-upgrades reboots the box on its own (at %s)"
                                                    % (auto["automatic_reboot_time"] or "any time")))
    else:
        results.append(CHECKS["auto_reboot"].result("ok", auto["automatic_reboot"] and auto["unattended_upgrades"], False,
                                                    "no automatic reboot after updates"))
    if auto["unattended_upgrades"] and not auto["driver_packages_blocked"]:
        results.append(CHECKS["auto_upgrade_driver"].result(
            "warn", True, False, "unattended-upgrades may upgrade the GPU driver or kernel under running models"))
    else:
        results.append(CHECKS["auto_upgrade_driver"].result("ok", False, False, "automatic upgrades leave the driver stack alone"))
    window = auto["timers"].get("apt-daily-upgrade")
    if not window and auto["unattended_upgrades"]:
        results.append(CHECKS["update_window"].unknown(
            "unattended-upgrades is on but no OnCalendar of apt-daily-upgrade.timer was found (no schedule found)",
            fix="see when it runs with systemctl list-timers apt-daily-upgrade.timer (a masked or renamed timer, or cron)"))
    else:
        results.append(CHECKS["update_window"].result("ok", window, None, "apt-daily-upgrade runs at %s"
                                                      % (", ".join(window) if window else "no schedule found")))
    return results


def evaluate(data, params):
    """Every check of the parts collected."""
    limits = params["thresholds"]
    results = []
    if "journal" in data:
        results.extend(journal_checks(data, limits))
    if "reboots" in data:
        results.append(reboots_check(data["reboots"], data["since_s"], limits))
    if "firmware" in data:
        results.extend(firmware_checks(data["firmware"], limits))
    if "autoupdate" in data:
        auto = data["autoupdate"]
        results.extend(autoupdate_checks(auto) if auto.get("present") else [autoupdate_unread_check(auto)])
    return results
