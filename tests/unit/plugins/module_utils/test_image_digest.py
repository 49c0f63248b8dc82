"""Pin manifest validation, audit, enforce plan, lock and Compose scanning (pure functions)."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _image_digest as pins

OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
IDX = "sha256:" + "3" * 64
REG = "127.0.0.1:5000/app"


def image(iid, tags=(), digests=()):
    return {"Id": "sha256:" + iid * 64, "RepoTags": list(tags) or None, "RepoDigests": list(digests)}


def container(name, ref, iid, state="running", labels=None):
    return {"Id": name + "-id", "Names": ["/" + name], "Image": ref, "ImageID": "sha256:" + iid * 64,
            "State": state, "Labels": labels or {}}


def test_load_yaml_and_json():
    text = "images:\n  - image: %s:1\n    digest: %s\n    note: read the changelog\n" % (REG, OLD)
    entries = pins.load_manifest_text(text, "m.yml")
    assert entries == [{"image": REG + ":1", "digest": OLD, "name": REG, "tag": "1", "note": "read the changelog"}]
    assert pins.load_manifest_text('[{"image": "docker.io/library/busybox", "digest": "%s"}]' % OLD)[0]["image"] == "busybox:latest"
    assert pins.load_manifest_text("") == []
    assert pins.load_manifest_text(pins.manifest_text(entries), "again") == entries


@pytest.mark.parametrize("data, match", [
    ([{"image": "a:1", "digest": OLD}, {"image": "b:1", "digest": "sha256:abc"}], r"entry 2 .*b:1.*64 lowercase hex"),
    ([{"image": "a:1", "digest": OLD}, {"image": "a:1", "digest": NEW}], r"entry 2 .*already pinned by entry 1"),
    ([{"image": "Bad:1", "digest": OLD}], r"entry 1 .*invalid repository"),
    ([{"image": "a@" + OLD, "digest": OLD}], r"entry 1 .*not in 'image'"),
    ([{"image": "a:1", "digest": OLD, "tag": "x"}], r"entry 1 .*unknown key"),
    (["a:1"], r"entry 1 .*mapping"),
    ({"pins": []}, r"expected a list"),
    ("a:1", r"expected a list"),
])
def test_validate_names_the_entry(data, match):
    with pytest.raises(pins.ManifestError, match=match):
        pins.validate(data, "m.yml")


def test_invalid_yaml():
    with pytest.raises(pins.ManifestError, match="not valid YAML"):
        pins.load_manifest_text("images: [\n  - {", "m.yml")


@pytest.mark.parametrize("pinned, pinned_kind, remote, update", [
    (OLD, "manifest", {"digest": OLD, "kind": "manifest"}, False),
    (OLD, "manifest", {"digest": NEW, "kind": "manifest"}, True),
    (IDX, "index", {"digest": IDX, "kind": "index"}, False),
    (OLD, "manifest", {"digest": IDX, "kind": "index"}, None),   # cannot compare: never a false "update"
    (OLD, None, {"digest": NEW, "kind": "manifest"}, True),      # registry dropped the pinned digest
    (OLD, None, {}, None),
])
def test_compare_remote(pinned, pinned_kind, remote, update):
    answer, note = pins.compare_remote(pinned, pinned_kind, remote)
    assert answer is update and note


def test_media_kind():
    assert pins.media_kind("application/vnd.oci.image.index.v1+json") == "index"
    assert pins.media_kind("application/vnd.docker.distribution.manifest.list.v2+json") == "index"
    assert pins.media_kind("application/vnd.docker.distribution.manifest.v2+json") == "manifest"
    assert pins.media_kind(None) is None


@pytest.fixture
def engine():
    images = [
        image("a", tags=[REG + ":1"], digests=[REG + "@" + NEW]),   # the tag moved to new content
        image("b", digests=[REG + "@" + OLD]),                      # the old pinned image, now dangling
        image("c", tags=["local/tool:dev"]),                        # built locally, no digest
        image("d", tags=["busybox:latest"], digests=["busybox@" + IDX, "127.0.0.1:5000/busybox@" + NEW]),
    ]
    containers = [
        container("app-old", REG + ":1", "b"),                       # runs the pinned image, tag moved: stale
        container("tool", "local/tool:dev", "c"),                     # unpinned
        container("bb", "busybox@" + IDX, "d"),                       # pinned by digest in its reference
        container("stopped", "docker.io/library/busybox:latest", "d", state="exited"),
    ]
    return images, containers


def test_audit(engine):
    images, containers = engine
    entries = pins.validate([{"image": REG + ":1", "digest": OLD}, {"image": "busybox", "digest": IDX}])
    remote = {REG + ":1": {"digest": NEW, "kind": "manifest", "pinned_kind": "manifest"}}
    report = pins.audit(entries, images, containers, remote)
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
    report = pins.audit(pins.validate([{"image": "ollama/ollama:0.5.7", "digest": OLD}]), images, containers)
    assert report["entries"][0]["status"] == "missing" and report["entries"][0]["update_available"] is None
    assert sorted(u["name"] for u in report["unpinned"]) == ["app-old", "tool"]


def test_enforce_plan(engine):
    images, containers = engine
    entries = pins.validate([{"image": REG + ":1", "digest": NEW}, {"image": "ollama/ollama:1", "digest": OLD}])
    result = pins.enforce_plan(entries, images, containers)
    assert [(a["action"], a["image"]) for a in result["actions"]] == [
        ("pull", "ollama/ollama:1"), ("tag", "ollama/ollama:1")]
    assert [r["name"] for r in result["recreate_needed"]] == ["app-old"]
    result = pins.enforce_plan(entries, images, containers, recreate=True)
    assert result["actions"][-1]["action"] == "recreate" and result["actions"][-1]["target"] == REG + ":1"
    # Compose containers are listed but never recreated here.
    containers[0]["Labels"] = {"com.docker.compose.project": "x"}
    result = pins.enforce_plan(entries, images, containers, recreate=True)
    assert [a["action"] for a in result["actions"]] == ["pull", "tag"] and result["recreate_needed"][0]["compose_project"] == "x"
    # Pin the old (dangling) digest: the tag is pointed back, no pull.
    result = pins.enforce_plan(pins.validate([{"image": REG + ":1", "digest": OLD}]), images, containers)
    assert [a["action"] for a in result["actions"]] == ["tag"] and result["recreate_needed"] == []


def test_lock(engine):
    images, containers = engine
    existing = pins.validate([{"image": REG + ":1", "digest": NEW, "note": "keep me"}, {"image": "other:1", "digest": OLD}])
    entries, not_pinnable = pins.lock_entries(existing, images, containers)
    assert [(e["image"], e["digest"]) for e in entries] == [(REG + ":1", OLD), ("other:1", OLD)]
    assert entries[0]["note"] == "keep me"
    assert [n["name"] for n in not_pinnable] == ["tool"]
    text = pins.manifest_text(entries)
    assert text.startswith("# Image pin manifest") and pins.load_manifest_text(text) == entries
    assert pins.manifest_text([]).endswith("images: []\n")


def test_scan_compose():
    good = "services:\n  webui:\n    image: ghcr.io/open-webui/open-webui:main\n  db:\n    image: qdrant/qdrant@%s\n  built:\n    build: .\n" % OLD
    unpinned, errors = pins.scan_compose([("a.yml", good), ("b.yml", "services: [\n"), ("c.yml", "version: '3'\n")])
    assert unpinned == [{"file": "a.yml", "service": "webui", "image": "ghcr.io/open-webui/open-webui:main"}]
    assert len(errors) == 2 and errors[0].startswith("b.yml: not valid YAML") and errors[1] == "c.yml: no services mapping"


def _checks_by_name(checks):
    result = {}
    for check in checks:
        result.setdefault(check["check"], []).append(check)
    return result


def test_audit_checks_name_each_problem_with_its_fix(engine):
    images, containers = engine
    entries = pins.validate([{"image": REG + ":1", "digest": OLD}, {"image": "busybox", "digest": IDX},
                             {"image": "ollama/ollama:0.5.7", "digest": OLD}])
    remote = {REG + ":1": {"digest": NEW, "kind": "manifest", "pinned_kind": "manifest"},
              "busybox:latest": {"digest": None, "kind": None, "pinned_kind": None,
                                 "error": "busybox:latest: the registry did not answer for the tag: timeout"}}
    report = pins.audit(entries, images, containers, remote)
    checks, status = pins.audit_checks(report, check_remote=True)
    assert status == "warn"
    by = _checks_by_name(checks)
    pin_msgs = [c["message"] for c in by["image_pin"]]
    assert any("ollama/ollama:0.5.7" in m and "not on this host" in m and "mode=enforce" in m for m in pin_msgs)
    assert any(m.startswith(REG + ":1: the local tag points to another image") for m in pin_msgs)
    [update, unknown] = by["image_update"]
    assert update["status"] == "warn" and update["image"] == REG + ":1" and update["value"] == NEW
    assert "read the changelog before bumping" in update["message"]
    assert unknown["image"] == "busybox:latest" and "did not answer" in unknown["message"] and "docker login" in unknown["message"]
    assert [c["container"] for c in by["image_unpinned"]] == ["tool"]
    assert by["image_stale"][0]["container"] == "app-old" and "recreate" in by["image_stale"][0]["message"]
    assert all(c["status"] in ("ok", "warn") for c in checks)


def test_audit_checks_all_in_order_is_one_ok_check(engine):
    images, containers = engine
    entries = pins.validate([{"image": "busybox", "digest": IDX}])
    running = [c for c in containers if c["Names"][0] in ("/bb", "/stopped")]
    remote = {"busybox:latest": {"digest": IDX, "kind": "index", "pinned_kind": "index", "error": None}}
    report = pins.audit(entries, images, running, remote)
    checks, status = pins.audit_checks(report, check_remote=True)
    assert status == "ok"
    assert [(c["check"], c["status"], c["value"]) for c in checks] == [("image_pin", "ok", 1)]
    assert "the registry serves the pinned digests" in checks[0]["message"]
    # Without check_remote, "cannot compare" notes are not turned into warnings.
    report = pins.audit(entries, images, running, {})
    assert pins.audit_checks(report)[1] == "ok"


def test_audit_checks_uncomparable_digest_kinds_warn_without_claiming_an_update(engine):
    images, containers = engine
    entries = pins.validate([{"image": "busybox", "digest": IDX}])
    remote = {"busybox:latest": {"digest": NEW, "kind": "manifest", "pinned_kind": "index", "error": None}}
    report = pins.audit(entries, images, [], remote)
    checks, status = pins.audit_checks(report, check_remote=True)
    [check] = checks
    assert status == "warn" and check["check"] == "image_update" and "cannot be compared" in check["message"]
    assert "read the changelog" not in check["message"]


def test_audit_checks_compose_services_without_digest():
    checks, status = pins.audit_checks({"entries": [], "compose_unpinned": [
        {"file": "/srv/webui/compose.yaml", "service": "webui", "image": "ghcr.io/open-webui/open-webui:main"}]})
    assert status == "warn" and checks[0]["container"] == "webui" and "without a digest" in checks[0]["message"]


def test_summary_section():
    assert pins.summary_section({"entries": [], "checks": [{"message": "no image pin manifest at /x"}]}) == [
        "images: no image pin manifest at /x"]
    fact = {"entries": [{"status": "ok", "update_available": True}, {"status": "drift", "update_available": None},
                        {"status": "ok", "update_available": False}]}
    assert pins.summary_section(fact) == ["images: 3 pinned (1 drift, 2 ok), 1 with an update upstream"]


def test_images_fact_without_manifest_is_an_ok_note_and_a_problem_is_a_warning():
    absent = pins.images_fact("/etc/gpufleet/images.yml", True)
    assert absent["status"] == "ok" and absent["manifest_present"] is False and absent["entries"] == []
    assert "no image pin manifest at /etc/gpufleet/images.yml" in absent["checks"][0]["message"]
    assert "mode=lock" in absent["checks"][0]["message"]
    broken = pins.images_fact("/m.yml", False, problem="connecting to the Docker daemon: refused")
    assert broken["status"] == "warn" and broken["manifest_present"] is True
    assert broken["checks"][0]["message"] == "the image audit failed: connecting to the Docker daemon: refused"


def test_images_fact_from_an_audit(engine):
    images, containers = engine
    entries = pins.validate([{"image": REG + ":1", "digest": OLD}])
    remote = {REG + ":1": {"digest": NEW, "kind": "manifest", "pinned_kind": "manifest"}}
    report = dict(pins.audit(entries, images, containers, remote), compose_unpinned=[])
    fact = pins.images_fact("/m.yml", True, report=report)
    assert fact["schema_version"] == 1 and fact["check_remote"] is True and fact["manifest_present"] is True
    assert [e["image"] for e in fact["entries"]] == [REG + ":1"] and [u["name"] for u in fact["unpinned"]] == ["tool"]
    assert fact["status"] == "warn" and "image_update" in [c["check"] for c in fact["checks"]]
