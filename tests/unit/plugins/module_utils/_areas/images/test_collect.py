"""Area images: the audit never fails the host for a host fault (no manifest, a broken one, no engine,
no SDK). The audit against a real engine and registry is in tests/integration/test_image_digest.py."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images import AREA, collect
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from testlib.bad_sockets import HangingSocket


def gather(**options):
    return AREA.gather(None, AREA.validate(options))


def test_no_manifest_is_an_ok_note(tmp_path):
    fact, warnings = gather(manifest=str(tmp_path / "images.yml"), check_remote=True)
    assert fact["status"] == "ok" and fact["manifest_present"] is False and warnings == []
    assert [c["check"] for c in fact["checks"]] == ["image_audit"]


def test_a_broken_manifest_is_crit_and_says_which_entry(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("images:\n  - image: a:1\n    digest: sha256:nothex\n")
    fact, _warnings = gather(manifest=str(bad))
    [check] = fact["checks"]
    assert fact["status"] == "crit" and check["check"] == "image_audit"
    assert check["message"].startswith("the pin manifest cannot be used: %s entry 1 " % bad)
    assert check["message"].endswith(": fix it (image_digest mode=enforce and the weekly docker_hygiene fail on it too)")


def test_an_engine_that_does_not_answer_is_crit_naming_the_address_and_the_fix(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text("images:\n  - image: a:1\n    digest: sha256:%s\n" % ("a" * 64))
    with HangingSocket(str(tmp_path / "docker.sock")):
        fact, _warnings = gather(manifest=str(good), docker_host="unix://%s/docker.sock" % tmp_path, timeout=1)
    [check] = fact["checks"]
    assert fact["status"] == "crit" and "Read timed out" in check["message"]
    assert "but the daemon does not answer (connecting to the Docker daemon at unix://%s/docker.sock" % tmp_path \
        in check["message"]
    assert "so the pins in %s cannot be audited: start it (systemctl start docker)" % good in check["message"]


def test_docker_not_installed_with_a_manifest_is_unknown(tmp_path, monkeypatch):
    good = tmp_path / "good.yml"
    good.write_text("images: []\n")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(collect.engine, "DEFAULT_SOCKET", "unix://%s/docker.sock" % tmp_path)
    monkeypatch.setattr(collect.engine, "UNIT_FILES", ())
    monkeypatch.setattr(collect.engine, "find_tool", lambda name: None)
    fact, _warnings = gather(manifest=str(good), timeout=5)
    [check] = fact["checks"]
    assert fact["status"] == "unknown"
    assert check["message"].startswith("could not look: Docker is not installed on this host (connecting to the Docker "
                                       "daemon at unix://%s/docker.sock" % tmp_path)
    assert check["message"].endswith("install Docker, or remove the manifest from a host that runs no containers")


def test_no_sdk_is_unknown_naming_the_package_and_the_fix(tmp_path, monkeypatch):
    good = tmp_path / "good.yml"
    good.write_text("images: []\n")
    monkeypatch.setattr(collect.engine, "has_sdk", lambda: False)
    fact, _warnings = gather(manifest=str(good))
    [check] = fact["checks"]
    assert fact["status"] == "unknown" and fact["manifest_present"] is True
    assert "the Docker SDK for Python (pip package 'docker') is not installed for " in check["message"]
    assert check["message"].endswith("run the gpufleet.maintenance.prerequisites role (it installs the Docker SDK for "
                                     "Python for the modules)")


def test_an_unreadable_manifest_is_unknown_not_a_failure(tmp_path):
    fact, _warnings = gather(manifest=str(tmp_path))  # a directory: the read fails
    [check] = fact["checks"]
    assert fact["status"] == "unknown" and fact["manifest_present"] is True and str(tmp_path) in check["message"]


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
    with pytest.raises(AreaError, match="^images: timeout must be at least 1 \\(got 0\\)$"):
        AREA.validate({"timeout": 0})
