"""Every cadence playbook over real SSH on four fresh Debian 12 boxes (issue 18), as a new user runs them.

The boxes (tests/testlib/ssh_fleet.py) have python3, sudo and sshd and nothing of ours; ``ops`` logs in
with a key and the plays use ``become: true``. They sit on an internal network: their APT reaches
Debian's archive through a proxy that lets nothing else through, and PyPI is out of reach, so the
Python libraries can only come from the controller's wheels (the prerequisites role).

- ``down``: created, then stopped: unreachable in every run;
- ``nosdk``: Debian's docker.io with dockerd running, and no Docker SDK for Python until the
  prerequisites role runs;
- ``dockeroff``: docker.io installed, dockerd not running;
- ``healthy``: docker.io with dockerd running.

The containers live for the whole module: the cadences run one after another over the same boxes
(daily with ``gpufleet_prerequisites=false``, then all five for real, then all five in check mode,
then again those whose first run changed something). The history of those runs and the report sections
of each cadence, in check mode and not, are checked on these runs too (no runs of their own on the
controller).
The verdicts of issue 18 are asserted on the reports those runs wrote (no run of their own): the
stopped box unreachable, not failed; without the SDK docker is ``unknown`` naming the SDK, never
"not present"; with the SDK and dockerd stopped docker is ``crit`` with the fix; a cell is ``ok``
only where the host's fact has no check that is not; the fleet status is never OK.
"""

import glob
import json
import os
import re
import sqlite3

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import status_rank
from testlib.ansible_run import REPO_ROOT
from testlib.ssh_fleet import FRESH_SSH, FRESH_SSH_DOCKER, FleetHost, SshFleet

pytestmark = pytest.mark.integration
CADENCES = ["daily", "weekly", "monthly", "quarterly", "annual"]
REACHABLE = ["nosdk", "dockeroff", "healthy"]
VENV = "/opt/gpufleet/venv"


def _pins():
    """The versions constraints.txt pins, by lower-case name: what the hosts must end up with."""
    pins = {}
    with open(os.path.join(REPO_ROOT, "constraints.txt")) as handle:
        for line in handle:
            match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
            if match:
                pins[match.group(1).lower()] = match.group(2)
    return pins


class FleetState:
    """The module's fleet and the runs made on it, each made once, in order, when first asked for."""

    def __init__(self, fleet, tmp):
        self.fleet = fleet
        self.tmp = tmp
        self.runs = {}

    def vars(self, phase):
        return {"gpufleet_report_dir": os.path.join(self.tmp, phase, "reports"),
                "gpufleet_history_path": os.path.join(self.tmp, "history.db"),
                "prerequisites_wheel_cache": os.path.join(self.tmp, "wheels")}

    def reports(self, phase, cadence):
        return sorted(glob.glob(os.path.join(self.tmp, phase, "reports", "%s-*.json" % cadence)))

    def before(self):
        """daily with the prerequisites role switched off: the boxes as they came."""
        if "before" not in self.runs:
            self.runs["before"] = self.fleet.playbook("playbooks/daily.yml",
                                                      extra_vars=dict(self.vars("before"), gpufleet_prerequisites=False))
        return self.runs["before"]

    def applied(self):
        if "applied" not in self.runs:
            self.before()
            self.runs["applied"] = dict((c, self.fleet.playbook("playbooks/%s.yml" % c, extra_vars=self.vars("applied")))
                                        for c in CADENCES)
        return self.runs["applied"]

    def history_cadences(self):
        """The cadence of every run the history holds, in order."""
        conn = sqlite3.connect(os.path.join(self.tmp, "history.db"))
        try:
            return [row[0] for row in conn.execute("SELECT cadence FROM runs ORDER BY id")]
        finally:
            conn.close()

    def checked(self):
        if "checked" not in self.runs:
            self.applied()
            self.recorded_before_check = self.history_cadences()
            self.runs["checked"] = dict((c, self.fleet.playbook("playbooks/%s.yml" % c, check=True,
                                                                extra_vars=self.vars("checked")))
                                        for c in CADENCES)
            self.recorded_after_check = self.history_cadences()
        return self.runs["checked"]

    def first_changes(self):
        """The cadences whose first run changed something on a reachable box."""
        runs = self.applied()
        return [c for c in CADENCES if any(runs[c].changed_tasks(self.fleet.name(h)) for h in REACHABLE)]

    def again(self):
        """A second run of each cadence whose first run changed something. A cadence whose first run
        changed nothing left the boxes as it found them, so its second run would meet the same boxes:
        rerunning it proves nothing more and costs a minute of CI."""
        if "again" not in self.runs:
            self.checked()
            self.runs["again"] = dict((c, self.fleet.playbook("playbooks/%s.yml" % c, extra_vars=self.vars("again")))
                                      for c in self.first_changes())
        return self.runs["again"]


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    hosts = [FleetHost("down", image=FRESH_SSH, stopped=True),
             FleetHost("nosdk", image=FRESH_SSH_DOCKER, dockerd=True),
             FleetHost("dockeroff", image=FRESH_SSH_DOCKER, dockerd=False),
             FleetHost("healthy", image=FRESH_SSH_DOCKER, dockerd=True)]
    with SshFleet("gpf18f", hosts) as fleet:
        yield FleetState(fleet, str(tmp_path_factory.mktemp("fleet-runs")))


def _assert_completed(state, run, what):
    fleet = state.fleet
    assert run.stats[fleet.name("down")]["unreachable"] == 1, what + ": " + run.explain()
    for host in REACHABLE:
        stats = run.stats[fleet.name(host)]
        assert stats["unreachable"] == 0 and stats["failures"] == 0, "%s on %s: %s" % (what, host, run.explain())
    assert run.returncode == 4, "%s: only the stopped host may be amiss (rc 4 = unreachable): %s" % (what, run.explain())


def test_the_boxes_are_fresh_and_cut_off_from_pypi(state):
    fleet = state.fleet
    for host in REACHABLE:
        probe = fleet.exec(host, "python3", "-c", "import docker", check=False)
        assert probe.returncode != 0 and "No module named 'docker'" in probe.stderr, (host, probe.stderr)
    # one box is enough: they share the network (no DNS answers there, so this takes a few seconds)
    pypi = fleet.exec("healthy", "python3", "-c", "import urllib.request; urllib.request.urlopen('https://pypi.org/simple/', timeout=5)",
                      check=False)
    assert pypi.returncode != 0 and "URLError" in pypi.stderr, "a box reaches PyPI: the test would not prove the controller's wheels"
    version = fleet.exec("nosdk", "docker", "version", "--format", "{{.Server.Version}}").stdout.strip()
    assert version.startswith("20.10"), version  # Debian 12's docker.io answers on nosdk
    assert fleet.exec("dockeroff", "docker", "version", check=False).returncode != 0   # installed, not running


def test_switched_off_the_role_leaves_the_boxes_as_they_are(state):
    run = state.before()
    _assert_completed(state, run, "daily with gpufleet_prerequisites=false")
    for host in REACHABLE:
        name = state.fleet.name(host)
        ran = [task for task, result in run.results(name) if "prerequisites" in task and not result.get("skipped")]
        assert ran == [], host
        assert state.fleet.exec(host, "test", "-e", "/opt/gpufleet", check=False).returncode == 1, host


def test_every_cadence_completes_over_ssh_with_become(state):
    runs = state.applied()
    for cadence in CADENCES:
        _assert_completed(state, runs[cadence], cadence)
        files = state.reports("applied", cadence)
        assert len(files) == 1, "%s wrote %s" % (cadence, files)
        with open(files[0]) as handle:
            report = json.load(handle)
        rows = dict((row["host"], row) for row in report["hosts"])
        assert sorted(rows) == sorted(state.fleet.name(h) for h in ["down"] + REACHABLE), cadence
        assert rows[state.fleet.name("down")]["reachable"] is False
        assert all(rows[state.fleet.name(h)]["reachable"] for h in REACHABLE), cadence


def test_every_cadence_records_its_run_and_its_sections(state):
    state.applied()
    # the daily with the prerequisites switched off, then the five: one run each in the history, in order
    assert state.history_cadences()[:6] == ["daily"] + CADENCES
    annual = _report(state, "applied", "annual")
    incidents = [s for s in annual["sections"] if s["title"].startswith("Incidents")][0]
    # a line per box, by name; the stopped box was crit in each of the six runs (the annual's included)
    names = sorted(state.fleet.name(h) for h in ["down"] + REACHABLE)
    assert [line.split(": ")[0] for line in incidents["lines"]] == names, incidents
    down = [line for line in incidents["lines"] if line.startswith(state.fleet.name("down") + ": ")]
    assert down[0].startswith(state.fleet.name("down") + ": 6 run(s) critical"), incidents
    weekly = _report(state, "applied", "weekly")
    assert weekly["sections"][0]["title"] == "Temperature maxima of the week", weekly["sections"][0]
    assert weekly["history"]["run_id"] is not None and weekly["check_mode"] is False


def test_prerequisites_came_from_the_controllers_pinned_wheels(state):
    runs = state.applied()
    pins = _pins()
    for host in REACHABLE:
        name = state.fleet.name(host)
        first = runs["daily"].changed_tasks(name)
        assert any("Install the pinned packages" in task for task in first), (host, first)
        versions = json.loads(state.fleet.exec(host, VENV + "/bin/python", "-c", (
            "import json, importlib.metadata as m, apt, yaml, pynvml, pySMART, docker; "
            "print(json.dumps(dict((d, m.version(d)) for d in ('nvidia-ml-py', 'pySMART', 'docker', 'requests', 'pip'))))")).stdout)
        for dist, version in versions.items():
            assert version == pins[dist.lower()], (host, dist, version)
        # PEP 668: nothing of ours in the system Python
        assert state.fleet.exec(host, "python3", "-c", "import pySMART", check=False).returncode != 0, host
    # Only the distribution archive went through the proxy; nothing was refused (no PyPI, no tunnel).
    assert state.fleet.proxy.requests and not state.fleet.proxy.refused(), state.fleet.proxy.refused()


def test_the_fact_modules_read_through_the_venv(state):
    runs = state.applied()
    for host in ("nosdk", "healthy"):
        docker = runs["daily"].facts(state.fleet.name(host), "gpufleet_docker")
        engine = state.fleet.exec(host, "docker", "version", "--format", "{{.Server.Version}}").stdout.strip()
        assert docker and docker["present"] is True and docker["engine_version"] == engine, (host, docker)
    for host in REACHABLE:   # quarterly's smart_facts imports pySMART: it used to fail every fresh box
        name = state.fleet.name(host)
        smart = [result for task, result in runs["quarterly"].results(name) if task.endswith("Read the SMART data of the drives")]
        assert smart and not smart[0].get("failed"), (host, smart)
        assert runs["quarterly"].facts(name, "gpufleet_smart") is not None, host


def test_check_mode_changes_nothing_and_records_nothing(state):
    runs = state.checked()
    for cadence in CADENCES:
        _assert_completed(state, runs[cadence], "check mode " + cadence)
        for host in REACHABLE:
            changed = runs[cadence].changed_tasks(state.fleet.name(host))
            assert changed == [], "check mode %s on %s: %s" % (cadence, host, changed)
        report = _report(state, "checked", cadence)
        assert report["check_mode"] is True and report["history"]["run_id"] is None, (cadence, report["history"])
    # the report of each run was written; the history gained no run
    assert state.recorded_after_check == state.recorded_before_check, (state.recorded_before_check,
                                                                       state.recorded_after_check)
    assert _report(state, "checked", "quarterly")["sections"][1]["title"] == "Physical checklist (to do)"
    assert "maintenance" in _report(state, "checked", "weekly")["areas"]


def test_a_second_run_changes_nothing(state):
    # daily installs the prerequisites; weekly merges the log rotation into daemon.json where Docker runs
    assert state.first_changes() == ["daily", "weekly"], dict(
        (c, dict((h, state.applied()[c].changed_tasks(state.fleet.name(h))) for h in REACHABLE)) for c in CADENCES)
    runs = state.again()
    for cadence, run in runs.items():
        _assert_completed(state, run, "second " + cadence)
        for host in REACHABLE:
            changed = run.changed_tasks(state.fleet.name(host))
            assert changed == [], "second %s on %s: %s" % (cadence, host, changed)


# ------------------------------------------------------------ verdicts (issue 18), from the runs above

def _report(state, phase, cadence, ext="json"):
    files = state.reports(phase, cadence)
    assert len(files) == 1, "%s %s wrote %s" % (phase, cadence, files)
    path = files[0][:-len("json")] + ext
    with open(path) as handle:
        return json.load(handle) if ext == "json" else handle.read()


def _rows(report):
    return dict((row["host"], row) for row in report["hosts"])


def _problems(report, host, area, check=None):
    return [p for p in report["problems"] if p["host"] == host and p["area"] == area and check in (None, p["check"])]


def _summary(run, name):
    """``name``'s summary lines, from the one task that prints every host's (run once, on the first host)."""
    found = [result["msg"][name] for play in run.data["plays"] for task in play["tasks"]
             if task["task"]["name"].endswith("Print the health summary of each host")
             for result in task["hosts"].values() if name in (result.get("msg") or {})]
    assert len(found) == 1, (name, found)
    return found[0]


def _fact_name(area):
    known = registry.known(area)
    return known.fact if known is not None else "gpufleet_" + area


def _phase_runs(state):
    """(phase, cadence, run) of every run made on the module's fleet, not in check mode."""
    out = [("before", "daily", state.before())]
    out += [("applied", c, run) for c, run in state.applied().items()]
    out += [("again", c, run) for c, run in state.again().items()]
    return out


def test_the_stopped_box_is_unreachable_not_failed(state):
    down = state.fleet.name("down")
    for phase, cadence, _run in _phase_runs(state):
        report = _report(state, phase, cadence)
        row = _rows(report)[down]
        assert row["reachable"] is False and "failed_step" not in row and row["status"] == "crit", (phase, cadence, row)
        assert [(p["check"], p["status"]) for p in report["problems"] if p["host"] == down] == [("reachable", "crit")]
        assert _problems(report, down, "run")[0]["message"].startswith("unreachable: "), (phase, cadence)
        # no step of a reachable box failed, so nothing is reported as failed
        assert not [p for p in report["problems"] if p["check"] == "step_failed"], (phase, cadence)
        assert "| %s | unreachable |" % down in _report(state, phase, cadence, "md"), (phase, cadence)


def test_without_the_sdk_docker_is_unknown_and_never_not_present(state):
    run = state.before()   # daily with the prerequisites role off: Docker installed everywhere, no SDK
    report = _report(state, "before", "daily")
    rows = _rows(report)
    for host in REACHABLE:
        name = state.fleet.name(host)
        assert rows[name]["areas"]["docker"] == "unknown", (host, rows[name])
        assert status_rank(rows[name]["status"]) >= status_rank("unknown"), (host, rows[name])
        present = _problems(report, name, "docker", "docker_present")
        assert [p["status"] for p in present] == ["unknown"], (host, present)
        assert "could not look: the Docker SDK for Python" in present[0]["message"], present[0]
        assert "run the gpufleet.maintenance.prerequisites role" in present[0]["message"], present[0]
        docker_lines = [line for line in _summary(run, name) if line.startswith("docker")]
        assert docker_lines and not any("not present" in line for line in docker_lines), (host, docker_lines)
        assert docker_lines[0].startswith("docker: could not look: "), (host, docker_lines)
    assert report["status"] == "crit" and report["counts"]["ok"] == 0, report["counts"]
    html = _report(state, "before", "daily", "html")
    assert "Fleet status: <strong>CRIT</strong>" in html and "Every check is ok." not in html


def test_with_the_sdk_and_dockerd_stopped_docker_is_crit_with_the_fix(state):
    runs = state.applied()
    name = state.fleet.name("dockeroff")
    for cadence in ("daily", "weekly"):
        report = _report(state, "applied", cadence)
        assert _rows(report)[name]["areas"]["docker"] == "crit", (cadence, _rows(report)[name])
        present = _problems(report, name, "docker", "docker_present")
        assert [p["status"] for p in present] == ["crit"], (cadence, present)
        message = present[0]["message"]
        assert "Docker is installed" in message and "the daemon does not answer" in message, message
        assert "systemctl start docker" in message, message
        assert report["status"] == "crit" and "Every check is ok." not in _report(state, "applied", cadence, "html")
        docker_lines = [line for line in _summary(runs[cadence], name) if line.startswith("docker")]
        assert docker_lines and not any("not present" in line for line in docker_lines), (cadence, docker_lines)
    said = [result.get("msg") for task, result in runs["weekly"].results(name)
            if task.endswith("Say why nothing is cleaned (Docker not installed, installed but silent, or not readable)")]
    assert len(said) == 1 and said[0].startswith("docker_hygiene: nothing cleaned (crit): Docker is installed"), said
    # with the SDK and the daemon answering, the same area reads the engine: ok on the two other boxes
    daily = _rows(_report(state, "applied", "daily"))
    assert [daily[state.fleet.name(h)]["areas"]["docker"] for h in ("nosdk", "healthy")] == ["ok", "ok"]


def test_no_cell_is_ok_that_a_check_contradicts(state):
    """Every area cell of every report against the host's own fact from the same run: a cell is ok
    only when no check of that fact is unknown, warn or crit, and a cell that is not ok has a
    problem row with its reason in the report."""
    seen = set()
    for phase, cadence, run in _phase_runs(state):
        report = _report(state, phase, cadence)
        rows = _rows(report)
        for host in REACHABLE:
            name = state.fleet.name(host)
            for area, cell in rows[name]["areas"].items():
                fact = run.facts(name, _fact_name(area))
                if cell is None:
                    assert not isinstance(fact, dict), (phase, cadence, host, area)
                    continue
                worst = max([status_rank(c.get("status")) for c in fact.get("checks") or []] + [status_rank("ok")])
                assert status_rank(cell) >= worst, (phase, cadence, host, area, cell, fact.get("checks"))
                reasons = _problems(report, name, area)
                assert bool(reasons) == (cell != "ok"), (phase, cadence, host, area, cell, reasons)
                assert all(p["message"] for p in reasons), (phase, cadence, host, area, reasons)
                seen.add((area, cell))
            assert status_rank(rows[name]["status"]) == max(
                status_rank(c) for c in rows[name]["areas"].values() if c), (phase, cadence, host)
        # the stopped box is always in it: the fleet is never OK
        assert report["status"] == "crit", (phase, cadence, report["status"])
    # the walk saw both sides: areas read fine and areas it could not read or found amiss
    assert ("docker", "ok") in seen and ("docker", "unknown") in seen and ("docker", "crit") in seen, seen


def test_a_daemon_json_change_stays_pending_in_later_runs(state):
    """weekly merged the log rotation into daemon.json where Docker runs and may not restart it
    (docker_hygiene_restart_allowed is false): the second weekly still says a restart is pending."""
    runs = state.again()
    assert "weekly" in runs, sorted(runs)
    for host in ("nosdk", "healthy"):
        name = state.fleet.name(host)
        # the weekly that changed it, the daily in check mode after it, and the second weekly
        for phase, cadence in (("applied", "weekly"), ("checked", "daily"), ("again", "weekly")):
            pending = _problems(_report(state, phase, cadence), name, "docker", "daemon_restart_pending")
            assert [p["status"] for p in pending] == ["warn"], (host, phase, cadence, pending)
            assert "has not restarted since" in pending[0]["message"], pending[0]
        said = [str(line) for _task, result in runs["weekly"].results(name) if isinstance(result.get("msg"), list)
                for line in result["msg"] if "restart pending" in str(line)]
        assert said and all(line.startswith("Docker restart pending: ") for line in said), (host, said)
