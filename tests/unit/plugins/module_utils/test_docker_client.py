"""The SDK layer's fault handling, with a stand-in client (no daemon): in use, gone, daemon lost."""

import pytest
import requests
from docker.errors import APIError, NotFound

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _docker_client


class Response:
    def __init__(self, status):
        self.status_code = status
        self.reason = "x"


class FakeClient:
    def __init__(self, failures):
        self.failures = failures
        self.calls = []

    def _act(self, kind, key):
        self.calls.append((kind, key))
        failure = self.failures.get(key)
        if failure is not None:
            raise failure

    def remove_container(self, cid, v=False):
        self._act("container", cid)

    def remove_image(self, iid, noprune=False):
        self._act("image", iid)

    def remove_volume(self, name):
        self._act("volume", name)


PLAN = {
    "containers": [{"id": "c1", "name": "old"}],
    "images": [{"id": "i1", "image": "app:0"}, {"id": "i2", "image": "app:1"}],
    "volumes": [{"name": "v1"}, {"name": "v2"}],
}


def test_in_use_and_gone_are_skipped_not_errors():
    client = FakeClient({
        "i1": APIError("conflict: image is being used by running container", response=Response(409),
                       explanation="image is being used by running container"),
        "v1": NotFound("no such volume", response=Response(404), explanation="no such volume"),
    })
    result = _docker_client.apply_prune(client, PLAN)
    assert [c["id"] for c in result["removed"]["containers"]] == ["c1"]
    assert [i["id"] for i in result["removed"]["images"]] == ["i2"]
    assert [v["name"] for v in result["removed"]["volumes"]] == ["v2"]
    reasons = dict((s["kind"] + ":" + (s.get("id") or s.get("name")), s["reason"]) for s in result["not_removed"])
    assert reasons["images:i1"].startswith("in use: image is being used")
    assert reasons["volumes:v1"].startswith("already gone")


def test_daemon_lost_mid_run_names_the_step_and_what_was_done():
    client = FakeClient({"i2": requests.exceptions.ConnectionError("Connection aborted")})
    with pytest.raises(_docker_client.EngineError) as caught:
        _docker_client.apply_prune(client, PLAN)
    assert caught.value.step == "removing image app:1"
    assert "Connection aborted" in caught.value.error
    assert [c["id"] for c in caught.value.done["containers"]] == ["c1"]
    assert [i["id"] for i in caught.value.done["images"]] == ["i1"]
    assert caught.value.done["volumes"] == []          # never reached: not reported as done
    assert ("volume", "v1") not in client.calls


def test_other_api_errors_fail():
    client = FakeClient({"c1": APIError("boom", response=Response(500), explanation="driver failed")})
    with pytest.raises(_docker_client.EngineError, match="removing container old: driver failed"):
        _docker_client.apply_prune(client, PLAN)


def test_no_daemon_is_not_present(tmp_path):
    fact, warnings = _docker_client.gather_facts("unix://%s/absent.sock" % tmp_path, timeout=5)
    assert fact["present"] is False and "absent.sock" in fact["reason"] and warnings == []


def test_no_sdk_is_not_present(monkeypatch):
    monkeypatch.setattr(_docker_client, "HAS_DOCKER", False)
    fact, _warnings = _docker_client.gather_facts()
    assert fact["present"] is False and "Docker SDK for Python" in fact["reason"]


def test_read_daemon_json(tmp_path):
    assert _docker_client.read_daemon_json(str(tmp_path / "none.json")) == ({}, None)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    config, error = _docker_client.read_daemon_json(str(bad))
    assert config == {} and "could not be read as JSON" in error
    good = tmp_path / "good.json"
    good.write_text('{"log-opts": {"max-size": "10m"}}')
    assert _docker_client.read_daemon_json(str(good))[0]["log-opts"]["max-size"] == "10m"


def test_image_audit_facts_never_raises_for_host_faults(tmp_path):
    missing = str(tmp_path / "images.yml")
    fact, warnings = _docker_client.image_audit_facts(missing, True)
    assert fact["status"] == "ok" and fact["manifest_present"] is False and warnings == []
    bad = tmp_path / "bad.yml"
    bad.write_text("images:\n  - image: a:1\n    digest: sha256:nothex\n")
    fact, _warnings = _docker_client.image_audit_facts(str(bad))
    assert fact["status"] == "warn" and "entry 1" in fact["checks"][0]["message"]
    assert fact["checks"][0]["message"].endswith("fix the manifest")
    good = tmp_path / "good.yml"
    good.write_text("images:\n  - image: a:1\n    digest: sha256:%s\n" % ("a" * 64))
    fact, _warnings = _docker_client.image_audit_facts(str(good), docker_host="unix://%s/none.sock" % tmp_path, timeout=5)
    assert fact["status"] == "warn"
    assert "connecting to the Docker daemon at unix://%s/none.sock" % tmp_path in fact["checks"][0]["message"]
    assert "start the Docker engine" in fact["checks"][0]["message"]
