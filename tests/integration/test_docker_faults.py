"""Docker faults through the real Ansible (issue 18): a daemon that hangs or closes at once, a host
whose Python has no Docker SDK while Docker runs (a private dockerd), and what docker_facts and
playbooks/docker_hygiene.yml (the role, then the summary) say about each. Never the shared engine."""

import json
import os
import stat
import sys

import pytest

from testlib.ansible_run import run_playbook
from testlib.bad_sockets import ClosingSocket, HangingSocket
from testlib.docker_lab import Dockerd, run_module

pytestmark = pytest.mark.integration


def _presence(fact):
    [check] = [c for c in fact["checks"] if c["check"] == "docker_present"]
    return check


@pytest.mark.parametrize("server, words", [(HangingSocket, "Read timed out"), (ClosingSocket, "Connection aborted")])
def test_a_sick_daemon_is_crit_not_ok(tmp_path, server, words):
    sock = str(tmp_path / "docker.sock")
    with server(sock):
        result = run_module("gpufleet.maintenance.docker_facts", {"docker_host": "unix://" + sock, "timeout": 2})
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_docker"]
    check = _presence(fact)
    assert fact["present"] is False and fact["status"] == "crit" and check["status"] == "crit"
    assert "but the daemon does not answer (connecting to the Docker daemon at unix://%s" % sock in check["message"]
    assert words in check["message"] or "RemoteDisconnected" in check["message"], check["message"]
    assert check["message"].endswith("start it (systemctl start docker) or look at its log (journalctl -u docker)")


@pytest.fixture
def python_without_the_sdk(tmp_path):
    """This venv's Python without site-packages: the stdlib only, as on a fresh box before the
    prerequisites role (whatever the machine has installed for its own Python)."""
    path = tmp_path / "python-without-sdk"
    path.write_text("#!/bin/sh\nexec %s -S \"$@\"\n" % sys.executable)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_without_the_sdk_while_docker_runs_the_fact_is_unknown_and_hygiene_says_so(tmp_path, python_without_the_sdk):
    with Dockerd() as engine:
        engine.make_image(None, "a dangling image hygiene would remove")
        images_before = engine.docker("images", "-aq").stdout.split()
        result = run_module("gpufleet.maintenance.docker_facts", {"docker_host": engine.host})
        assert _presence(result["ansible_facts"]["gpufleet_docker"])["status"] == "ok"  # with the SDK: read
        evars = {"ansible_python_interpreter": python_without_the_sdk, "docker_hygiene_docker_host": engine.host,
                 "docker_hygiene_daemon_json": str(tmp_path / "daemon.json"), "docker_hygiene_image_age": "0"}
        proc = run_playbook("playbooks/docker_hygiene.yml", ["-e", json.dumps(evars)], json_output=True)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        tasks = dict((t["task"]["name"].split(" : ")[-1], t["hosts"]["localhost"])
                     for t in json.loads(proc.stdout)["plays"][0]["tasks"] if "localhost" in t["hosts"])
        fact = tasks["Gather Docker facts before the clean-up"]["ansible_facts"]["gpufleet_docker"]
        check = _presence(fact)
        assert fact["status"] == "unknown" and check["status"] == "unknown" and fact["sdk"] is False
        assert "the Docker SDK for Python (pip package 'docker') is not installed for " in check["message"]
        assert "docker_host %s" % engine.host in check["message"]
        said = tasks["Say why nothing is cleaned (Docker not installed, installed but silent, or not readable)"]["msg"]
        assert said.startswith("docker_hygiene: nothing cleaned (unknown): could not look: the Docker SDK for Python")
        assert said.endswith("run the gpufleet.maintenance.prerequisites role (it installs the Docker SDK for Python for "
                             "the modules)")
        assert "not present" not in said
        summary = json.dumps(tasks["Print the health summary of this host"])
        assert "docker: could not look: the Docker SDK for Python" in summary, summary
        assert engine.docker("images", "-aq").stdout.split() == images_before   # nothing removed
        assert not os.path.exists(tmp_path / "daemon.json")                     # nothing written


@pytest.mark.parametrize("module, args, message", [
    ("docker_facts", {"timeout": -3}, "gathering docker facts: docker: timeout must be at least 1 (got -3)"),
    ("health_facts", {"areas": ["images"], "images": {"timeout": 0}},
     "gathering health facts: images: timeout must be at least 1 (got 0)"),
    ("docker_cleanup", {"container_age": "a fortnight", "timeout": 0},
     "docker cleanup: reading the options and pins: timeout must be at least 1 (got 0); container_age: an age must be a "
     "number with an optional unit s, m, h, d or w (e.g. 24h, 7d), got 'a fortnight'"),
    ("image_digest", {"entries": [], "timeout": 0}, "image_digest: timeout must be at least 1 (got 0)"),
])
def test_out_of_range_options_fail_naming_the_option(tmp_path, module, args, message):
    # A docker_host nobody listens on: an option error must come before any attempt to reach it.
    if module != "health_facts":
        args = dict(args, docker_host="unix://%s/never-asked.sock" % tmp_path)
    result = run_module("gpufleet.maintenance." + module, args)
    assert result.get("failed") is True and result["msg"] == message, result
