"""Snapshot names and retention of a series (pure): what a ZFS or rsync snapshot before a change is called,
which of a series retention keeps, and that nothing outside the series is ever dropped."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import parse

# 1764547200 is 2025-12-01T00:00:00Z (1735689600, 2025-01-01, plus 334 days of 86400 s)
DEC_1 = 1764547200


def test_utc_stamp_is_the_utc_time_in_a_sortable_name_safe_form():
    assert parse.utc_stamp(DEC_1) == "20251201T000000Z"
    assert parse.utc_stamp(DEC_1 + 3600 + 60 + 1) == "20251201T010101Z"
    assert parse.utc_stamp(DEC_1 - 1) == "20251130T235959Z"


def test_series_and_label():
    series = parse.series("gpufleet", "driver_bump")
    assert series == "gpufleet-driver_bump"
    assert parse.snapshot_label(series, "20251201T000000Z") == "gpufleet-driver_bump-20251201T000000Z"
    assert parse.snapshot_label(parse.series("gpufleet", "monthly"), "2026-11") == "gpufleet-monthly-2026-11"


@pytest.mark.parametrize("prefix, reason, stamp, message", [
    ("gpufleet", "Driver-Bump", "1", "reason 'Driver-Bump' may hold only lowercase letters, digits and '_' (such as driver_bump)"),
    ("gpufleet", "driver-bump", "1", "reason 'driver-bump' may hold only lowercase letters"),  # a hyphen would make names ambiguous
    ("gpufleet", "", "1", "reason '' may hold only"),
    ("gp/fleet", "monthly", "1", "prefix 'gp/fleet' may hold only letters, digits, '_', '.', ':' and '-'"),
    ("gpufleet", "monthly", "latest", "stamp 'latest' must start with a digit"),
    ("gpufleet", "monthly", "2026 11", "stamp '2026 11' must start with a digit and hold only"),
])
def test_bad_parts_are_refused_naming_the_option(prefix, reason, stamp, message):
    with pytest.raises(parse.SnapshotNameError) as info:
        parse.snapshot_label(parse.series(prefix, reason), stamp)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("name, member", [
    ("gpufleet-driver_bump-20251201T000000Z", True),
    ("gpufleet-driver_bump-2026-11", True),
    ("gpufleet-driver_bump-before-test", False),        # not a stamp: a name of the operator's
    ("gpufleet-driver_bump_rc-20251201T000000Z", False),  # another reason that starts alike
    ("gpufleet-driver_bump", False),
    ("other-driver_bump-20251201T000000Z", False),
    ("gpufleet-image_enforce-20251201T000000Z", False),
])
def test_in_series(name, member):
    assert parse.in_series(name, "gpufleet-driver_bump") is member


SERIES = "gpufleet-driver_bump"
EXISTING = ["gpufleet-driver_bump-20251101T000000Z", "gpufleet-driver_bump-20251115T120000Z", "gpufleet-driver_bump-20251120T080000Z",
            "gpufleet-driver_bump-before-test", "gpufleet-image_enforce-20251001T000000Z", "gpufleet-monthly-2025-10", "my-own"]


@pytest.mark.parametrize("keep, current, kept, dropped", [
    # keep 2: the new one and the newest before it; the two oldest go; nothing outside the series is listed
    (2, "gpufleet-driver_bump-20251201T000000Z",
     ["gpufleet-driver_bump-20251120T080000Z", "gpufleet-driver_bump-20251201T000000Z"],
     ["gpufleet-driver_bump-20251101T000000Z", "gpufleet-driver_bump-20251115T120000Z"]),
    # keep 0: keep every one
    (0, "gpufleet-driver_bump-20251201T000000Z",
     ["gpufleet-driver_bump-20251101T000000Z", "gpufleet-driver_bump-20251115T120000Z", "gpufleet-driver_bump-20251120T080000Z",
      "gpufleet-driver_bump-20251201T000000Z"], []),
    # keep 1: only the new one
    (1, "gpufleet-driver_bump-20251201T000000Z", ["gpufleet-driver_bump-20251201T000000Z"],
     ["gpufleet-driver_bump-20251101T000000Z", "gpufleet-driver_bump-20251115T120000Z", "gpufleet-driver_bump-20251120T080000Z"]),
    # the one being taken is kept even when its stamp sorts older than the newest kept
    (1, "gpufleet-driver_bump-20251001T000000Z",
     ["gpufleet-driver_bump-20251001T000000Z", "gpufleet-driver_bump-20251120T080000Z"],
     ["gpufleet-driver_bump-20251101T000000Z", "gpufleet-driver_bump-20251115T120000Z"]),
    # taken again (it exists): counted once
    (3, "gpufleet-driver_bump-20251120T080000Z", EXISTING[:3], []),
])
def test_retention(keep, current, kept, dropped):
    assert parse.retention(EXISTING, SERIES, keep, current) == (kept, dropped)


def test_retention_never_drops_outside_the_series():
    kept, dropped = parse.retention(EXISTING, "gpufleet-monthly", 1, "gpufleet-monthly-2025-11")
    assert (kept, dropped) == (["gpufleet-monthly-2025-11"], ["gpufleet-monthly-2025-10"])
    assert set(dropped) & {"my-own", "gpufleet-driver_bump-before-test"} == set()
