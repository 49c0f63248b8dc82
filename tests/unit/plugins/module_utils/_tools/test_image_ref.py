"""Image reference parsing: a table of what the engine accepts and refuses."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.image_ref import (
    ImageRefError, canonical, digest_for_repo, is_digest, parse, pinned_by_digest, split_repo_digest, split_repo_tag)

D = "sha256:" + "a" * 64


@pytest.mark.parametrize("ref, registry, repository, tag, digest, name", [
    ("ollama/ollama", "docker.io", "ollama/ollama", None, None, "ollama/ollama"),
    ("ollama/ollama:0.5.7", "docker.io", "ollama/ollama", "0.5.7", None, "ollama/ollama"),
    ("busybox", "docker.io", "busybox", None, None, "busybox"),
    ("library/busybox:1.36", "docker.io", "busybox", "1.36", None, "busybox"),
    ("docker.io/library/busybox:1.36", "docker.io", "busybox", "1.36", None, "busybox"),
    ("index.docker.io/library/busybox", "docker.io", "busybox", None, None, "busybox"),
    ("ghcr.io/open-webui/open-webui:main", "ghcr.io", "open-webui/open-webui", "main", None, "ghcr.io/open-webui/open-webui"),
    ("127.0.0.1:5000/gpufleet/app:1", "127.0.0.1:5000", "gpufleet/app", "1", None, "127.0.0.1:5000/gpufleet/app"),
    ("localhost/app", "localhost", "app", None, None, "localhost/app"),
    ("127.0.0.1:5000/app@" + D, "127.0.0.1:5000", "app", None, D, "127.0.0.1:5000/app"),
    ("qdrant/qdrant:v1.12.0@" + D, "docker.io", "qdrant/qdrant", "v1.12.0", D, "qdrant/qdrant"),
])
def test_parse(ref, registry, repository, tag, digest, name):
    assert parse(ref) == dict(registry=registry, repository=repository, tag=tag, digest=digest, name=name)


@pytest.mark.parametrize("bad", ["", "   ", None, "UPPER/case", "app@sha256:123", "app@md5:" + "a" * 32,
                                 "app:bad tag", "app::1", "/app", 5])
def test_parse_refuses(bad):
    with pytest.raises(ImageRefError):
        parse(bad)


def test_helpers():
    assert is_digest(D) and not is_digest("sha256:" + "A" * 64) and not is_digest(None)
    assert split_repo_digest("busybox@" + D) == ("busybox", D)
    assert split_repo_digest("<none>@<none>") == (None, None)
    assert split_repo_tag("docker.io/library/busybox:latest") == ("busybox", "latest")
    assert split_repo_tag("<none>:<none>") == (None, None)
    assert canonical("busybox") == "busybox:latest"
    assert canonical("busybox@" + D) == "busybox@" + D
    assert pinned_by_digest("a:1@" + D) and not pinned_by_digest("a:1") and not pinned_by_digest("BAD@x")
    digests = ["127.0.0.1:5000/app@" + D, "docker.io/library/busybox@sha256:" + "b" * 64]
    assert digest_for_repo(digests, "busybox") == "sha256:" + "b" * 64
    assert digest_for_repo(digests, "127.0.0.1:5000/app") == D
    assert digest_for_repo(digests, "other") is None
