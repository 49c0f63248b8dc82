import datetime

import pytest
from dateutil import rrule as du_rrule
from dateutil import tz

from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._schedule import (
    ScheduleError,
    normalize,
    to_on_calendar,
    to_rrule,
)

CALENDAR = {
    "daily": {"frequency": "daily", "time": "06:00"},
    "weekly": {"frequency": "weekly", "weekday": "SU", "time": "03:00"},
    "monthly": {"frequency": "monthly", "day": 1, "time": "04:00"},
    "quarterly": {"frequency": "quarterly", "month": 1, "day": 1, "time": "05:00"},
    "annual": {"frequency": "yearly", "month": 1, "day": 2, "time": "05:00"},
}


@pytest.mark.parametrize("name, rule, calendar", [
    ("daily", "DTSTART;TZID=Europe/Berlin:20260101T060000 RRULE:FREQ=DAILY;INTERVAL=1", "*-*-* 06:00:00"),
    ("weekly", "DTSTART;TZID=Europe/Berlin:20260101T030000 RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=SU", "Sun *-*-* 03:00:00"),
    ("monthly", "DTSTART;TZID=Europe/Berlin:20260101T040000 RRULE:FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=1", "*-*-01 04:00:00"),
    ("quarterly", "DTSTART;TZID=Europe/Berlin:20260101T050000 RRULE:FREQ=YEARLY;INTERVAL=1;BYMONTH=1,4,7,10;BYMONTHDAY=1",
     "*-01,04,07,10-01 05:00:00"),
    ("annual", "DTSTART;TZID=Europe/Berlin:20260101T050000 RRULE:FREQ=YEARLY;INTERVAL=1;BYMONTH=1;BYMONTHDAY=2",
     "*-01-02 05:00:00"),
])
def test_renderers(name, rule, calendar):
    assert to_rrule(CALENDAR[name], timezone="Europe/Berlin") == rule
    assert to_on_calendar(CALENDAR[name]) == calendar


def _next(rule, after, count):
    parsed = du_rrule.rrulestr(rule.replace(" RRULE:", "\nRRULE:"))
    out = []
    current = after
    for dummy in range(count):
        current = parsed.after(current)
        out.append(current)
    return out


def test_rrules_parse_with_dateutil_and_follow_the_users_time_zone():
    berlin = tz.gettz("Europe/Berlin")
    after = datetime.datetime(2026, 3, 27, 12, 0, tzinfo=berlin)
    daily = _next(to_rrule(CALENDAR["daily"], "Europe/Berlin"), after, 3)
    assert [d.strftime("%Y-%m-%d %H:%M") for d in daily] == ["2026-03-28 06:00", "2026-03-29 06:00", "2026-03-30 06:00"]
    # 06:00 local is 05:00 UTC before the switch to summer time and 04:00 UTC after it.
    assert [d.astimezone(datetime.timezone.utc).hour for d in daily] == [5, 4, 4]
    weekly = _next(to_rrule(CALENDAR["weekly"], "Europe/Berlin"), after, 2)
    assert [(d.strftime("%a %Y-%m-%d %H:%M")) for d in weekly] == ["Sun 2026-03-29 03:00", "Sun 2026-04-05 03:00"]
    monthly = _next(to_rrule(CALENDAR["monthly"], "Europe/Berlin"), after, 2)
    assert [d.strftime("%Y-%m-%d %H:%M") for d in monthly] == ["2026-04-01 04:00", "2026-05-01 04:00"]
    quarterly = _next(to_rrule(CALENDAR["quarterly"], "Europe/Berlin"), after, 4)
    assert [d.strftime("%Y-%m-%d") for d in quarterly] == ["2026-04-01", "2026-07-01", "2026-10-01", "2027-01-01"]
    annual = _next(to_rrule(CALENDAR["annual"], "Europe/Berlin"), after, 2)
    assert [d.strftime("%Y-%m-%d %H:%M") for d in annual] == ["2027-01-02 05:00", "2028-01-02 05:00"]


@pytest.mark.parametrize("spec, message", [
    ("daily", "must be a dict"),
    ({"frequency": "hourly", "time": "06:00"}, "frequency must be one of"),
    ({"frequency": "daily", "time": "6am"}, "time must be HH:MM"),
    ({"frequency": "daily", "time": "24:00"}, "time must be HH:MM"),
    ({"frequency": "weekly", "weekday": "XX", "time": "03:00"}, "weekday must be one of"),
    ({"frequency": "monthly", "day": 31, "time": "03:00"}, "day must be 1..28"),
    ({"frequency": "monthly", "day": "first", "time": "03:00"}, "day must be a whole number"),
    ({"frequency": "yearly", "month": 13, "time": "03:00"}, "month must be 1..12"),
    ({"frequency": "quarterly", "month": 4, "time": "03:00"}, "first quarter's month"),
])
def test_bad_specs_are_refused_with_a_reason(spec, message):
    with pytest.raises(ScheduleError, match=message):
        normalize(spec)


def test_rrule_refuses_bad_timezone_and_date():
    with pytest.raises(ScheduleError, match="IANA name"):
        to_rrule(CALENDAR["daily"], timezone="Central European Time")
    with pytest.raises(ScheduleError, match="start_date must be YYYY-MM-DD"):
        to_rrule(CALENDAR["daily"], start_date="1/1/2026")


def test_weekday_names_are_accepted_in_long_form():
    assert normalize({"frequency": "weekly", "weekday": "sunday", "time": "3:05"}) == {
        "frequency": "weekly", "hour": 3, "minute": 5, "weekday": "SU"}
