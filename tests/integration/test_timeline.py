"""Months, not runs (issue 19): the real cadence playbooks over 18 simulated months of a fleet of fresh
container hosts whose hardware drifts as tests/timeline/scenario.yml says, with the clock set to the
simulated day. Every failure of the scenario must be caught by its cadence, by its deadline, with
its fix in the message, and no check may go crit on what no failure explains.

It runs as its own layer, ``scripts/test timeline``, part of the default run (CI), sampled (1059 s measured on
2 idle cores): the daily of every GPUFLEET_TIMELINE_DAILY_EVERY-th day (default 14), the weekly of every
GPUFLEET_TIMELINE_WEEKLY_EVERY-th Sunday (4), the monthly of every GPUFLEET_TIMELINE_MONTHLY_EVERY-th month
(2); every quarterly and annual run. The first run provisions the fresh hosts, the later ones
treat them as provisioned (testlib.timeline.Timeline.run). GPUFLEET_TIMELINE_DAILY_EVERY=3
GPUFLEET_TIMELINE_WEEKLY_EVERY=1 GPUFLEET_TIMELINE_MONTHLY_EVERY=1 is the longer variant. What the
sampling hides is in docs/cadence.md. The timeline's JSON and HTML are kept in ``.cache/timeline/`` of the
checkout (or GPUFLEET_TIMELINE_ARTIFACTS) as the test's artifacts.
"""

import json
import os
import shutil
from html.parser import HTMLParser

import pytest

from testlib import timeline
from testlib.ansible_run import REPO_ROOT
from testlib.ssh_fleet import ensure_images

pytestmark = pytest.mark.integration

DAILY_EVERY = int(os.environ.get("GPUFLEET_TIMELINE_DAILY_EVERY", "14"))
WEEKLY_EVERY = int(os.environ.get("GPUFLEET_TIMELINE_WEEKLY_EVERY", "4"))
MONTHLY_EVERY = int(os.environ.get("GPUFLEET_TIMELINE_MONTHLY_EVERY", "2"))
ARTIFACTS = os.environ.get("GPUFLEET_TIMELINE_ARTIFACTS") or os.path.join(REPO_ROOT, ".cache", "timeline")


class _Rows(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.rows = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-id" in attrs:
            self.rows[attrs["data-id"]] = attrs["data-caught"]


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    ensure_images(timeline.IMAGE)
    scenario = timeline.load()
    workdir = tmp_path_factory.mktemp("timeline")
    with timeline.Timeline(workdir, scenario, log=lambda msg: print(msg, flush=True)) as run:
        verdict = run.run(DAILY_EVERY, WEEKLY_EVERY, monthly_every=MONTHLY_EVERY)
    meta = {"runs": len(run.run_log), "seconds": round(sum(r["seconds"] for r in run.run_log)),
            "sampling": "daily every %d days, weekly every %d weeks, monthly every %d months; every quarterly and annual run"
                        % (DAILY_EVERY, WEEKLY_EVERY, MONTHLY_EVERY)}
    if os.path.isdir(ARTIFACTS):
        shutil.rmtree(ARTIFACTS)
    os.makedirs(ARTIFACTS)
    page = timeline.html_report(scenario, verdict, meta)
    with open(os.path.join(ARTIFACTS, "timeline.html"), "w") as handle:
        handle.write(page)
    with open(os.path.join(ARTIFACTS, "timeline.json"), "w") as handle:
        json.dump({"meta": meta, "verdict": verdict, "runs": run.run_log}, handle, indent=1)
    with open(os.path.join(ARTIFACTS, "catch-table.md"), "w") as handle:
        handle.write(timeline.catch_table_markdown(scenario, verdict))
    return scenario, verdict, page, run.run_log


def test_every_failure_is_caught_by_its_cadence_by_its_deadline_with_the_fix(replay):
    scenario, verdict, _page, _log = replay
    missed = [r for r in verdict["failures"] if not r["caught"]]
    assert not missed, "not caught as the scenario says:\n" + "\n".join(
        "%s (%s, day %d, %s %s, deadline %d): first warn %s, first crit %s, seen by any cadence %s, fix %r in %r"
        % (r["id"], r["host"], r["day"], r["cadence"], r["check"], r["deadline"], r["first_warn"], r["first_crit"],
           r["first_any"], r["fix"], r["message"]) for r in missed)
    assert len(verdict["failures"]) == len(scenario["failures"]) >= 20


def test_no_false_crit_across_the_timeline(replay):
    _scenario, verdict, _page, _log = replay
    assert verdict["false_crit"] == [], "crit that no failure explains:\n" + "\n".join(
        "day %(day)d %(cadence)s %(host)s %(area)s/%(check)s %(subject)s: %(message)s" % o for o in verdict["false_crit"][:30])


def test_every_run_completed_on_every_host(replay):
    """A failed step or an unreachable host would hide a failure behind run/step_failed: every
    playbook run exits 0 or 2 (2: hosts failed on request by a crit, summary_fail_on) and no run
    reports a failed step."""
    _scenario, verdict, _page, log = replay
    assert all(r["rc"] in (0, 2) for r in log), [r for r in log if r["rc"] not in (0, 2)]
    steps = [o for o in verdict["false_crit"] + verdict["other"] if o["area"] == "run"]
    assert steps == []


def test_the_timeline_report_has_a_row_per_failure(replay):
    scenario, verdict, page, _log = replay
    parser = _Rows()
    parser.feed(page)
    assert parser.rows == dict((r["id"], "yes" if r["caught"] else "no") for r in verdict["failures"])
    assert len(parser.rows) == len(scenario["failures"])
