"""The model_updates area gathered against stand-in servers on 127.0.0.1 that speak Ollama's API, the OCI
distribution API (Ollama's registry) and the Hub's API (tests/testlib/model_registries.py), with an Ollama
store on disk. The verdicts: a newer version is warn with both identifiers and "read the changelog before
switching"; a model that could not be compared is unknown with the reason, never ok."""

import json
import os
import socket

import pytest
from testlib.model_registries import Registries, tag_entry

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.model_updates import checks

from .test_parse import GPT2_REV, OLDER_REV, SAFETENSORS, fixture, newer, reserialised

AREA = registry.area("model_updates")
GEMMA = fixture("ollama-manifest-gemma-2b.json")


def store(root, models):
    """An Ollama store: ``{(namespace, model, tag): manifest bytes}`` under ``root/manifests/registry.ollama.ai``."""
    for (namespace, model, tag), data in models.items():
        folder = root / "manifests" / "registry.ollama.ai" / namespace / model
        folder.mkdir(parents=True, exist_ok=True)
        (folder / tag).write_bytes(data)
    return str(root)


def gather(**options):
    fact, warnings = AREA.gather(None, AREA.validate(options))
    assert warnings == []
    return fact, dict((c["subject"].get("model", ""), c) for c in fact["checks"])


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ollama_host(tmp_path):
    """gemma:2b current, llama3 stored re-serialised (same content), tinyllama with a newer version upstream,
    mario created locally (the registry has none)."""
    local = {("library", "gemma", "2b"): GEMMA, ("library", "llama3", "latest"): reserialised(GEMMA),
             ("library", "tinyllama", "latest"): GEMMA, ("library", "mario", "latest"): newer(GEMMA, digest="77" * 32)}
    served = {("library", "gemma", "2b"): GEMMA, ("library", "llama3", "latest"): GEMMA,
              ("library", "tinyllama", "latest"): newer(GEMMA)}
    tags = [tag_entry(name, local[key]) for name, key in (
        ("gemma:2b", ("library", "gemma", "2b")), ("llama3:latest", ("library", "llama3", "latest")),
        ("tinyllama:latest", ("library", "tinyllama", "latest")), ("mario:latest", ("library", "mario", "latest")))]
    with Registries(tags=tags, manifests=served) as servers:
        yield servers, store(tmp_path / "models", local)


def test_each_ollama_model_against_its_registry(ollama_host):
    servers, models_dir = ollama_host
    fact, found = gather(ollama_url=servers.url, ollama_models_dir=models_dir, ollama_registry=servers.url)
    assert fact["ollama"]["listed_from"] == "api"
    assert found["gemma:2b"]["status"] == "ok" and "serves the local manifest" in found["gemma:2b"]["message"]
    assert found["llama3:latest"]["status"] == "ok" and "same config and layers" in found["llama3:latest"]["message"]
    newer_one = found["tinyllama:latest"]
    assert newer_one["check"] == "model_update_available" and newer_one["status"] == "warn"
    assert newer_one["value"] == "sha256:" + tag_entry("x", newer(GEMMA))["digest"]
    assert "read the changelog before switching" in newer_one["message"] and "ollama pull tinyllama:latest" in newer_one["message"]
    assert newer_one["threshold"] == "sha256:" + tag_entry("x", GEMMA)["digest"]
    assert found["mario:latest"]["status"] == "unknown" and "has no mario:latest" in found["mario:latest"]["message"]
    assert "exclude" in found["mario:latest"]["message"]
    assert found[""]["check"] == "model_update_audit" and found[""]["status"] == "ok" and found[""]["value"] == 4
    assert fact["status"] == "warn"
    # the registry was asked as Ollama asks it: the manifest media type, one request per model
    asked = [r for r in servers.requests if r["path"].startswith("/v2/")]
    assert len(asked) == 4 and all(r["headers"]["Accept"] == "application/vnd.docker.distribution.manifest.v2+json" for r in asked)


def test_excluded_models_are_not_asked(ollama_host):
    servers, models_dir = ollama_host
    _fact, found = gather(ollama_url=servers.url, ollama_models_dir=models_dir, ollama_registry=servers.url,
                          exclude=["mario"])
    assert "mario:latest" not in found and not any("mario" in r["path"] for r in servers.requests)


def test_without_the_store_a_digest_that_differs_is_unknown_not_an_update(ollama_host, tmp_path):
    servers, _models_dir = ollama_host
    _fact, found = gather(ollama_url=servers.url, ollama_models_dir=str(tmp_path / "nowhere"), ollama_registry=servers.url)
    assert found["gemma:2b"]["status"] == "ok"   # same digest: no layers needed
    for name in ("llama3:latest", "tinyllama:latest"):
        assert found[name]["status"] == "unknown" and "could not be read to compare their layers" in found[name]["message"]


def test_the_store_lists_the_models_when_the_api_does_not_answer(ollama_host):
    servers, models_dir = ollama_host
    fact, found = gather(ollama_url="http://127.0.0.1:%d" % closed_port(), ollama_models_dir=models_dir,
                         ollama_registry=servers.url)
    assert fact["ollama"]["listed_from"] == "store" and "connection refused" in fact["ollama"]["api_error"]
    assert found["tinyllama:latest"]["status"] == "warn" and found["gemma:2b"]["status"] == "ok"


def test_a_registry_that_cannot_be_reached_is_asked_once_and_every_model_is_unknown(ollama_host):
    servers, models_dir = ollama_host
    dead = "http://127.0.0.1:%d" % closed_port()
    fact, found = gather(ollama_url=servers.url, ollama_models_dir=models_dir, ollama_registry=dead)
    models = [c for c in fact["checks"] if c["check"] == "model_update_available"]
    assert len(models) == 4 and all(c["status"] == "unknown" for c in models)
    assert all("cannot reach %s" % dead in c["message"] and "DNS, proxy, firewall" in c["message"] for c in models)
    assert fact["status"] == "unknown"


def test_nothing_to_list_is_unknown_with_the_fix(tmp_path):
    fact, found = gather(ollama_url="http://127.0.0.1:%d" % closed_port(), ollama_models_dir=str(tmp_path / "none"))
    audit = found[""]
    assert audit["check"] == "model_update_audit" and audit["status"] == "unknown"
    assert "could not be listed" in audit["message"] and "systemctl start ollama" in audit["message"]


def test_no_source_set_is_an_ok_note_and_no_model_check(tmp_path):
    fact, found = gather(ollama_url="", ollama_models_dir=str(tmp_path / "none"))
    assert list(found) == [""] and found[""]["status"] == "ok" and "nothing to compare" in found[""]["message"]


def _hub(sha, safetensors=SAFETENSORS):
    info = json.loads(fixture("hf-model-info-gpt2.json", "r"))
    info["sha"] = sha
    info["siblings"][1]["lfs"]["sha256"] = safetensors
    return info


def test_pinned_hugging_face_revisions_against_the_hub(tmp_path):
    snap = "/models/hub/models--%s/snapshots/%s/model.safetensors"
    manifest = tmp_path / "models.json"
    manifest.write_text(json.dumps({"version": 1, "files": [
        {"path": snap % ("openai-community--gpt2", OLDER_REV), "sha256": SAFETENSORS},
        {"path": snap % ("org--tuned", OLDER_REV), "sha256": SAFETENSORS},
        {"path": snap % ("org--current", GPT2_REV), "sha256": SAFETENSORS},
    ]}))
    hub = {("openai-community/gpt2", "main"): _hub(GPT2_REV), ("org/tuned", "main"): _hub(GPT2_REV, "ef" * 32),
           ("org/current", "main"): _hub(GPT2_REV), ("org/gated", "main"): _hub(GPT2_REV)}
    with Registries(hub=hub, gated={"org/gated"}) as servers:
        fact, found = gather(ollama_url="", ollama_models_dir=str(tmp_path / "none"), model_manifest=str(manifest),
                             hf_endpoint=servers.url, hf_models=[{"repo": "org/gated", "revision": OLDER_REV}])
        asked = [r["path"] for r in servers.requests]
    assert found["openai-community/gpt2"]["status"] == "ok" and "unchanged" in found["openai-community/gpt2"]["message"]
    tuned = found["org/tuned"]
    assert tuned["status"] == "warn" and tuned["value"] == GPT2_REV and tuned["threshold"] == OLDER_REV
    assert "changed: model.safetensors" in tuned["message"] and "read the changelog before switching" in tuned["message"]
    assert found["org/current"]["status"] == "ok" and "still at" in found["org/current"]["message"]
    assert found["org/gated"]["status"] == "unknown" and "asks for credentials" in found["org/gated"]["message"]
    assert "hf_token_file" in found["org/gated"]["message"]
    assert "/api/models/org/tuned/revision/main?blobs=true" in asked
    assert fact["huggingface"]["pins"] == 4


def test_a_token_file_is_sent_to_the_hub(tmp_path):
    token = tmp_path / "token"
    token.write_text("hf_example_token\n")
    with Registries(hub={("org/gated", "main"): _hub(GPT2_REV)}, gated={"org/gated"}) as servers:
        _fact, found = gather(ollama_url="", ollama_models_dir=str(tmp_path / "none"), hf_endpoint=servers.url,
                              hf_token_file=str(token), hf_models=[{"repo": "org/gated", "revision": GPT2_REV}])
        assert servers.requests[0]["headers"]["Authorization"] == "Bearer hf_example_token"
    assert found["org/gated"]["status"] == "ok"
    assert "hf_example_token" not in json.dumps(_fact)


def test_a_model_manifest_that_cannot_be_read_is_unknown(tmp_path):
    _fact, found = gather(ollama_url="", ollama_models_dir=str(tmp_path / "none"), model_manifest=str(tmp_path / "nope.json"))
    assert found[""]["status"] == "unknown" and "model_manifest mode=scan" in found[""]["message"]


@pytest.mark.parametrize("options, word", [
    ({"ollama_registry": "registry.ollama.ai"}, "ollama_registry must be an http"),
    ({"hf_models": [{"repo": "org/x", "revision": "main"}]}, "revision must be the 40-hex commit"),
    ({"timeout": 0}, "timeout must be at least 1"),
])
def test_bad_options_name_the_option(options, word):
    with pytest.raises(Exception) as caught:
        AREA.validate(options)
    assert word in str(caught.value)


def test_a_comparison_without_answer_is_never_ok():
    result = checks.model_check({"name": "x:latest", "source": "ollama", "registry": "r", "update_available": None,
                                 "note": None, "error": None})
    assert result["status"] == "unknown"


def test_the_store_reads_what_ollama_lists(tmp_path):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.model_updates import collect
    models_dir = store(tmp_path / "models", {("library", "gemma", "2b"): GEMMA})
    (tmp_path / "models" / "manifests" / "registry.ollama.ai" / "library" / "gemma" / "notes.txt").write_text("not json")
    found, reason = collect.read_store(models_dir)
    assert reason is None and list(found) == [("registry.ollama.ai", "library", "gemma", "2b")]
    assert found[("registry.ollama.ai", "library", "gemma", "2b")]["name"] == "gemma:2b"
    assert os.path.basename(models_dir) == "models"


def test_metrics_one_sample_per_model_compared(ollama_host):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.model_updates import present
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.prom import Families, parse_samples, render
    servers, models_dir = ollama_host
    fact, _found = gather(ollama_url=servers.url, ollama_models_dir=models_dir, ollama_registry=servers.url)
    fam = Families()
    present.metrics(fact, fam)
    samples = dict((labels["model"], value) for labels, value in parse_samples(render(fam), "gpufleet_model_update_available"))
    # mario:latest was not compared (the registry has none): no sample, not a 0
    assert samples == {"gemma:2b": 0.0, "llama3:latest": 0.0, "tinyllama:latest": 1.0}
    assert present.summary_lines(fact) == ["model updates: 4 compared; newer upstream: tinyllama:latest (read the changelog "
                                           "before switching); not compared: mario:latest"]
