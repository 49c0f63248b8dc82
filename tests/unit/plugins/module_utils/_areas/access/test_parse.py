"""nginx combined-format lines parsed and tallied, on real logs (tests/unit/fixtures/nginx_access/PROVENANCE.md).

Expected times are computed here with the standard library from the lines' own text; expected counts come
from the logs as read by eye and from the recording's traffic table (testlib.front_door.TRAFFIC).
"""

import datetime
import os

import pytest
from testlib import front_door

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.access import parse

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "nginx_access")
UTC = datetime.timezone.utc


def lines(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read().splitlines()


def epoch(*fields, **offset):
    return int(datetime.datetime(*fields, tzinfo=datetime.timezone(datetime.timedelta(**offset))).timestamp())


def test_the_beats_access_log():
    parsed = [parse.parse_line(line) for line in lines("beats-access.log")]
    assert parsed[-1] is None   # "lessons.example.com 192.168.0.1 - - [...]": a virtual host first, another format
    good = parsed[:-1]
    assert [p["status"] for p in good] == [200, 404, 404, 200, 404, 404, 404, 404, 404, 304, 304, 404]
    assert good[0] == {"client": "77.179.66.156", "ts": epoch(2016, 10, 25, 14, 49, 33, hours=2), "status": 200,
                       "method": "GET", "path": "/"}
    assert good[3]["ts"] == epoch(2016, 12, 7, 10, 34, 43, hours=1)
    assert [p["client"] for p in good].count("127.0.0.1") == 4


def test_the_beats_test_log_keeps_the_combined_lines_only():
    parsed = [parse.parse_line(line) for line in lines("beats-test.log")]
    kept = [p for p in parsed if p]
    # the line with a trailing "$http_x_forwarded_for" field, a plain one, and the empty request ("", 400)
    assert [(p["client"], p["status"]) for p in kept] == [("172.17.0.1", 404), ("85.181.35.98", 200), ("127.0.0.1", 400)]
    assert kept[2]["method"] is None and kept[2]["ts"] == epoch(2018, 4, 12, 9, 48, 40, hours=2)
    # first columns that are lists of forwarded addresses are not $remote_addr
    assert [p is None for p in parsed] == [True, False, True, False, True, True, False]


@pytest.mark.parametrize("text, expected", [
    ("10/Oct/2000:13:55:36 -0700", epoch(2000, 10, 10, 13, 55, 36, hours=-7)),   # the log_format documentation's example
    ("29/May/2017:19:02:48 +0000", epoch(2017, 5, 29, 19, 2, 48)),
    ("09/Jun/2020:12:10:39 -0700", epoch(2020, 6, 9, 12, 10, 39, hours=-7)),
    ("31/Dec/2026:23:59:59 +0530", epoch(2026, 12, 31, 23, 59, 59, hours=5, minutes=30)),
    ("10/Okt/2000:13:55:36 -0700", None),   # nginx writes English month names whatever the locale
    ("31/Feb/2026:10:00:00 +0000", None),
    ("2026-12-04T11:19:12+00:00", None),
])
def test_time_local(text, expected):
    assert parse.time_local(text) == expected


@pytest.mark.parametrize("client, known", [
    ("127.0.0.1", True), ("10.1.2.3", True), ("192.168.1.20", True), ("100.101.102.103", True), ("::1", True),
    ("fd7a:115c:a1e0::1", True), ("::ffff:10.0.0.9", True), ("unix:", True),
    ("203.0.113.9", False), ("77.179.66.156", False), ("2001:db8::1", False), ("garbage", False),
])
def test_known_networks(client, known):
    assert parse.is_known(client, parse.networks(parse.DEFAULT_KNOWN)) is known


def test_networks_name_a_bad_entry():
    with pytest.raises(ValueError) as caught:
        parse.networks(["10.0.0.0/8", "office"])
    assert "'office'" in str(caught.value)


def _tally(entries, start, end, known=parse.DEFAULT_KNOWN):
    tally = parse.Tally(start, end, parse.networks(known))
    for entry in entries:
        tally.seen(entry["ts"])
        if start <= entry["ts"] <= end:
            tally.add(entry)
    return tally.fact()


def test_the_recorded_front_door():
    entries = [parse.parse_line(line) for line in lines("front-door-recorded.log")]
    assert all(entries)
    expect = dict((status, sum(n for _s, _site, _k, n, st in front_door.TRAFFIC if st == status)) for status in (200, 401, 502))
    end = max(e["ts"] for e in entries) + 60
    fact = _tally(entries, end - 7 * 86400, end)
    assert fact["requests"] == sum(expect.values()) == 86
    assert fact["status_classes"] == {"1xx": 0, "2xx": expect[200], "3xx": 0, "4xx": expect[401], "5xx": expect[502]}
    assert fact["unauthorized"] == 45 and fact["server_errors"] == 6
    assert fact["server_errors_pct"] == round(100.0 * 6 / 86, 2)
    # everything was sent within seconds: one minute holds all 45 answers 401, all to the unknown address
    assert fact["unauthorized_peak_per_min"] == 45
    assert fact["unauthorized_minutes"][0]["top_client"] == front_door.UNKNOWN
    assert fact["clients"] == 3 and fact["unknown_clients"] == 1
    assert fact["unknown_client_list"] == [{"client": front_door.UNKNOWN, "requests": 48, "ok_2xx": 3, "unauthorized": 45}]
    # the log begins 60 s before the end of the window: the rate is over the hour it covers, not the week
    assert fact["covered_hours"] == 1.0 and fact["requests_per_hour"] == 86.0
    assert fact["peak_requests_per_hour"] == 86


def test_requests_outside_the_window_are_not_counted_but_show_how_far_the_log_reaches():
    entries = [parse.parse_line(line) for line in lines("beats-access.log")[:-1]]
    # the window: the day of 7 Dec 2016, 10:00 to 12:00 UTC+1
    start, end = epoch(2016, 12, 7, 10, 0, 0, hours=1), epoch(2016, 12, 7, 12, 0, 0, hours=1)
    fact = _tally(entries, start, end, known=["127.0.0.0/8"])
    assert fact["requests"] == 9
    assert fact["covered_hours"] == 2.0 and fact["requests_per_hour"] == 4.5   # the October lines reach back past it
    assert [h["requests"] for h in fact["hours"]] == [5, 4]   # 10:xx and 11:xx
    assert fact["unknown_clients"] == 1 and fact["unknown_client_list"][0]["client"] == "77.179.66.156"
    assert fact["client_errors_pct"] == round(100.0 * 6 / 9, 2)


def test_an_empty_window():
    fact = _tally([], 0, 7 * 86400)
    assert fact["requests"] == 0 and fact["server_errors_pct"] is None and fact["unauthorized_peak_per_min"] == 0
    assert fact["peak_hour_epoch"] is None and fact["unauthorized_minutes"] == []
