"""The cadence_report action plugin, run for real on fixture inputs (task args and facts → files).

Each case under fixtures/cadence_report/ gives the task's arguments and what must come out,
written by hand from the input: the report files, the problems, the hosts' order, the rows the
history holds afterwards. The plugin runs as Ansible runs it (ActionModule.run), with a real
SQLite history and real files under a temporary directory.
"""

import glob
import json
import os
import sqlite3
from unittest.mock import MagicMock

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.gpufleet.maintenance.plugins.action.cadence_report import ActionModule

CASES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "fixtures", "cadence_report", "*.yml")))
CASE_TWO_HOSTS = [c for c in CASES if c.endswith("two_hosts_one_failed.yml")][0]


def run_action(args, tmp_path, check_mode=False):
    task = Task()
    task.args = args
    task.check_mode = check_mode
    action = ActionModule(task=task, connection=MagicMock(), play_context=PlayContext(), loader=DataLoader(),
                          templar=None, shared_loader_obj=None)
    return action.run(task_vars={"inventory_dir": str(tmp_path)})


@pytest.mark.parametrize("case", CASES, ids=[os.path.basename(c)[:-4] for c in CASES])
def test_case(case, tmp_path):
    with open(case) as handle:
        spec = yaml.safe_load(handle)
    history = tmp_path / "history.db"
    if (spec.get("setup") or {}).get("history") == "damaged":
        history.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8192)
    args = dict(spec["args"], dest=str(tmp_path / "reports"), history_path=str(history))
    result = run_action(args, tmp_path)
    expect = spec["expect"]
    assert result.get("failed") is not True, result
    assert result["status"] == expect["status"]
    assert result["counts"] == expect["counts"]
    assert sorted(os.path.basename(p) for p in result["files"].values()) == expect["files"]
    assert [dict((k, p[k]) for k in ("host", "area", "check", "subject", "status")) for p in result["problems"]] == \
        expect["problems"]
    assert sorted(os.listdir(str(tmp_path / "reports"))) == expect["files"]  # no .tmp, no .reserved left
    if "json" in result["files"]:
        with open(result["files"]["json"]) as handle:
            report = json.load(handle)
        assert report["status"] == expect["status"]
        if "host_order" in expect:
            assert [row["host"] for row in report["hosts"]] == expect["host_order"]
    aside = glob.glob(str(history) + ".damaged-*")
    assert bool(aside) == bool(expect.get("history_moved_aside"))
    if aside:
        controller = [p for p in result["problems"] if p["host"] == "controller"][0]
        assert "moved aside to %s" % aside[0] in controller["message"]
        assert open(aside[0], "rb").read().startswith(b"SQLite format 3")  # kept for inspection
    conn = sqlite3.connect(str(history))
    for host, rows in expect.get("history_rows", {}).items():
        stored = sorted(conn.execute("SELECT metric, subject, value FROM metrics WHERE host = ?", (host,)))
        assert stored == sorted(tuple(row) for row in rows)
    conn.close()


def test_two_runs_in_the_same_second_write_distinct_reports(tmp_path):
    with open(CASE_TWO_HOSTS) as handle:
        args = yaml.safe_load(handle)["args"]
    args = dict(args, dest=str(tmp_path / "reports"), history_path=str(tmp_path / "h.db"), formats=["json", "html"])
    first = run_action(dict(args), tmp_path)
    second = run_action(dict(args), tmp_path)
    assert first["files"]["html"].endswith("daily-20251203T030000Z.html")
    assert second["files"]["html"].endswith("daily-20251203T030000Z-2.html")
    assert len(os.listdir(str(tmp_path / "reports"))) == 4


def test_check_mode_records_nothing_and_sends_nothing(tmp_path):
    with open(CASE_TWO_HOSTS) as handle:
        args = yaml.safe_load(handle)["args"]
    targets = [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/never"}]
    result = run_action(dict(args, dest=str(tmp_path / "r"), history_path=str(tmp_path / "h.db"),
                             alert_targets=targets), tmp_path, check_mode=True)
    assert result["history"]["recorded"] is False and not os.path.exists(str(tmp_path / "h.db"))
    assert [a["reason"] for a in result["alerts"]] == ["new", "new"] and result["sent"] == []


def test_a_bad_alert_target_costs_nothing_else_and_shows_no_secret(tmp_path):
    with open(CASE_TWO_HOSTS) as handle:
        args = yaml.safe_load(handle)["args"]
    targets = [{"name": "ops", "type": "webhook", "url": "http://ops:SECRET123/Ab+x@127.0.0.1:9/hook"}]
    result = run_action(dict(args, dest=str(tmp_path / "r"), history_path=str(tmp_path / "h.db"),
                             alert_targets=targets), tmp_path)
    assert result.get("failed") is not True
    assert result["files"] and result["history"]["recorded"] is True
    assert [s["ok"] for s in result["sent"]] == [False]
    assert "SECRET123" not in json.dumps(result) and "Ab+x" not in json.dumps(result)
