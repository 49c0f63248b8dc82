# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters rendering the maintenance calendar: rrule (AWX schedules), on_calendar (systemd)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._schedule import ScheduleError, to_on_calendar, to_rrule


def rrule(spec, timezone="UTC", start_date="2026-01-01"):
    """AWX schedule rrule of a schedule spec."""
    try:
        return to_rrule(spec, timezone=timezone, start_date=start_date)
    except ScheduleError as exc:
        raise AnsibleFilterError("rrule: %s" % exc)


def on_calendar(spec):
    """systemd OnCalendar expression of a schedule spec."""
    try:
        return to_on_calendar(spec)
    except ScheduleError as exc:
        raise AnsibleFilterError("on_calendar: %s" % exc)


class FilterModule(object):
    """Schedule filters."""

    def filters(self):
        return {"rrule": rrule, "on_calendar": on_calendar}
