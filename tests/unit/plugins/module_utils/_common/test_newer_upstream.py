"""One way to say "a newer version upstream": the images area's image_update and the model_updates area's
model_update_available both go through checks.newer_upstream (issue 20: models "reported like image updates")."""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.checks import audit_checks
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.model_updates.checks import model_check

PINNED, SERVED = "sha256:" + "1" * 64, "sha256:" + "2" * 64


def test_an_image_and_a_model_with_a_newer_version_upstream_read_alike():
    entry = {"image": "ollama/ollama:latest", "digest": PINNED, "status": "update_available", "update_available": True,
             "remote_digest": SERVED, "containers": []}
    [image], _status = audit_checks({"entries": [entry]}, check_remote=True)
    model = model_check({"name": "gemma:2b", "source": "ollama", "registry": "https://registry.ollama.ai", "local": PINNED,
                         "remote": SERVED, "update_available": True, "note": "1 new layer", "error": None})
    assert image["message"].startswith("ollama/ollama:latest: the registry now serves %s for the tag (pinned %s): read the "
                                       "changelog before bumping the pin" % (SERVED, PINNED))
    assert model["message"].startswith("gemma:2b: the registry now serves %s (local %s): 1 new layer; then ollama pull "
                                       "gemma:2b: read the changelog before switching" % (SERVED, PINNED))
    for check in (image, model):
        assert (check["status"], check["value"], check["threshold"]) == ("warn", SERVED, PINNED)
