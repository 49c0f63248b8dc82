# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the maintenance area is shown: its summary lines. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import day


def summary_lines(fact):
    lines = []
    journal = fact.get("journal")
    if journal:
        if journal.get("present"):
            lines.append("journal since %s: %d error, %d timeout, %d out-of-memory, %d Xid line(s)" % (
                day(fact.get("since_s") or 0), journal.get("errors", 0), journal.get("timeouts", 0),
                journal.get("oom", 0), journal.get("xid", 0)))
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
