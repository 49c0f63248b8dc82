"""Area images: the pin manifest (validation names the entry), registry answers and Compose files."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images import parse as pins
from testlib.engine_dicts import IDX, NEW, OLD, REG


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


def test_scan_compose():
    good = "services:\n  webui:\n    image: ghcr.io/open-webui/open-webui:main\n  db:\n    image: qdrant/qdrant@%s\n  built:\n    build: .\n" % OLD
    unpinned, errors = pins.scan_compose([("a.yml", good), ("b.yml", "services: [\n"), ("c.yml", "version: '3'\n")])
    assert unpinned == [{"file": "a.yml", "service": "webui", "image": "ghcr.io/open-webui/open-webui:main"}]
    assert len(errors) == 2 and errors[0].startswith("b.yml: not valid YAML") and errors[1] == "c.yml: no services mapping"
