"""Every service restart/enable handler of the roles, notified for real, on a host where systemd runs.

The host is a Debian container with systemd as PID 1 (tests/testlib/systemd_host.py). One play
applies the roles that notify them:

  cadence_timers   Reload systemd units               then the timers are enabled and started
  runner_service   Reload systemd units and restart   then the runner and its restart timer start
                   the runners
  ssd_wear         Restart smartd                     smartmontools' own smartd service
  docker_hygiene   Restart Docker                     a unit named docker (a stand-in for dockerd:
                                                      the container runs no engine; the role cleans
                                                      up a private dockerd whose socket is mounted in)

and the test reads systemd's own record of each unit (InvocationID, ActiveState, UnitFileState).
wsl_guard's handler (ldconfig) runs in molecule/wsl_guard, whose converge asserts its effect.
"""

import json
import os
import subprocess

import pytest
import yaml

from testlib.ansible_run import REPO_ROOT, run_playbook
from testlib.docker_lab import Dockerd
from testlib.systemd_host import exec_, systemd_host, unit_property

pytestmark = pytest.mark.integration

DOCKER_STANDIN = """[Unit]
Description=stand-in for dockerd (gpufleet tests: no engine runs in this container)

[Service]
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
"""


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("handlers")
    with Dockerd() as engine:
        engine.make_image(None, "a dangling image for the clean-up")
        with systemd_host("gpf16-handlers", volumes=[(engine.sock, "/var/lib/gpf-engine/docker.sock")]) as name:
            exec_(name, "mkdir", "-p", "/opt/gpufleet", "/etc/docker")
            exec_(name, "sh", "-c", "cat > /etc/systemd/system/docker.service <<'EOF'\n%sEOF" % DOCKER_STANDIN)
            exec_(name, "systemctl", "daemon-reload")
            exec_(name, "systemctl", "enable", "--now", "docker.service")
            # cadence_timers checks that the checkout it points the units at has the cadence playbooks
            proc = subprocess.run(["docker", "cp", os.path.join(REPO_ROOT, "playbooks"), "%s:/opt/gpufleet/" % name],
                                  capture_output=True, text=True, check=False)
            assert proc.returncode == 0, proc.stderr
            inventory = tmp / "inventory.yml"
            inventory.write_text(json.dumps({"all": {"hosts": {name: {
                "ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}}}}))
            playbook = tmp / "play.yml"
            roles = [
                {"role": "gpufleet.maintenance.cadence_timers", "vars": {
                    "cadence_timers_cadences": ["daily", "weekly"], "cadence_timers_checkout": "/opt/gpufleet"}},
                {"role": "gpufleet.maintenance.runner_service", "vars": {"runner_service_runners": [
                    {"name": "gpf-runner", "exec": "/bin/sleep infinity", "version": "1", "port": 11434,
                     "restart_daily_at": "04:30"}]}},
                {"role": "gpufleet.maintenance.ssd_wear", "vars": {
                    "ssd_wear_smartd_schedule": True, "ssd_wear_smartd_restart": True, "ssd_wear_critical_paths": []}},
                {"role": "gpufleet.maintenance.docker_hygiene", "vars": {
                    "docker_hygiene_docker_host": "unix:///var/lib/gpf-engine/docker.sock", "docker_hygiene_restart_allowed": True}},
            ]
            playbook.write_text(yaml.safe_dump([{"name": "roles whose handlers restart or enable services", "hosts": "all",
                                                 "gather_facts": False, "roles": roles}]))
            yield {"name": name, "inventory": inventory, "playbook": playbook}


def _play(host):
    proc = run_playbook(str(host["playbook"]), ["-i", str(host["inventory"])], json_output=True)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    tasks = {}
    for task in data["plays"][0]["tasks"]:
        if host["name"] in task["hosts"]:
            tasks.setdefault(task["task"]["name"].split(" : ", 1)[-1], []).append(task["hosts"][host["name"]])
    return data, tasks


def _ran(results):
    """A handler that ran: listed, not skipped, not failed."""
    return bool(results) and all(not r.get("skipped") and not r.get("failed") for r in results)


def test_handlers_run_for_real_and_only_when_notified(host):
    name = host["name"]
    smartd_before = unit_property(name, "smartmontools.service", "InvocationID")
    docker_before = unit_property(name, "docker.service", "InvocationID")
    assert smartd_before and docker_before  # both running before the play

    data, tasks = _play(host)
    for handler in ("Reload systemd units", "Reload systemd units and restart the runners", "Restart smartd", "Restart Docker"):
        assert _ran(tasks.get(handler)), (handler, tasks.get(handler))
    # cadence_timers: after the reload the timers are enabled and waiting
    for cadence in ("daily", "weekly"):
        timer = "gpufleet-%s.timer" % cadence
        assert unit_property(name, timer, "UnitFileState") == "enabled"
        assert unit_property(name, timer, "ActiveState") == "active"
    assert unit_property(name, "gpufleet-daily.timer", "TimersCalendar").startswith("{ OnCalendar=*-*-* 06:00:00 ;")
    # runner_service: the runner runs under systemd, its off-peak restart timer waits
    assert unit_property(name, "gpf-runner.service", "ActiveState") == "active"
    assert unit_property(name, "gpf-runner.service", "UnitFileState") == "enabled"
    assert unit_property(name, "gpf-runner-restart.timer", "ActiveState") == "active"
    # ssd_wear and docker_hygiene: the services were restarted (a new invocation) and run again
    assert unit_property(name, "smartmontools.service", "InvocationID") != smartd_before
    assert unit_property(name, "smartmontools.service", "ActiveState") == "active"
    assert "DEVICESCAN -a -n standby,q -s (S/../.././02|L/../../6/03) -W 4,60,70 -m root" in \
        exec_(name, "cat", "/etc/smartd.conf").stdout.splitlines()
    assert unit_property(name, "docker.service", "InvocationID") != docker_before
    assert json.loads(exec_(name, "cat", "/etc/docker/daemon.json").stdout) == {
        "log-driver": "json-file", "log-opts": {"max-size": "50m", "max-file": "3"}}

    # Nothing changed the second time: no handler is notified, no service restarted.
    smartd, docker, runner = (unit_property(name, u, "InvocationID") for u in ("smartmontools.service", "docker.service", "gpf-runner.service"))
    data, tasks = _play(host)
    assert data["stats"][name]["changed"] == 0, data["stats"]
    for handler in ("Reload systemd units", "Reload systemd units and restart the runners", "Restart smartd"):
        assert handler not in tasks, handler
    # docker_hygiene restarts Docker in a task, not an end-of-play handler (a pending restart is kept across
    # runs until Docker started after the change): nothing pending now, so the task is skipped
    assert not _ran(tasks.get("Restart Docker")), tasks.get("Restart Docker")
    assert (smartd, docker, runner) == tuple(unit_property(name, u, "InvocationID")
                                             for u in ("smartmontools.service", "docker.service", "gpf-runner.service"))
