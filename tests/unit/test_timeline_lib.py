"""The pure parts of the timeline runner (tests/testlib/timeline.py): scenario values, the calendar of
cadence runs, the catch evaluation and the SMART capture rewriting. Expected values are worked out by
hand from the calendar and the scenario rules, not taken from the runner."""

import datetime
import os
import re

from testlib import timeline

SCENARIO = {"start": "2025-01-01", "days": 547, "hosts": {}, "failures": []}


def test_linear_values_between_points_and_held_outside():
    spec = {"points": [[10, 70], [20, 90]]}
    assert timeline.value_at(spec, 0) == 70
    assert timeline.value_at(spec, 10) == 70
    assert timeline.value_at(spec, 15) == 80
    assert timeline.value_at(spec, 20) == 90
    assert timeline.value_at(spec, 400) == 90


def test_step_values_hold_until_the_next_point():
    spec = {"step": True, "points": [[0, 0], [150, 18], [160, 0]]}
    assert [timeline.value_at(spec, d) for d in (0, 149, 150, 159, 160, 500)] == [0, 0, 18, 18, 0, 0]
    versions = {"points": [[0, "535.183.01"], [160, "535.216.01"]]}   # strings always step
    assert timeline.value_at(versions, 159) == "535.183.01" and timeline.value_at(versions, 160) == "535.216.01"


def test_the_calendar_of_eighteen_months():
    runs = timeline.runs(SCENARIO)
    counts = {}
    for _day, cadence, _epoch in runs:
        counts[cadence] = counts.get(cadence, 0) + 1
    # 2025-01-01 .. 2026-07-01: 547 days, 78 Sundays (2025-01-05 .. 2026-06-28), 19 firsts of a month,
    # 7 firsts of a quarter (Jan, Apr, Jul, Oct 2025, Jan, Apr, Jul 2026), two January 2nds.
    assert counts == {"daily": 547, "weekly": 78, "monthly": 19, "quarterly": 7, "annual": 2}
    # day 0 is a Wednesday, January 1st: monthly at 04:00, quarterly at 05:00, daily at 06:00
    first = [(d, c) for d, c, _e in runs if d == 0]
    assert first == [(0, "monthly"), (0, "quarterly"), (0, "daily")]
    assert [(d, c) for d, c, _e in runs if d == 1] == [(1, "annual"), (1, "daily")]
    assert [d for d, c, _e in runs if c == "weekly"][:2] == [4, 11]        # Sunday, January 5th and 12th
    assert [d for d, c, _e in runs if c == "quarterly"] == [0, 90, 181, 273, 365, 455, 546]
    epoch = [e for d, c, e in runs if d == 0 and c == "daily"][0]
    assert datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat() == "2025-01-01T06:00:00+00:00"


def test_sampling_keeps_every_monthly_quarterly_and_annual_run():
    runs = timeline.runs(SCENARIO, daily_every=14, weekly_every=4)
    counts = {}
    for _day, cadence, _epoch in runs:
        counts[cadence] = counts.get(cadence, 0) + 1
    assert counts == {"daily": 40, "weekly": 20, "monthly": 19, "quarterly": 7, "annual": 2}   # ceil(547/14), ceil(78/4)
    assert [d for d, c, _e in runs if c == "daily"][:3] == [0, 14, 28]
    assert [d for d, c, _e in runs if c == "weekly"][:3] == [4, 32, 60]


def test_monthly_sampling_takes_every_other_first_of_the_month_and_keeps_the_quarterly_runs():
    runs = timeline.runs(SCENARIO, daily_every=14, weekly_every=4, monthly_every=2)
    # January, March, May, July, September, November 2025, January, March, May, July 2026: 10 of the 19
    # firsts (2025-03-01 is day 59, 2025-05-01 day 120); the quarterly runs stay on their 7 days
    assert [d for d, c, _e in runs if c == "monthly"][:3] == [0, 59, 120]
    assert len([1 for _d, c, _e in runs if c == "monthly"]) == 10
    assert [d for d, c, _e in runs if c == "quarterly"] == [0, 90, 181, 273, 365, 455, 546]


FAILURE = {"id": "x", "title": "X", "host": "h1", "day": 100, "cadence": "daily", "check": "gpu/vram_used",
           "deadline": 120, "fix": "restart"}


def _obs(day, status, host="h1", cadence="daily", area="gpu", check="vram_used", message="VRAM 96 %: restart the runner"):
    return {"day": day, "cadence": cadence, "host": host, "area": area, "check": check, "subject": "gpu=0",
            "status": status, "message": message}


def test_a_failure_is_caught_by_its_cadence_before_its_deadline_with_the_fix():
    scenario = dict(SCENARIO, failures=[FAILURE])
    verdict = timeline.evaluate(scenario, [_obs(90, "warn", host="h2"), _obs(112, "warn"), _obs(126, "crit")])
    [row] = verdict["failures"]
    assert (row["first_warn"], row["first_crit"], row["caught"], row["fix_seen"]) == (112, 126, True, True)
    # the warn on h2 before the failure started is another host's: not explained, a warn, not a false crit
    assert verdict["false_crit"] == [] and len(verdict["other"]) == 1


def test_late_wrong_cadence_or_without_the_fix_is_not_caught():
    scenario = dict(SCENARIO, failures=[FAILURE])
    late = timeline.evaluate(scenario, [_obs(121, "crit")])["failures"][0]
    assert late["first_warn"] == 121 and late["caught"] is False
    other_cadence = timeline.evaluate(scenario, [_obs(105, "warn", cadence="weekly")])["failures"][0]
    assert other_cadence["first_warn"] is None and other_cadence["first_any"] == 105 and other_cadence["caught"] is False
    no_fix = timeline.evaluate(scenario, [_obs(105, "warn", message="VRAM 96 %")])["failures"][0]
    assert no_fix["first_warn"] == 105 and no_fix["fix_seen"] is False and no_fix["caught"] is False


def test_a_crit_no_failure_explains_is_a_false_crit():
    scenario = dict(SCENARIO, failures=[FAILURE])
    verdict = timeline.evaluate(scenario, [_obs(99, "crit"), _obs(130, "crit", check="ecc_uncorrectable"),
                                           _obs(130, "unknown", host="h3")])
    assert [(o["day"], o["check"]) for o in verdict["false_crit"]] == [(99, "vram_used"), (130, "ecc_uncorrectable")]


def test_smart_capture_rewriting_keeps_the_layout():
    path = os.path.join(timeline.FIXTURES, "smartctl", "text-nvme-wd-sn850x-2tb-smartctl74.txt")
    with open(path, encoding="utf-8") as handle:
        template = handle.read()
    text = timeline.smart_text(template, {"smart.data_units_written": 100000000, "smart.media_errors": 3,
                                          "smart.unsafe_shutdowns": 47.4})
    lines = dict((line.split(":", 1)[0], line) for line in text.splitlines() if ":" in line)
    # 10^8 units of 512,000 bytes = 51.2 TB, in smartctl 7.4's grouping of this capture
    assert lines["Data Units Written"] == "Data Units Written:                 100\u2019000\u2019000 [51.2 TB]"
    assert lines["Media and Data Integrity Errors"] == "Media and Data Integrity Errors:    3"
    assert lines["Unsafe Shutdowns"] == "Unsafe Shutdowns:                   47"
    assert len(text.splitlines()) == len(template.splitlines())


def test_the_scenario_file_keeps_its_promises():
    """The shipped scenario: 6+ hosts, 20+ failures over 18 months, each on a known host with its
    deadline after its start and inside the timeline."""
    scenario = timeline.load()
    assert len(scenario["hosts"]) >= 6 and len(scenario["failures"]) >= 20 and scenario["days"] >= 540
    ids = [f["id"] for f in scenario["failures"]]
    assert len(ids) == len(set(ids))
    for failure in scenario["failures"]:
        assert failure["host"] in scenario["hosts"], failure["id"]
        assert failure["day"] < failure["deadline"] <= scenario["days"], failure["id"]
        assert failure["cadence"] in timeline.CADENCE_HOUR, failure["id"]


def test_a_failure_explains_the_other_symptoms_it_lists_but_is_caught_only_by_its_check():
    failure = dict(FAILURE, check="gpu/driver_library_mismatch", explains=["driver_stack/nvml_init"])
    scenario = dict(SCENARIO, failures=[failure])
    verdict = timeline.evaluate(scenario, [_obs(101, "crit", area="driver_stack", check="nvml_init", message="reboot it")])
    assert verdict["false_crit"] == [] and verdict["failures"][0]["caught"] is False


def test_a_newer_kernel_than_the_running_one():
    assert timeline.newer_kernel("6.18.44-fc-v1147") == "6.19.0-1-amd64"
    assert timeline.newer_kernel("6.1.0-28-amd64") == "6.2.0-1-amd64"


def test_docs_show_the_catch_table_of_the_scenario():
    """docs/cadence.md has a row per failure of the scenario with its cadence, check and deadline."""
    scenario = timeline.load()
    with open(os.path.join(timeline.REPO_ROOT, "docs", "cadence.md")) as handle:
        docs = handle.read()
    for failure in scenario["failures"]:
        row = re.search(r"^\| %s \| %s \| %d \| %s `%s` \| %d \|" % (
            re.escape(failure["title"]), re.escape(failure["host"]), failure["day"], failure["cadence"],
            re.escape(failure["check"]), failure["deadline"]), docs, re.M)
        assert row, "docs/cadence.md has no catch-table row for %s" % failure["id"]
