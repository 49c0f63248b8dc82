"""Area images: the audit never fails the host for a host fault (no manifest, a broken one, no engine,
no SDK). The audit against a real engine and registry is in tests/integration/test_image_digest.py."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images import AREA, collect
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


def gather(**options):
    return AREA.gather(None, AREA.validate(options))


def test_no_manifest_is_an_ok_note(tmp_path):
    fact, warnings = gather(manifest=str(tmp_path / "images.yml"), check_remote=True)
    assert fact["status"] == "ok" and fact["manifest_present"] is False and warnings == []
    assert [c["check"] for c in fact["checks"]] == ["image_audit"]


def test_a_broken_manifest_says_which_entry(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("images:\n  - image: a:1\n    digest: sha256:nothex\n")
    fact, _warnings = gather(manifest=str(bad))
    [check] = fact["checks"]
    assert fact["status"] == "warn" and "entry 1" in check["message"]
    assert check["message"].endswith("fix the manifest")


def test_no_engine_names_the_address_and_the_fix(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text("images:\n  - image: a:1\n    digest: sha256:%s\n" % ("a" * 64))
    fact, _warnings = gather(manifest=str(good), docker_host="unix://%s/none.sock" % tmp_path, timeout=5)
    [check] = fact["checks"]
    assert fact["status"] == "warn"
    assert "connecting to the Docker daemon at unix://%s/none.sock" % tmp_path in check["message"]
    assert "start the Docker engine" in check["message"]


def test_no_sdk_names_the_package(tmp_path, monkeypatch):
    good = tmp_path / "good.yml"
    good.write_text("images: []\n")
    monkeypatch.setattr(collect.engine, "HAS_DOCKER", False)
    data, _warnings = collect.collect(None, AREA.validate({"manifest": str(good)}))
    assert data["manifest_present"] is True and "pip package 'docker'" in data["problem"]


def test_an_unreadable_manifest_is_a_problem_not_a_failure(tmp_path):
    data, _warnings = collect.collect(None, AREA.validate({"manifest": str(tmp_path)}))  # a directory
    assert data["manifest_present"] is True and str(tmp_path) in data["problem"]


def test_compose_files_that_are_missing_or_broken_are_warnings(tmp_path):
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  webui:\n    image: ghcr.io/open-webui/open-webui:main\n")
    files = {str(compose): compose.read_text(), str(tmp_path / "broken.yaml"): "services: [\n"}
    unpinned, errors = collect.read_compose([str(compose), str(tmp_path / "broken.yaml"), str(tmp_path / "none.yaml")],
                                            files.get)
    assert unpinned == [{"file": str(compose), "service": "webui", "image": "ghcr.io/open-webui/open-webui:main"}]
    assert errors[0].startswith(str(tmp_path / "broken.yaml") + ": not valid YAML")
    assert errors[1:] == [str(tmp_path / "none.yaml") + ": file not found"]


def test_a_timeout_below_one_second_fails_naming_the_option():
    with pytest.raises(AreaError, match="^images: timeout must be at least 1, got 0$"):
        AREA.validate({"timeout": 0})
