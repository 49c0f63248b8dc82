"""Area images: the engine compared with the manifest (entries, unpinned and stale containers)."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images import audit
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.parse import validate
from testlib.engine_dicts import IDX, NEW, OLD, REG, pin_scene


@pytest.fixture
def engine():
    return pin_scene()


def test_audit(engine):
    images, containers = engine
    entries = validate([{"image": REG + ":1", "digest": OLD}, {"image": "busybox", "digest": IDX}])
    remote = {REG + ":1": {"digest": NEW, "kind": "manifest", "pinned_kind": "manifest"}}
    report = audit.audit(entries, images, containers, remote)
    app, bb = report["entries"]
    assert app["pinned_present"] and app["pinned_image_id"] == "sha256:" + "b" * 64
    assert app["tag_matches_pin"] is False and app["status"] == "drift"
    assert app["update_available"] is True and app["remote_digest"] == NEW and app["remote_digest_kind"] == "manifest"
    assert app["containers"] == [{"name": "app-old", "state": "running", "image": REG + ":1",
                                  "image_id": "sha256:" + "b" * 64, "runs_pinned": True}]
    # Several RepoDigests: only the one of this repository counts.
    assert bb["status"] == "ok" and bb["tag_matches_pin"] and all(c["runs_pinned"] for c in bb["containers"])
    assert [u["name"] for u in report["unpinned"]] == ["tool"]
    [stale] = report["stale"]
    assert stale["name"] == "app-old" and stale["running_image_dangling"] is True
    assert "recreate" in stale["message"]


def test_audit_missing_pin(engine):
    images, containers = engine
    report = audit.audit(validate([{"image": "ollama/ollama:0.5.7", "digest": OLD}]), images, containers)
    assert report["entries"][0]["status"] == "missing" and report["entries"][0]["update_available"] is None
    assert sorted(u["name"] for u in report["unpinned"]) == ["app-old", "tool"]
