"""Alert decisions: status changes, still-crit repeats once per window, resolved, untouched hosts."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _alerts as a
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._report import host_rows

T0 = 1764000000.0
HOUR = 3600.0


def _hosts(status, host="box1"):
    return {host: {"gpufleet_host": {"checks": [
        {"check": "disk_used", "path": "/", "status": status, "value": 90, "threshold": 85, "message": "disk / is 90 %"},
        {"check": "memory_available", "status": "ok", "value": 50, "threshold": 10, "message": "ok"}]}}}


def _run(state, hosts, now, failed=None, repeat=24):
    problems = a.keyed(host_rows(hosts, failed)[2])
    return a.decide(state, problems, set(hosts) | set(failed or {}), now, repeat)


def test_new_problem_is_sent_then_not_repeated_within_the_window():
    alerts, state = _run({}, _hosts("warn"), T0)
    assert [(x["host"], x["key"], x["status"], x["reason"]) for x in alerts] == [("box1", "host/disk_used/path=/", "warn", "new")]
    alerts, state = _run(state, _hosts("warn"), T0 + HOUR)
    assert alerts == []
    # A warning never repeats, even after the window.
    alerts, state = _run(state, _hosts("warn"), T0 + 48 * HOUR)
    assert alerts == []


def test_change_to_crit_then_still_crit_once_per_window():
    _alerts, state = _run({}, _hosts("warn"), T0)
    alerts, state = _run(state, _hosts("crit"), T0 + HOUR)
    assert [(x["reason"], x["previous"], x["status"]) for x in alerts] == [("changed", "warn", "crit")]
    alerts, state = _run(state, _hosts("crit"), T0 + 10 * HOUR)
    assert alerts == []
    alerts, state = _run(state, _hosts("crit"), T0 + 25 * HOUR)
    assert [x["reason"] for x in alerts] == ["still_crit"]
    alerts, state = _run(state, _hosts("crit"), T0 + 26 * HOUR)
    assert alerts == []
    # changed_at stays at the change, sent_at moves with each send.
    assert state[("box1", "host/disk_used/path=/")]["changed_at"] == T0 + HOUR
    assert state[("box1", "host/disk_used/path=/")]["sent_at"] == T0 + 25 * HOUR


def test_resolved_is_sent_once_and_hosts_not_in_the_run_keep_their_state():
    _alerts, state = _run({}, dict(_hosts("crit"), **_hosts("warn", "box2")), T0)
    alerts, state = _run(state, _hosts("ok"), T0 + HOUR)  # box2 not in this run (--limit)
    assert [(x["host"], x["reason"], x["status"], x["previous"]) for x in alerts] == [("box1", "resolved", "ok", "crit")]
    assert list(state) == [("box2", "host/disk_used/path=/")]
    alerts, state = _run(state, _hosts("ok"), T0 + 2 * HOUR)
    assert alerts == []


def test_failed_hosts_alert_as_crit():
    alerts, _state = _run({}, {}, T0, failed={"box3": None})
    assert alerts[0]["host"] == "box3" and alerts[0]["key"] == "run/reachable/" and alerts[0]["status"] == "crit"
    assert "unreachable" in alerts[0]["message"]


def test_repeat_zero_sends_every_run_and_negative_is_refused():
    _alerts, state = _run({}, _hosts("crit"), T0, repeat=0)
    alerts, _state = _run(state, _hosts("crit"), T0 + 1, repeat=0)
    assert [x["reason"] for x in alerts] == ["still_crit"]
    with pytest.raises(ValueError, match="repeat_hours"):
        a.decide({}, {}, [], T0, -1)


@pytest.mark.parametrize("kind, key", [("webhook", "alerts"), ("slack", "text"), ("email", "subject")])
def test_payloads(kind, key):
    alerts, _state = _run({}, _hosts("crit"), T0)
    body = a.payload(kind, alerts, "daily", "reports/daily.html")
    assert key in body
    if kind == "slack":
        assert "[CRIT] box1 host/disk_used/path=/" in body["text"] and "reports/daily.html" in body["text"]
    if kind == "email":
        assert body["subject"] == "[gpufleet daily] CRIT: 1 alert(s)"
    with pytest.raises(ValueError):
        a.payload("pager", alerts, "daily")


def test_validate_targets_names_the_problem_without_secrets():
    errors = a.validate_targets([{"type": "webhook", "url": "ftp://secret-token@x"}, {"type": "email"},
                                 {"type": "sms", "name": "n"}, "x", {"type": "slack", "url": "https://hooks/x"}])
    assert len(errors) == 4
    assert not [e for e in errors if "secret-token" in e]


def test_checks_differing_only_by_module_or_kernel_are_separate_alerts():
    # Issue 17's second defect: the alert key had no room for {module, kernel}, so the first one won.
    hosts = {"box1": {"gpufleet_driver_stack": {"checks": [
        {"check": "dkms_built", "status": "ok", "subject": {"module": "nvidia", "kernel": "6.8.0-45-generic"},
         "message": "built"},
        {"check": "dkms_built", "status": "crit", "subject": {"module": "nvidia", "kernel": "6.8.0-49-generic"},
         "message": "no module for the newest kernel"},
        {"check": "dkms_built", "status": "warn", "subject": {"module": "nvidia-peermem", "kernel": "6.8.0-49-generic"},
         "message": "peermem missing"}]}}}
    alerts, _state = _run({}, hosts, T0)
    assert sorted((x["key"], x["status"]) for x in alerts) == [
        ("driver_stack/dkms_built/kernel=6.8.0-49-generic,module=nvidia", "crit"),
        ("driver_stack/dkms_built/kernel=6.8.0-49-generic,module=nvidia-peermem", "warn")]


def test_a_target_with_a_slash_in_its_password_sends_nothing_and_shows_no_secret():
    target = {"name": "ops", "type": "webhook", "url": "http://ops:SECRET123/Ab+x@127.0.0.1:9/hook"}
    outcome = a.post("ops", "webhook", target, {"alerts": []}, 1)
    assert outcome["ok"] is False and outcome["status"] is None
    assert "SECRET123" not in outcome["error"] and "Ab+x" not in outcome["error"]
    assert "%2F" in outcome["error"]


def test_redact_removes_every_piece_of_a_secret():
    target = {"url": "http://ops:SECRET123/Ab+x@127.0.0.1:9/hook", "headers": {"Authorization": "Bearer t0ken"}}
    text = "nonnumeric port: 'SECRET123' at http://ops:SECRET123/Ab+x@127.0.0.1:9/hook with Bearer t0ken"
    shown = a.redact(text, target)
    assert "SECRET123" not in shown and "t0ken" not in shown and "Ab+x" not in shown


def test_a_run_resolves_only_what_it_looked_at():
    """A quarterly SMART warning and a GPU crit are stored; the next daily run reads host and gpu but not
    smart, and box2 is unreachable: only box1's GPU problem (now gone) is resolved."""
    stored = {("box1", "smart/wear/device=/dev/nvme0"): {"status": "warn", "message": "wear 91 %", "changed_at": 1, "sent_at": 1},
              ("box1", "gpu/gpu_temperature/gpu=0"): {"status": "crit", "message": "92 C", "changed_at": 1, "sent_at": 1},
              ("box2", "gpu/gpu_temperature/gpu=0"): {"status": "crit", "message": "93 C", "changed_at": 1, "sent_at": 1}}
    report = {"hosts": [{"host": "box1", "areas": {"host": "ok", "gpu": "ok"}},
                        {"host": "box2", "areas": {"host": None, "gpu": None}}], "controller_areas": ["history"]}
    problems = {("box2", "run/reachable/"): {"status": "crit", "message": "unreachable"}}
    alerts, state = a.decide(stored, problems, ["box1", "box2", "controller"], 100, 24, checked_areas=a.looked_at(report))
    assert [(x["host"], x["key"], x["reason"]) for x in alerts] == [
        ("box2", "run/reachable/", "new"), ("box1", "gpu/gpu_temperature/gpu=0", "resolved")]
    assert sorted(state) == [("box1", "smart/wear/device=/dev/nvme0"), ("box2", "gpu/gpu_temperature/gpu=0"),
                             ("box2", "run/reachable/")]
    # without the areas (the alerts action's older callers) every saved problem of a checked host resolves
    alerts, _state = a.decide(stored, {}, ["box1"], 100, 24)
    assert sorted(x["key"] for x in alerts) == ["gpu/gpu_temperature/gpu=0", "smart/wear/device=/dev/nvme0"]
