"""Area docker: what the collector does when there is nothing to read (the engine itself is read in
tests/integration/test_docker_hygiene.py, on a private dockerd)."""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import AREA, collect


def test_no_daemon_is_not_present(tmp_path):
    fact, warnings = AREA.gather(None, AREA.validate({"docker_host": "unix://%s/absent.sock" % tmp_path, "timeout": 5}))
    assert fact["present"] is False and "absent.sock" in fact["reason"] and warnings == []
    assert [c["check"] for c in fact["checks"]] == ["docker_present"]


def test_no_sdk_is_not_present(monkeypatch):
    monkeypatch.setattr(collect.engine, "HAS_DOCKER", False)
    data, _warnings = collect.collect(None, AREA.validate({}))
    assert data["present"] is False and "Docker SDK for Python" in data["reason"]


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
