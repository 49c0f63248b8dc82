# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How numbers, sizes, durations and times are written in summaries, reports and messages.

One copy of each (there used to be two ``human_bytes`` and two ``iso``). Pure functions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import fmt_number  # noqa: F401


def human_bytes(number):
    """1536 → '1.5 KiB'; None → 'n/a'."""
    if number is None:
        return "n/a"
    value = float(number)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024:
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024.0
    return "%.1f PiB" % value


def human_duration(seconds):
    """93784 → '1d 2h 3m'; None → 'n/a'."""
    if seconds is None:
        return "n/a"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return "%dd %dh %dm" % (days, hours, minutes)
    if hours:
        return "%dh %dm" % (hours, minutes)
    return "%dm" % minutes


def with_unit(value, unit):
    """71 → '71 C'; 71.25 → '71.2 C'; None → 'n/a'."""
    if value is None:
        return "n/a"
    return "%s%s" % (fmt_number(value), unit)


def iso(ts):
    """Epoch seconds → ``2026-11-26T02:45:00Z``."""
    return datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(ts):
    """Epoch seconds → ``2026-11-26``; a time past what the calendar holds (year 9999) → ``after 9999``."""
    try:
        return datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        return "after 9999"
