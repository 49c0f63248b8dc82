"""The access area's verdicts at each threshold, and what it says when it could not look.

Facts are built by hand at and around each threshold (the defaults written here are the table's documented
ones: docs/checks.md); the gather tests read real logs (the recording of a real nginx) from a temporary
directory, with rotated and gzipped files whose lines are the recording's with their times moved."""

import gzip
import os
import re

import pytest
from testlib import front_door

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.access import checks, parse

AREA = registry.area("access")
LIMITS = {"unauthorized_burst_warn_per_min": 20, "server_error_warn_pct": 1.0, "server_error_crit_pct": 5.0,
          "server_error_min_requests": 50, "unknown_clients_warn": 1}
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "nginx_access")


def test_the_table_defaults_are_the_documented_ones():
    assert AREA.checks.defaults() == LIMITS


def data(**fields):
    base = {"log_paths": ["/var/log/nginx/access.log"],
            "files": [{"path": "/var/log/nginx/access.log", "lines": 100, "parsed": 100, "in_window": 100, "error": None}],
            "requests": 100, "server_errors": 0, "server_errors_pct": 0.0, "unauthorized": 0, "unauthorized_peak_per_min": 0,
            "unauthorized_minutes": [], "clients": 2, "unknown_clients": 0, "unknown_client_list": []}
    base.update(fields)
    return base


def verdicts(fact_data, **limits):
    found = checks.evaluate(fact_data, {"thresholds": dict(LIMITS, **limits)})
    return dict((c["check"], c) for c in found if c["check"] != "access_log"), [c for c in found if c["check"] == "access_log"]


@pytest.mark.parametrize("peak, status", [(0, "ok"), (19, "ok"), (20, "warn"), (45, "warn")])
def test_unauthorized_burst(peak, status):
    minutes = [{"minute_epoch": 1764846720, "count": peak, "top_client": "203.0.113.9"}] if peak else []
    found, _logs = verdicts(data(unauthorized=peak + 3, unauthorized_peak_per_min=peak, unauthorized_minutes=minutes))
    check = found["unauthorized_burst"]
    assert (check["check"], check["status"], check["value"], check["threshold"]) == ("unauthorized_burst", status, peak, 20)
    if status == "warn":
        assert "203.0.113.9" in check["message"] and "2025-12-04T11:12:00Z" in check["message"]


@pytest.mark.parametrize("requests, errors, status", [
    (1000, 0, "ok"), (1000, 9, "ok"), (1000, 10, "warn"), (1000, 49, "warn"), (1000, 50, "crit"), (86, 6, "crit"),
    (50, 1, "warn"),     # 2 % of exactly the minimum: a rate
    (49, 1, "warn"),     # under the minimum: any 5xx is a warn, no rate
    (49, 0, "ok"), (0, 0, "ok"),
])
def test_server_error_rate(requests, errors, status):
    pct = round(100.0 * errors / requests, 2) if requests else None
    found, _logs = verdicts(data(requests=requests, server_errors=errors, server_errors_pct=pct))
    check = found["server_error_rate"]
    assert check["check"] == "server_error_rate" and check["status"] == status
    if status != "ok":
        assert "%d of %d" % (errors, requests) in check["message"] and "error log" in check["message"]


@pytest.mark.parametrize("unknown, limit, status", [(0, 1, "ok"), (1, 1, "warn"), (1, 2, "ok"), (2, 2, "warn"), (0, 0, "ok")])
def test_unknown_clients(unknown, limit, status):
    listed = [{"client": "203.0.113.%d" % n, "requests": 48, "ok_2xx": 3, "unauthorized": 45} for n in range(unknown)]
    found, _logs = verdicts(data(unknown_clients=unknown, unknown_client_list=listed), unknown_clients_warn=limit)
    check = found["unknown_clients"]
    assert check["check"] == "unknown_clients" and check["status"] == status
    if status == "warn":
        assert "203.0.113.0 (48 requests, 3 answered 2xx, 45 x 401)" in check["message"] and "known_clients" in check["message"]


def test_a_log_that_cannot_be_read_makes_every_check_unknown_never_ok():
    fact_data = data(files=[{"path": "/var/log/nginx/access.log", "lines": 0, "parsed": 0, "in_window": 0,
                             "error": "permission denied"}], requests=0)
    found, logs = verdicts(fact_data)
    assert logs[0]["check"] == "access_log" and logs[0]["status"] == "unknown"
    assert "permission denied" in logs[0]["message"] and "become: true" in logs[0]["message"]
    assert all(c["status"] == "unknown" and "no access log could be read" in c["message"] for c in found.values())
    assert sorted(found) == ["server_error_rate", "unauthorized_burst", "unknown_clients"]


def test_a_log_in_another_format_is_unknown():
    fact_data = data(files=[{"path": "/var/log/nginx/access.log", "lines": 40, "parsed": 0, "in_window": 0, "error": None}])
    _found, logs = verdicts(fact_data)
    assert logs[0]["status"] == "unknown" and "none of its 40 lines is in nginx's combined format" in logs[0]["message"]


def test_no_log_given_is_unknown():
    found = checks.evaluate(data(log_paths=[], files=[]), {"thresholds": LIMITS})
    assert [c["status"] for c in found] == ["unknown"] * 3 and "no access log given" in found[0]["message"]


# --- gathered from files on disk ------------------------------------------------------------------------

def recorded_lines():
    with open(os.path.join(FIXTURES, "front-door-recorded.log")) as handle:
        return handle.read().splitlines(True)


def moved(lines, when):
    """The recording's lines with their time set to ``when`` (epoch, written in UTC as nginx would)."""
    stamp = __import__("time").strftime("%d/%b/%Y:%H:%M:%S +0000", __import__("time").gmtime(when))
    return "".join(re.sub(r"\[[^\]]+\]", "[%s]" % stamp, line, count=1) for line in lines)


NOW = 1764979200   # 2025-12-06T00:00:00Z
DAY = 86400


def test_the_log_and_its_rotations_over_the_window(tmp_path):
    lines = recorded_lines()
    log = tmp_path / "access.log"
    log.write_text(moved(lines[:30], NOW - 3600))                               # today: 30 requests from 127.0.0.1
    (tmp_path / "access.log.1").write_text(moved(lines[32:77], NOW - 2 * DAY))  # two days ago: the 45 answers 401
    with gzip.open(str(tmp_path / "access.log.2.gz"), "wt") as handle:          # five days ago: the 502s
        handle.write(moved(lines[80:], NOW - 5 * DAY))
    with gzip.open(str(tmp_path / "access.log.3.gz"), "wt") as handle:          # rotated before the window: not read
        handle.write(moved(lines[77:80], NOW - 9 * DAY))
    (tmp_path / "other.log").write_text(moved(lines, NOW))                      # another log beside it: not its rotation
    for name, age in (("access.log", 3600), ("access.log.1", 2 * DAY), ("access.log.2.gz", 5 * DAY), ("access.log.3.gz", 9 * DAY)):
        os.utime(str(tmp_path / name), (NOW - age, NOW - age))
    fact, _warnings = AREA.gather(None, AREA.validate({"log_paths": [str(log)], "now": NOW, "since_days": 7}))
    assert [os.path.basename(f["path"]) for f in fact["files"]] == ["access.log", "access.log.1", "access.log.2.gz"]
    assert fact["requests"] == 30 + 45 + 6 and fact["status_classes"]["4xx"] == 45 and fact["server_errors"] == 6
    assert fact["covered_hours"] == 7 * 24   # an older rotation exists: the log reaches back past the window
    assert fact["requests_per_hour"] == round(81 / (7 * 24.0), 2)
    found = dict((c["check"], c) for c in fact["checks"])
    assert found["access_log"]["status"] == "ok" and "81 request(s) in the window from 3 file(s)" in found["access_log"]["message"]
    assert found["unauthorized_burst"]["status"] == "warn" and found["unknown_clients"]["status"] == "warn"
    assert found["server_error_rate"]["status"] == "crit"   # 6 of 81: 7.4 %
    assert fact["status"] == "crit"
    summary = AREA.present(fact)
    assert summary == ["access: 81 requests in 7 days (0.5 per hour, peak 45), 4xx 45, 5xx 6 (7.4 %), 401 peak 45 per "
                       "minute, 1 unknown client(s)"]


def test_rotated_false_reads_the_log_alone(tmp_path):
    lines = recorded_lines()
    (tmp_path / "access.log").write_text(moved(lines[:2], NOW - 60))
    (tmp_path / "access.log.1").write_text(moved(lines[2:4], NOW - 120))
    fact, _warnings = AREA.gather(None, AREA.validate({"log_paths": [str(tmp_path / "access.log")], "now": NOW, "rotated": False}))
    assert fact["requests"] == 2 and len(fact["files"]) == 1


def test_a_missing_log_is_unknown(tmp_path):
    fact, _warnings = AREA.gather(None, AREA.validate({"log_paths": [str(tmp_path / "access.log")], "now": NOW}))
    assert fact["status"] == "unknown" and "no such file" in fact["checks"][0]["message"]
    assert AREA.present(fact) == ["access: no access log read (%s)" % (tmp_path / "access.log")]


def test_known_clients_that_are_no_network_fail_naming_the_option():
    with pytest.raises(Exception) as caught:
        AREA.validate({"known_clients": ["office-lan"]})
    assert "known_clients" in str(caught.value) and "office-lan" in str(caught.value)


def test_the_traffic_table_matches_the_recording():
    # the recording was made from front_door.TRAFFIC: the table the tests count with is the one recorded
    counted = {}
    for line in recorded_lines():
        entry = parse.parse_line(line)
        counted[(entry["client"], entry["status"])] = counted.get((entry["client"], entry["status"]), 0) + 1
    table = {}
    for source, _site, _key, count, status in front_door.TRAFFIC:
        table[(source, status)] = table.get((source, status), 0) + count
    assert counted == table


def test_metrics_of_a_reviewed_week_and_none_of_a_log_not_read(tmp_path):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.access import present
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.prom import Families, parse_samples, render
    log = tmp_path / "access.log"
    log.write_text(moved(recorded_lines(), NOW - 60))
    fact, _warnings = AREA.gather(None, AREA.validate({"log_paths": [str(log)], "now": NOW}))
    fam = Families()
    present.metrics(fact, fam)
    text = render(fam)
    # the recording: 86 requests within the last minute of the window (the log covers 1 hour: 86 per hour),
    # 6 answered 502, all 45 answers 401 in one minute, one address outside the known networks
    assert parse_samples(text, "gpufleet_access_requests_per_hour") == [({}, 86.0)]
    assert parse_samples(text, "gpufleet_access_server_errors_ratio") == [({}, round(6 / 86.0, 4))]
    assert parse_samples(text, "gpufleet_access_unauthorized_peak_per_minute") == [({}, 45.0)]
    assert parse_samples(text, "gpufleet_access_unknown_clients") == [({}, 1.0)]
    unread, _warnings = AREA.gather(None, AREA.validate({"log_paths": [str(tmp_path / "none.log")], "now": NOW}))
    fam = Families()
    present.metrics(unread, fam)
    assert len(fam) == 0
