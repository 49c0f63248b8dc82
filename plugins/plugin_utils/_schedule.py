# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The maintenance calendar, defined once and rendered for AWX (RRULE) and systemd (OnCalendar).

A schedule spec is a dict::

    {frequency: daily|weekly|monthly|quarterly|yearly, time: "HH:MM",
     weekday: MO..SU (weekly), day: 1..28 (monthly/quarterly/yearly), month: 1..12 (yearly)}

Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

FREQUENCIES = ("daily", "weekly", "monthly", "quarterly", "yearly")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SYSTEMD_DAYS = {"MO": "Mon", "TU": "Tue", "WE": "Wed", "TH": "Thu", "FR": "Fri", "SA": "Sat", "SU": "Sun"}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class ScheduleError(ValueError):
    """A schedule spec that cannot be rendered."""


def normalize(spec):
    """Validate a spec and fill defaults; returns a new dict or raises :class:`ScheduleError`."""
    if not isinstance(spec, dict):
        raise ScheduleError("a schedule must be a dict, got %s" % type(spec).__name__)
    frequency = spec.get("frequency")
    if frequency not in FREQUENCIES:
        raise ScheduleError("frequency must be one of %s, got %r" % (", ".join(FREQUENCIES), frequency))
    match = _TIME.match(str(spec.get("time", "")))
    if not match:
        raise ScheduleError("time must be HH:MM (24 h), got %r" % spec.get("time"))
    result = {"frequency": frequency, "hour": int(match.group(1)), "minute": int(match.group(2))}
    if frequency == "weekly":
        weekday = str(spec.get("weekday", "SU")).upper()[:2]
        if weekday not in WEEKDAYS:
            raise ScheduleError("weekday must be one of %s, got %r" % (", ".join(WEEKDAYS), spec.get("weekday")))
        result["weekday"] = weekday
    if frequency in ("monthly", "quarterly", "yearly"):
        day = _int(spec.get("day", 1), "day")
        if not 1 <= day <= 28:
            raise ScheduleError("day must be 1..28 so that it exists in every month, got %r" % spec.get("day"))
        result["day"] = day
    if frequency == "yearly":
        month = _int(spec.get("month", 1), "month")
        if not 1 <= month <= 12:
            raise ScheduleError("month must be 1..12, got %r" % spec.get("month"))
        result["month"] = month
    if frequency == "quarterly":
        first = _int(spec.get("month", 1), "month")
        if not 1 <= first <= 3:
            raise ScheduleError("month of a quarterly schedule is the first quarter's month, 1..3, got %r" % spec.get("month"))
        result["month"] = first
    return result


def to_rrule(spec, timezone="UTC", start_date="2026-01-01"):
    """Render an AWX schedule rrule: ``DTSTART;TZID=<tz>:<date>T<time> RRULE:...``."""
    norm = normalize(spec)
    match = _DATE.match(str(start_date))
    if not match:
        raise ScheduleError("start_date must be YYYY-MM-DD, got %r" % start_date)
    if not timezone or " " in str(timezone):
        raise ScheduleError("timezone must be an IANA name such as Europe/Berlin, got %r" % timezone)
    dtstart = "DTSTART;TZID=%s:%s%s%sT%02d%02d00" % (timezone, match.group(1), match.group(2), match.group(3),
                                                     norm["hour"], norm["minute"])
    freq = norm["frequency"]
    if freq == "daily":
        rule = "FREQ=DAILY;INTERVAL=1"
    elif freq == "weekly":
        rule = "FREQ=WEEKLY;INTERVAL=1;BYDAY=%s" % norm["weekday"]
    elif freq == "monthly":
        rule = "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=%d" % norm["day"]
    elif freq == "quarterly":
        months = ",".join(str(norm["month"] + 3 * q) for q in range(4))
        rule = "FREQ=YEARLY;INTERVAL=1;BYMONTH=%s;BYMONTHDAY=%d" % (months, norm["day"])
    else:
        rule = "FREQ=YEARLY;INTERVAL=1;BYMONTH=%d;BYMONTHDAY=%d" % (norm["month"], norm["day"])
    return "%s RRULE:%s" % (dtstart, rule)


def to_on_calendar(spec):
    """Render a systemd ``OnCalendar=`` expression (local time of the host)."""
    norm = normalize(spec)
    clock = "%02d:%02d:00" % (norm["hour"], norm["minute"])
    freq = norm["frequency"]
    if freq == "daily":
        return "*-*-* %s" % clock
    if freq == "weekly":
        return "%s *-*-* %s" % (_SYSTEMD_DAYS[norm["weekday"]], clock)
    if freq == "monthly":
        return "*-*-%02d %s" % (norm["day"], clock)
    if freq == "quarterly":
        months = ",".join("%02d" % (norm["month"] + 3 * q) for q in range(4))
        return "*-%s-%02d %s" % (months, norm["day"], clock)
    return "*-%02d-%02d %s" % (norm["month"], norm["day"], clock)


def _int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScheduleError("%s must be a whole number, got %r" % (name, value))
