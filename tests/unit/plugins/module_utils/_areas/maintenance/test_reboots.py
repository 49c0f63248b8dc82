"""Area maintenance, check ``unexpected_reboots`` (issue 20): boots in the window that ended without a
clean shutdown, from ``journalctl --list-boots`` and each boot's last lines, else from wtmp (``last -x``).

The captures (tests/unit/fixtures/journalctl, tests/unit/fixtures/last, with PROVENANCE.md) are of one
week: boots ended on Nov 17 (powered off), Nov 19 (crashed), Nov 21 (crashed) and Nov 23 (rebooted);
the window starts Nov 19 00:00 UTC. Counted by hand: three boots ended in the window, two of them
without a clean shutdown.
"""

import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance import AREA, checks, collect, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.runner import ToolResult

LIMITS = AREA.checks.defaults()
SINCE = 1795046400  # 2026-11-19 00:00 UTC
RUNNING = "9a8f4b5c-6d7e-8f9a-0b1c-2d3e4f5a6b7c\n"  # /proc/sys/kernel/random/boot_id of the last boot
TAILS = {"5c4b0f1d2e3a4b5c6d7e8f9a0b1c2d3e": "boot-tail-power-off.jsonl",
         "6d5c1e2f3a4b5c6d7e8f9a0b1c2d3e4f": "boot-tail-crash-xid-user-logout.jsonl",
         "7e6d2f3a4b5c6d7e8f9a0b1c2d3e4f5a": "boot-tail-crash-xid.jsonl",
         "8f7e3a4b5c6d7e8f9a0b1c2d3e4f5a6b": "boot-tail-reboot.jsonl"}


def _read(fixture_path, *parts):
    with open(fixture_path(*parts)) as handle:
        return handle.read()


class Replay:
    """``run(argv, timeout, env)`` answering journalctl and last from the captures; records the calls."""

    def __init__(self, fixture_path, list_boots="list-boots-json-systemd252.json", last=None):
        self.fixture_path = fixture_path
        self.list_boots = list_boots
        self.last = last
        self.calls = []

    def __call__(self, argv, timeout, env=None):
        self.calls.append((os.path.basename(argv[0]), argv[1], env))
        if argv[1] == "--list-boots":
            return ToolResult(argv, 0, _read(self.fixture_path, "journalctl", self.list_boots), "")
        if argv[1] == "-b":
            return ToolResult(argv, 0, _read(self.fixture_path, "journalctl", TAILS[argv[2]]), "")
        rc, out, err = self.last
        return ToolResult(argv, rc, out, err)


# ---------------------------------------------------------------- parsers on the captures

def test_list_boots_json_and_table_agree(fixture_path):
    boots = parse.parse_list_boots(_read(fixture_path, "journalctl", "list-boots-json-systemd252.json"))
    table = parse.parse_list_boots_table(_read(fixture_path, "journalctl", "list-boots-utc-systemd252.txt"))
    assert boots == table
    assert [b["index"] for b in boots] == [-4, -3, -2, -1, 0]
    assert boots[1] == {"index": -3, "boot_id": "6d5c1e2f3a4b5c6d7e8f9a0b1c2d3e4f", "first_s": 1794949320, "last_s": 1795058220}
    assert parse.parse_list_boots(_read(fixture_path, "journalctl", "list-boots-utc-systemd252.txt")) is None


def test_list_boots_tables_of_older_journalctl(fixture_path):
    old = parse.parse_list_boots_table(_read(fixture_path, "journalctl", "list-boots-systemd246-issue17326.txt"))
    assert [b["boot_id"] for b in old] == ["9ed946320a354306b6d94071198f130b", "132fe52e87384afaa4ef83afa967a982",
                                           "bde6e48dd6084030856f26129514ee03"]
    assert old[0]["first_s"] is None  # CEST: a local time is not read (the collector passes --utc)
    fedora = parse.parse_list_boots_table(_read(fixture_path, "journalctl", "list-boots-systemd251-issue28981.txt"))
    assert fedora[0] == {"index": -2, "boot_id": "2ee7853b07a44e708cb2dc15a3ea2ad6", "first_s": 1695671293, "last_s": 1692993691}


@pytest.mark.parametrize("tail, clean", [
    ("boot-tail-power-off.jsonl", True),
    ("boot-tail-reboot.jsonl", True),
    ("boot-tail-crash-xid.jsonl", False),
    ("boot-tail-crash-xid-user-logout.jsonl", False),  # a user manager's "Reached target Shutdown." is not the system's
    ("journal-json-xid-oom.jsonl", False),
])
def test_how_a_boot_ended(fixture_path, tail, clean):
    assert parse.ended_cleanly(_read(fixture_path, "journalctl", tail)) is clean


def test_the_running_boot_did_not_end():
    assert parse.current_boot_id(RUNNING) == "9a8f4b5c6d7e8f9a0b1c2d3e4f5a6b7c"
    assert parse.current_boot_id("") is None


def test_last_x_of_the_week(fixture_path):
    wtmp = parse.parse_last_x(_read(fixture_path, "last", "last-x-F-sample-week-util-linux-2.38.txt"))
    assert wtmp["begins_s"] == 1794816000
    assert [kind for kind, _ts in wtmp["records"]] == ["reboot", "shutdown", "reboot", "reboot", "reboot", "shutdown", "reboot"]
    ended = parse.wtmp_boots_ended(wtmp["records"], SINCE)
    assert [(b["started_s"], b["ended_s"], b["clean"]) for b in ended] == [
        (1794949320, 1795058340, False),  # Nov 17 21:02, no shutdown record before the next boot (Nov 19 03:19)
        (1795058340, 1795255320, False),
        (1795255320, 1795426200, True),   # the reboot of Nov 23 09:30
    ]


@pytest.mark.parametrize("capture, clean", [("last-Fxn2-graceful-rhel8.txt", [True]), ("last-Fxn2-crash-rhel8.txt", [False])])
def test_last_x_of_red_hats_examples(fixture_path, capture, clean):
    wtmp = parse.parse_last_x(_read(fixture_path, "last", capture))
    assert [b["clean"] for b in parse.wtmp_boots_ended(wtmp["records"], 0)] == clean


# ---------------------------------------------------------------- the collector: which source

def test_the_journal_when_it_reaches_back_to_the_window(fixture_path):
    run = Replay(fixture_path)
    boots = parse.parse_list_boots(_read(fixture_path, "journalctl", "list-boots-json-systemd252.json"))
    reboots = collect.collect_reboots(run, lambda name: "/usr/bin/" + name, SINCE, boots, None, {
        "/proc/sys/kernel/random/boot_id": RUNNING}.get)
    assert (reboots["source"], reboots["ended"], reboots["unexpected"], reboots["unread"]) == ("journal", 3, 2, 0)
    assert [(b["boot"], b["clean"]) for b in reboots["boots"]] == [
        ("8f7e3a4b5c6d7e8f9a0b1c2d3e4f5a6b", True), ("7e6d2f3a4b5c6d7e8f9a0b1c2d3e4f5a", False),
        ("6d5c1e2f3a4b5c6d7e8f9a0b1c2d3e4f", False)]
    assert [c[0] for c in run.calls] == ["journalctl"] * 3  # last lines of the three boots; wtmp not needed


def test_wtmp_when_the_journal_does_not_reach_back(fixture_path):
    run = Replay(fixture_path, last=(0, _read(fixture_path, "last", "last-x-F-sample-week-util-linux-2.38.txt"), ""))
    boots = parse.parse_list_boots(_read(fixture_path, "journalctl", "list-boots-json-systemd252.json"))[-1:]  # volatile
    reboots = collect.collect_reboots(run, lambda name: "/usr/bin/" + name, SINCE, boots, None, {
        "/proc/sys/kernel/random/boot_id": RUNNING}.get)
    assert (reboots["source"], reboots["covered_since_s"], reboots["ended"], reboots["unexpected"]) == ("wtmp", 1794816000, 3, 2)
    assert run.calls[-1] == ("last", "-x", {"TZ": "UTC"})


def test_neither_readable(fixture_path):
    run = Replay(fixture_path, last=(1, "", _read(fixture_path, "last", "last-no-wtmp.stderr")))
    reboots = collect.collect_reboots(run, lambda name: "/usr/bin/" + name, SINCE, None, "journalctl not found", lambda p: None)
    assert reboots["source"] is None
    assert reboots["reason"] == ("journal: journalctl not found; wtmp: last -x -F failed: last: cannot open /var/log/wtmp: "
                                 "No such file or directory")


# ---------------------------------------------------------------- the verdict

def _reboots(unexpected, ended=3, source="journal", covered=SINCE - 86400, unread=0):
    return {"source": source, "reason": None, "covered_since_s": covered, "ended": ended, "unexpected": unexpected,
            "unread": unread, "boots": []}


@pytest.mark.parametrize("unexpected, status", [(0, "ok"), (1, "warn"), (2, "warn"), (3, "crit"), (5, "crit")])
def test_unexpected_reboots_warn_at_1_crit_at_3(unexpected, status):
    check = checks.reboots_check(_reboots(unexpected, ended=5), SINCE, LIMITS)
    assert (check["check"], check["status"], check["value"], check["subject"]) == ("unexpected_reboots", status, unexpected, {})


def test_the_message_says_what_was_counted_and_the_fix():
    check = checks.reboots_check(_reboots(2), SINCE, LIMITS)
    assert check["message"].startswith("boots that ended without a clean shutdown since 2026-11-19 (journal: 2 of 3 "
                                       "boot(s) that ended) is 2 (warning at 1): see how each one ended")
    assert "PSU" in check["message"]


def test_a_source_that_does_not_reach_back_is_unknown_unless_it_found_a_problem():
    short = checks.reboots_check(_reboots(0, covered=SINCE + 3600), SINCE, LIMITS)
    assert short["status"] == "unknown"
    assert "reaches back only to 2026-11-19 and the window starts 2026-11-19" in short["message"]
    assert checks.reboots_check(_reboots(1, covered=SINCE + 3600), SINCE, LIMITS)["status"] == "warn"


def test_no_boot_history_is_unknown():
    check = checks.reboots_check(dict(_reboots(0, source=None), reason="journal: x; wtmp: y"), SINCE, LIMITS)
    assert check["status"] == "unknown" and "no boot history was read (journal: x; wtmp: y)" in check["message"]


def test_thresholds_are_options():
    limits = AREA.validate({"thresholds": {"unexpected_reboots_warn": 2, "unexpected_reboots_crit": 5}})["thresholds"]
    assert checks.reboots_check(_reboots(1), SINCE, limits)["status"] == "ok"
    assert checks.reboots_check(_reboots(5, ended=6), SINCE, limits)["status"] == "crit"
