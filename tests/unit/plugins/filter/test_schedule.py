import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.filter.schedule import FilterModule, on_calendar, rrule


def test_registered():
    assert set(FilterModule().filters()) == {"rrule", "on_calendar"}


def test_filters_render():
    spec = {"frequency": "weekly", "weekday": "SU", "time": "03:00"}
    assert rrule(spec, "America/New_York", "2026-02-01") == \
        "DTSTART;TZID=America/New_York:20260201T030000 RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=SU"
    assert on_calendar(spec) == "Sun *-*-* 03:00:00"


def test_filters_raise_filter_errors():
    with pytest.raises(AnsibleFilterError, match="rrule: frequency must be one of"):
        rrule({"frequency": "never", "time": "03:00"})
    with pytest.raises(AnsibleFilterError, match="on_calendar: time must be HH:MM"):
        on_calendar({"frequency": "daily"})
