"""image_digest: the enforce and lock plans over Engine API dicts (pure), and the manifest it writes."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.parse import (
    load_manifest_text, manifest_text, validate)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import image_digest
from testlib.engine_dicts import NEW, OLD, REG, pin_scene


@pytest.fixture
def engine():
    return pin_scene()


def test_enforce_plan(engine):
    images, containers = engine
    entries = validate([{"image": REG + ":1", "digest": NEW}, {"image": "ollama/ollama:1", "digest": OLD}])
    result = image_digest.enforce_plan(entries, images, containers)
    assert [(a["action"], a["image"]) for a in result["actions"]] == [
        ("pull", "ollama/ollama:1"), ("tag", "ollama/ollama:1")]
    assert [r["name"] for r in result["recreate_needed"]] == ["app-old"]
    result = image_digest.enforce_plan(entries, images, containers, recreate=True)
    assert result["actions"][-1]["action"] == "recreate" and result["actions"][-1]["target"] == REG + ":1"
    # Compose containers are listed but never recreated here.
    containers[0]["Labels"] = {"com.docker.compose.project": "x"}
    result = image_digest.enforce_plan(entries, images, containers, recreate=True)
    assert [a["action"] for a in result["actions"]] == ["pull", "tag"] and result["recreate_needed"][0]["compose_project"] == "x"
    # Pin the old (dangling) digest: the tag is pointed back, no pull.
    result = image_digest.enforce_plan(validate([{"image": REG + ":1", "digest": OLD}]), images, containers)
    assert [a["action"] for a in result["actions"]] == ["tag"] and result["recreate_needed"] == []


def test_lock(engine):
    images, containers = engine
    existing = validate([{"image": REG + ":1", "digest": NEW, "note": "keep me"}, {"image": "other:1", "digest": OLD}])
    entries, not_pinnable = image_digest.lock_entries(existing, images, containers)
    assert [(e["image"], e["digest"]) for e in entries] == [(REG + ":1", OLD), ("other:1", OLD)]
    assert entries[0]["note"] == "keep me"
    assert [n["name"] for n in not_pinnable] == ["tool"]
    text = manifest_text(entries)
    assert text.startswith("# Image pin manifest") and load_manifest_text(text) == entries
    assert manifest_text([]).endswith("images: []\n")


def test_enforce_diff_lists_tags_and_containers_before_and_after(engine):
    images, containers = engine
    entries = validate([{"image": REG + ":1", "digest": NEW}])
    actions = image_digest.enforce_plan(entries, images, containers, recreate=True)["actions"]
    diff = image_digest.enforce_diff(actions)
    assert diff["before"] == "container app-old runs sha256:%s\n" % ("b" * 64)
    assert diff["after"] == "container app-old runs %s@%s\n" % (REG, NEW)
    tag = image_digest.enforce_diff([{"action": "tag", "image": "x:1", "reference": "x@" + OLD, "before": None}])
    assert tag == {"before": "x:1 -> None\n", "after": "x:1 -> x@%s\n" % OLD}


def test_manifest_entries_are_validated_together_before_anything_changes(tmp_path):
    manifest = tmp_path / "images.yml"
    manifest.write_text("images:\n  - image: %s:1\n    digest: %s\n" % (REG, OLD))
    files = {str(manifest): manifest.read_text()}
    entries, text = image_digest.manifest_entries({"mode": "audit", "manifest": str(manifest),
                                                   "entries": [{"image": "busybox", "digest": NEW}]}, files.get)
    assert [e["image"] for e in entries] == [REG + ":1", "busybox:latest"] and text == files[str(manifest)]
    with pytest.raises(image_digest.ManifestError, match="manifest and entries entry 2 .*already pinned by entry 1"):
        image_digest.manifest_entries({"mode": "audit", "manifest": str(manifest),
                                       "entries": [{"image": REG + ":1", "digest": NEW}]}, files.get)
    with pytest.raises(image_digest.ManifestError, match="none.yml: the manifest file does not exist"):
        image_digest.manifest_entries({"mode": "enforce", "manifest": str(tmp_path / "none.yml")}, files.get)
    assert image_digest.manifest_entries({"mode": "lock", "manifest": str(tmp_path / "new.yml")}, files.get) == ([], None)
    with pytest.raises(image_digest.ManifestError, match="mode=lock needs manifest"):
        image_digest.manifest_entries({"mode": "lock", "manifest": None, "entries": []}, files.get)


def test_write_manifest_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "images.yml"
    path.write_text("images: []\n")
    path.chmod(0o640)
    image_digest.write_manifest(str(path), "images:\n  - image: a:1\n")
    assert path.read_text() == "images:\n  - image: a:1\n" and (path.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["images.yml"]  # no temporary file left


def test_a_timeout_below_one_second_fails_naming_it_before_the_engine_is_asked():
    params = {"mode": "audit", "manifest": None, "entries": [], "timeout": 0, "docker_host": "unix:///nonexistent/x.sock"}
    with pytest.raises(image_digest.OptionError, match="^timeout must be at least 1 \\(got 0\\)$"):
        image_digest.run(params, True, lambda path: None, None)
