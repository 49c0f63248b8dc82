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
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status

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
        # The summaries printed at the end of a cadence: one per reached host, headed by the report's verdict.
        rows = dict((row["host"], row) for row in report["hosts"])
        assert sorted(result["summaries"]) == sorted(spec["args"]["hosts"])
        for host, lines in result["summaries"].items():
            assert lines[0] == "status: %s" % rows[host]["status"].upper()
        # Each host's status for the role's verdict (fleet_report_fail_on): the report's row, where no step
        # failed; where one did, the worst of the areas it gathered (the role fails it for its step instead).
        assert sorted(result["statuses"]) == sorted(spec["args"]["hosts"])
        failures = spec["args"].get("step_failures") or {}
        for host, status in result["statuses"].items():
            gathered = [s for area, s in rows[host]["areas"].items() if area != "run"]
            assert status == (rows[host]["status"] if host not in failures else worst_status(gathered))
    if "json" in result["files"] and spec["args"].get("step_failures"):
        with open(result["files"]["json"]) as handle:
            rows = dict((row["host"], row) for row in json.load(handle)["hosts"])
        for host, failure in spec["args"]["step_failures"].items():
            assert rows[host]["reachable"] is True and rows[host]["failed_step"] == failure
            assert rows[host]["areas"]["host"] == "ok"  # the facts gathered before the failure are kept
            assert "CRIT step_failed: failed: %s" % failure in result["summaries"][host]
            assert any(line.startswith("disk /: 10.0% used") for line in result["summaries"][host])
        failed = [p for p in result["problems"] if p["check"] == "step_failed"]
        assert failed[0]["message"] == "failed: %s" % spec["args"]["step_failures"][failed[0]["host"]]
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


def _disk_run(tmp_path, used_pct, now_var, **extra):
    """One simulated daily/monthly run: disk use of box1 ``/``, the clock set through ``gpufleet_now``."""
    from ansible.template import Templar, trust_as_template
    facts = {"gpufleet_host": {"schema_version": 1, "status": "ok", "disks": [{"path": "/", "used_pct": used_pct}],
                               "checks": [{"check": "disk_used", "status": "ok", "value": used_pct, "threshold": 80,
                                           "subject": {"path": "/"}, "message": "/ %s%% used" % used_pct}]}}
    args = dict({"cadence": "monthly", "hosts": {"box1": facts}, "dest": str(tmp_path / "reports"),
                 "history_path": str(tmp_path / "history.db"), "formats": ["json"], "trend_checks": ["disk_fill"],
                 "trend_check_days": 400, "trend_thresholds": {"disk_fill_warn_days": 60, "disk_fill_crit_days": 20}},
                **extra)
    task = Task()
    task.args = args
    task_vars = {"inventory_dir": str(tmp_path), "day0": 1764000000, "gpufleet_now": trust_as_template(now_var)}
    action = ActionModule(task=task, connection=MagicMock(), play_context=PlayContext(), loader=DataLoader(),
                          templar=Templar(loader=DataLoader(), variables=task_vars), shared_loader_obj=None)
    return action.run(task_vars=task_vars)


def test_simulated_months_take_a_trend_check_from_waiting_to_ok_warn_crit(tmp_path):
    """Runs 30 simulated days apart (the clock from gpufleet_now): disk use +20 % per 30 days.

    Days left to 100 % at the last run (hand-computed, linear): 50 % → 75 days (ok), 70 % → 45 (warn < 60),
    90 % → 15 (crit < 20); the first two runs hold 1 and 2 points, a trend needs 3: waiting for history, which
    is no verdict (no trends fact, no problem, no stored check) but a report section saying when it can tell.
    """
    seen = []
    for month, used in enumerate((10, 30, 50, 70, 90)):
        result = _disk_run(tmp_path, used, "{{ day0 + %d * 30 * 86400 }}" % month)
        assert result.get("failed") is not True, result
        problems = [p for p in result["problems"] if p["area"] == "trends"]
        with open(result["files"]["json"]) as handle:
            report = json.load(handle)
        if month < 2:
            assert "box1" not in result["trends"] and problems == [] and "trends" not in report["areas"]
            [section] = [s for s in report["sections"] if s["title"].startswith("Trend checks waiting for history")]
            assert section["lines"][0].startswith("box1 path=/: could not look: the history holds %d run(s)" % (month + 1))
            assert "after %d more run(s)" % (2 - month) in section["lines"][0]
            seen.append(("waiting", month + 1))
            continue
        check = result["trends"]["box1"]["checks"][0]
        seen.append((check["status"], check["value"]))
        if check["status"] == "ok":
            assert problems == []
        else:
            assert [(p["host"], p["check"], p["subject"], p["status"]) for p in problems] == \
                [("box1", "disk_fill", "path=/", check["status"])]
            # the trend check reaches the summary printed at the end of the run, not only the report
            assert [line for line in result["summaries"]["box1"] if "disk_fill" in line] == \
                ["%s disk_fill: %s" % (check["status"].upper(), check["message"])]
        assert result["history"]["now"] == 1764000000 + month * 30 * 86400
    assert seen == [("waiting", 1), ("waiting", 2), ("ok", 75), ("warn", 45), ("crit", 15)]
    assert report["status"] == "crit" and "trends" in report["areas"]
    assert report["hosts"][0]["areas"]["trends"] == "crit"
    conn = sqlite3.connect(str(tmp_path / "history.db"))
    stored = list(conn.execute("SELECT r.ts, c.status FROM checks c JOIN runs r ON r.id = c.run_id "
                               "WHERE c.area = 'trends' AND c.name = 'disk_fill' ORDER BY r.ts"))
    conn.close()
    assert [s for _ts, s in stored] == ["ok", "warn", "crit"]
    assert stored[-1][0] == 1764000000 + 4 * 30 * 86400


def test_a_trend_crit_is_alerted_like_any_check(tmp_path):
    sent = []
    for month, used in enumerate((50, 70, 90)):
        result = _disk_run(tmp_path, used, "{{ day0 + %d * 30 * 86400 }}" % month,
                           alert_targets=[{"name": "mail", "type": "email", "to": "ops@example.org"}])
        sent.append([(a["host"], a["key"], a["status"]) for a in result["alerts"]])
    assert sent[2] == [("box1", "trends/disk_fill/path=/", "crit")]


def test_unknown_trend_check_names_and_thresholds_fail_the_task(tmp_path):
    result = _disk_run(tmp_path, 10, "1764000000", trend_checks=["junction"])
    assert result["failed"] is True and "junction" in result["msg"]
    result = _disk_run(tmp_path, 10, "1764000000", trend_thresholds={"disk_full_days": 3})
    assert result["failed"] is True and "disk_full_days" in result["msg"]
    result = _disk_run(tmp_path, 10, "not a time")
    assert result["failed"] is True and "gpufleet_now" in result["msg"]


# ------------------------------------------------------------------ check_role_arguments (the role's arguments, first)

ROLE_SPEC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "fleet_report", "meta",
                         "argument_specs.yml")
ROLE_DEFAULTS = os.path.join(os.path.dirname(ROLE_SPEC), "..", "defaults", "main.yml")


def _run_checking_the_role(tmp_path, role_vars, spec=ROLE_SPEC, check_mode=False, no_log=False):
    """The report task as fleet_report runs it: the role's defaults and ``role_vars`` are the task's variables."""
    from ansible.template import Templar
    with open(CASE_TWO_HOSTS) as handle:
        args = yaml.safe_load(handle)["args"]
    with open(ROLE_DEFAULTS) as handle:
        task_vars = dict(yaml.safe_load(handle), inventory_dir=str(tmp_path), **role_vars)
    task = Task()
    task.args = dict(args, check_role_arguments=str(spec), dest=str(tmp_path / "reports"),
                     history_path=str(tmp_path / "history.db"))
    task.check_mode = check_mode
    task.no_log = no_log
    loader = DataLoader()
    action = ActionModule(task=task, connection=MagicMock(), play_context=PlayContext(), loader=loader,
                          templar=Templar(loader=loader, variables=task_vars), shared_loader_obj=None)
    return action.run(task_vars=task_vars)


def _nothing_written(tmp_path):
    return not os.path.exists(str(tmp_path / "history.db")) and not os.path.exists(str(tmp_path / "reports"))


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check_mode"])
def test_a_bad_role_argument_fails_first_names_it_and_writes_nothing(tmp_path, check_mode):
    result = _run_checking_the_role(tmp_path, {"fleet_report_fail_on": "sometimes"}, check_mode=check_mode)
    assert result["failed"] is True
    assert result["msg"].startswith("Validation of arguments failed:\n")
    assert "fleet_report_fail_on" in result["msg"] and "sometimes" in result["msg"]
    assert result["argument_errors"] == [
        "value of fleet_report_fail_on must be one of: none, unknown, warn, crit, got: sometimes"]
    assert result["argument_spec_data"]["fleet_report_fail_on"]["choices"] == ["none", "unknown", "warn", "crit"]
    context = result["validate_args_context"]
    assert (context["type"], context["name"], context["argument_spec_name"]) == ("role", "fleet_report", "main")
    assert "files" not in result and "history" not in result and "alerts" not in result
    assert _nothing_written(tmp_path)  # no history recorded, no report written, nothing sent


def test_the_role_arguments_are_templated_before_they_are_checked(tmp_path):
    from ansible.template import trust_as_template
    bad = _run_checking_the_role(tmp_path, {"days": "many", "fleet_report_trend_days": trust_as_template("{{ days }}")})
    assert bad["failed"] is True and "fleet_report_trend_days" in bad["msg"], bad
    assert _nothing_written(tmp_path)
    good = _run_checking_the_role(tmp_path, {"days": 30, "fleet_report_trend_days": trust_as_template("{{ days }}"),
                                             "fleet_report_fail_on": "warn", "fleet_report_cadence": "daily",
                                             "fleet_report_alert_repeat_hours": "12"})
    assert good.get("failed") is not True, good
    assert good["history"]["recorded"] is True and good["files"]
    assert "argument_errors" not in good


def test_the_role_defaults_pass_and_the_run_goes_on(tmp_path):
    result = _run_checking_the_role(tmp_path, {})
    assert result.get("failed") is not True, result
    assert result["status"] == "crit" and result["history"]["recorded"] is True


def test_a_missing_or_wrong_role_spec_fails_clearly_and_writes_nothing(tmp_path):
    missing = tmp_path / "no_role" / "meta" / "argument_specs.yml"
    result = _run_checking_the_role(tmp_path, {}, spec=missing)
    assert result["failed"] is True
    assert result["msg"].startswith("check_role_arguments: cannot read the role's argument specification %s" % missing)
    assert _nothing_written(tmp_path)
    wrong = tmp_path / "role" / "meta" / "argument_specs.yml"
    wrong.parent.mkdir(parents=True)
    wrong.write_text("---\nargument_specs:\n  other:\n    options: {}\n")
    result = _run_checking_the_role(tmp_path, {}, spec=wrong)
    assert result["failed"] is True and result["msg"] == (
        "check_role_arguments: %s has no argument_specs.main with options (give a role's meta/argument_specs.yml)"
        % wrong)
    assert _nothing_written(tmp_path)
    wrong.write_text("---\n- not a spec\n")
    assert "has no argument_specs.main" in _run_checking_the_role(tmp_path, {}, spec=wrong)["msg"]
    wrong.write_text("argument_specs: [\n")
    assert "cannot read" in _run_checking_the_role(tmp_path, {}, spec=wrong)["msg"]
    assert _nothing_written(tmp_path)


def test_a_no_log_report_task_still_says_which_role_argument_is_wrong(tmp_path, monkeypatch):
    from ansible.plugins.action import display
    shown = []
    monkeypatch.setattr(display, "warning", lambda msg, *args, **kwargs: shown.append(msg))
    result = _run_checking_the_role(tmp_path, {"fleet_report_fail_on": "sometimes"}, no_log=True)
    assert result["failed"] is True
    assert len(shown) == 1 and "fleet_report_fail_on" in shown[0] and "sometimes" in shown[0]
