"""Area docker: what the collector says when it cannot read an engine - nothing installed, the SDK
missing, a socket nobody listens on, a daemon that accepts and never answers or closes at once (real
unix sockets, tests/testlib/bad_sockets.py). The engine itself is read in
tests/integration/test_docker_hygiene.py, on a private dockerd."""

import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import AREA, collect
from testlib.bad_sockets import ClosingSocket, HangingSocket


def gather(**options):
    return AREA.gather(None, AREA.validate(options))


def presence(fact):
    [check] = [c for c in fact["checks"] if c["check"] == "docker_present"]
    return check


@pytest.fixture
def bare_host(tmp_path, monkeypatch):
    """A host with no Docker at all: no dockerd, no unit file, nothing at the default socket."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(collect.engine, "DEFAULT_SOCKET", "unix://%s/docker.sock" % tmp_path)
    monkeypatch.setattr(collect.engine, "UNIT_FILES", ())
    monkeypatch.setattr(collect.engine, "find_tool", lambda name: None)
    return tmp_path


def test_no_docker_installed_is_ok_not_present(bare_host):
    fact, warnings = gather(timeout=5)
    assert fact["present"] is False and fact["install_evidence"] == [] and warnings == []
    check = presence(fact)
    assert check["status"] == "ok" and fact["status"] == "ok"
    assert check["message"] == ("Docker is not installed on this host (no dockerd, no docker unit, no socket at unix://%s/docker.sock)"
                                % bare_host)
    # nothing to ask, so the SDK was not looked for (not imported: a module run without Docker skips its cost)
    assert fact["sdk"] is None


def test_no_docker_installed_does_not_import_the_sdk(bare_host):
    import subprocess
    import sys
    code = ("import os, sys; from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import collect; "
            "collect.engine.DEFAULT_SOCKET = 'unix://%s/docker.sock'; collect.engine.UNIT_FILES = (); "
            "collect.engine.find_tool = lambda name: None; os.environ.pop('DOCKER_HOST', None); "
            "fact, _ = collect.collect(None, {}); print(fact['present'], fact['sdk'], 'docker' in sys.modules, 'requests' in sys.modules)"
            % bare_host)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout
    assert out.split() == ["False", "None", "False", "False"]


def test_no_docker_and_no_sdk_is_still_ok(bare_host, monkeypatch):
    monkeypatch.setattr(collect.engine, "has_sdk", lambda: False)
    fact, _warnings = gather()
    assert presence(fact)["status"] == "ok" and "Docker is not installed on this host" in fact["reason"]


def test_a_socket_nobody_listens_on_is_crit_when_docker_host_names_it(tmp_path):
    fact, warnings = gather(docker_host="unix://%s/absent.sock" % tmp_path, timeout=5)
    assert fact["present"] is False and "absent.sock" in fact["reason"] and warnings == []
    assert "docker_host unix://%s/absent.sock" % tmp_path in fact["install_evidence"]
    check = presence(fact)
    assert check["status"] == "crit" and fact["status"] == "crit"
    assert check["message"].startswith("Docker is installed (docker_host unix://%s/absent.sock" % tmp_path)
    assert "but the daemon does not answer (connecting to the Docker daemon at unix://%s/absent.sock: " % tmp_path \
        in check["message"]


def test_a_daemon_that_accepts_and_never_answers_is_crit_not_ok(bare_host):
    with HangingSocket(str(bare_host / "docker.sock")):
        fact, _warnings = gather(timeout=1)
    check = presence(fact)
    assert check["status"] == "crit" and "socket %s" % (bare_host / "docker.sock") in fact["install_evidence"]
    assert "but the daemon does not answer" in check["message"] and "Read timed out" in check["message"]
    assert check["message"].endswith("start it (systemctl start docker) or look at its log (journalctl -u docker)")


def test_a_daemon_that_closes_at_once_is_crit_not_ok(bare_host):
    with ClosingSocket(str(bare_host / "docker.sock")):
        fact, _warnings = gather(timeout=5)
    check = presence(fact)
    assert check["status"] == "crit" and "but the daemon does not answer" in check["message"]
    assert "Connection aborted" in check["message"] or "RemoteDisconnected" in check["message"], check["message"]


def test_the_sdk_missing_while_docker_runs_is_unknown_naming_the_sdk(bare_host, monkeypatch):
    monkeypatch.setattr(collect.engine, "has_sdk", lambda: False)
    with HangingSocket(str(bare_host / "docker.sock")):   # a socket file: Docker runs here
        fact, _warnings = gather()
    check = presence(fact)
    assert check["status"] == "unknown" and fact["status"] == "unknown" and fact["sdk"] is False
    assert "the Docker SDK for Python (pip package 'docker') is not installed for " in check["message"]
    assert check["message"].endswith("run the gpufleet.maintenance.prerequisites role (it installs the Docker SDK for "
                                     "Python for the modules)")


def test_read_daemon_json(tmp_path):
    assert collect.read_daemon_json(str(tmp_path / "none.json")) == ({}, None)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    config, error = collect.read_daemon_json(str(bad))
    assert config == {} and "could not be read as JSON" in error
    good = tmp_path / "good.json"
    good.write_text('{"log-opts": {"max-size": "10m"}}')
    assert collect.read_daemon_json(str(good))[0]["log-opts"]["max-size"] == "10m"
    config, error = collect.read_daemon_json(str(tmp_path))  # a directory: the read fails
    assert config == {} and str(tmp_path) in error


def test_fs_usage_of_a_path_and_of_nothing(tmp_path):
    usage = collect.fs_usage(str(tmp_path))
    assert usage["size_bytes"] > 0 and 0 <= usage["used_pct"] <= 100
    assert collect.fs_usage(None) is None and collect.fs_usage(str(tmp_path / "none")) is None


def test_the_restart_state_is_read_from_the_host(tmp_path):
    daemon_json, pidfile, state = tmp_path / "daemon.json", tmp_path / "docker.pid", tmp_path / "state.json"
    daemon_json.write_text('{"pidfile": "%s"}' % pidfile)
    pidfile.write_text("4242\n")
    os.utime(str(pidfile), (1795000000, 1795000000))
    os.utime(str(daemon_json), (1795000100, 1795000100))
    assert collect.read_restart_state(str(state), str(daemon_json), {"pidfile": str(pidfile)}) is None  # nothing pending
    state.write_text('{"daemon_json": "%s"}' % daemon_json)
    pending = collect.read_restart_state(str(state), str(daemon_json), {"pidfile": str(pidfile)})
    assert pending == {"state_file": str(state), "daemon_json": str(daemon_json), "daemon_json_mtime_s": 1795000100,
                       "pidfile": str(pidfile), "daemon_started_s": 1795000000, "restarted": False}
    os.utime(str(pidfile), (1795000200, 1795000200))   # dockerd started again: it rewrote its pidfile
    assert collect.read_restart_state(str(state), str(daemon_json), {"pidfile": str(pidfile)})["restarted"] is True
    unseen = collect.read_restart_state(str(state), str(daemon_json), {})   # the default pidfile of another daemon
    assert unseen["pidfile"] == "/var/run/docker.pid"
