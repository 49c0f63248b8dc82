"""The model-update check's parsers and comparisons, on Ollama's documented and captured JSON and the Hub's shape.

Expected values come from the fixtures (tests/unit/fixtures/model_registries/PROVENANCE.md) and Ollama's
naming rules as documented (docs/api.md, "Model names": ``model:tag``, an optional namespace, tag default
``latest``), never from the code under test.
"""

import copy
import hashlib
import json
import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.model_updates import parse

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "model_registries")
# The digest public `ollama list` / `/api/tags` outputs show for gemma:2b (PROVENANCE.md): not computed here.
GEMMA_2B_PUBLIC_DIGEST = "b50d6c999e592ae4f79acae23b4feaefbdfceaa7cd366df2610e3072c052a160"


def fixture(name, mode="rb"):
    with open(os.path.join(FIXTURES, name), mode) as handle:
        return handle.read()


def newer(manifest_bytes, layer_type="application/vnd.ollama.image.template", digest="ab" * 32):
    """The manifest with one layer replaced (what a re-published tag looks like)."""
    doc = json.loads(manifest_bytes)
    for layer in doc["layers"]:
        if layer["mediaType"] == layer_type:
            layer["digest"] = "sha256:" + digest
    return json.dumps(doc, separators=(",", ":")).encode()


def reserialised(manifest_bytes):
    """The same manifest written otherwise: indented, keys sorted (bytes differ, content does not)."""
    return json.dumps(json.loads(manifest_bytes), indent=2, sort_keys=True).encode()


def test_the_tags_digest_is_the_sha256_of_the_stored_manifest():
    # The fact the comparison rests on: the captured gemma:2b manifest hashes to the digest Ollama lists.
    assert hashlib.sha256(fixture("ollama-manifest-gemma-2b.json")).hexdigest() == GEMMA_2B_PUBLIC_DIGEST
    assert parse.sha256_hex(fixture("ollama-manifest-gemma-2b.json")) == GEMMA_2B_PUBLIC_DIGEST


@pytest.mark.parametrize("name, ref, short", [
    ("llama3", ("registry.ollama.ai", "library", "llama3", "latest"), "llama3:latest"),
    ("codellama:13b", ("registry.ollama.ai", "library", "codellama", "13b"), "codellama:13b"),
    ("gemma:2b", ("registry.ollama.ai", "library", "gemma", "2b"), "gemma:2b"),
    ("registry.ollama.ai/library/gemma:2b", ("registry.ollama.ai", "library", "gemma", "2b"), "gemma:2b"),
    ("mattw/pygmalion:latest", ("registry.ollama.ai", "mattw", "pygmalion", "latest"), "mattw/pygmalion:latest"),
    ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
     ("hf.co", "bartowski", "Llama-3.2-1B-Instruct-GGUF", "Q4_K_M"), "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"),
    ("localhost:5000/team/model:v2", ("localhost:5000", "team", "model", "v2"), "localhost:5000/team/model:v2"),
])
def test_ollama_names(name, ref, short):
    parsed = parse.parse_ollama_name(name)
    assert parse.ollama_key(parsed) == ref
    assert parse.ollama_short_name(parsed) == short


@pytest.mark.parametrize("name", ["", "a/b/c/d", "a//b"])
def test_names_that_are_not_ollama_names(name):
    with pytest.raises(parse.ParseError):
        parse.parse_ollama_name(name)


def test_registry_and_manifest_path():
    library = parse.parse_ollama_name("gemma:2b")
    assert parse.registry_base(library, "http://127.0.0.1:5000/") == "http://127.0.0.1:5000"
    assert parse.manifest_path(library) == "/v2/library/gemma/manifests/2b"
    other = parse.parse_ollama_name("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M")
    assert parse.registry_base(other, "http://127.0.0.1:5000") == "https://hf.co"
    assert parse.manifest_path(other) == "/v2/bartowski/Llama-3.2-1B-Instruct-GGUF/manifests/Q4_K_M"


def test_tags_from_the_documented_answer():
    assert parse.parse_tags(fixture("ollama-docs-api-tags.json", "r")) == [
        {"name": "codellama:13b", "digest": "9f438cb9cd581fc025612d27f7c1a6669ff83a8bb0ed86c94fcf4c5440555697"},
        {"name": "llama3:latest", "digest": "fe938a131f40e6f6d40083c9f0f430a515233eb2edaa6d72eb85c50d64f2300e"}]


@pytest.mark.parametrize("text", ["not json", "[]", '{"error": "x"}'])
def test_a_tags_answer_without_models_is_an_error(text):
    with pytest.raises(parse.ParseError):
        parse.parse_tags(text)


def test_manifest_content_of_the_captured_manifest():
    content = parse.manifest_content(fixture("ollama-manifest-gemma-2b.json"))
    assert content["config"] == "887433b89a901c156f7e6944442f3c9e57f3c55d6ed52042cbb7303aea994290"
    assert content["layers"] == sorted([
        "c1864a5eb19305c40519da12cc543519e48a0697ecd30e15d5ac228644957d12",
        "097a36493f718248845233af1d3fefe7a303f864fae13bc31a3a9704229378ca",
        "109037bec39c0becc8221222ae23557559bc594290945a2c4221ab4f303b8871",
        "22a838ceb7fb22755a3b0ae9b4eadde629d19be1f651f73efb8c6b4e2cd0eea0"])
    with pytest.raises(parse.ParseError):
        parse.manifest_content(b'{"schemaVersion": 2}')


def _side(data):
    return parse.sha256_hex(data), parse.manifest_content(data)


def test_same_manifest_is_no_update():
    stored = fixture("ollama-manifest-gemma-2b.json")
    update, note = parse.compare_ollama(*(_side(stored) + _side(stored)))
    assert update is False and GEMMA_2B_PUBLIC_DIGEST[:12] in note


def test_a_manifest_stored_re_serialised_is_no_update():
    # An Ollama before 0.19 stored the manifest re-serialised: other bytes, other digest, same blobs.
    served = fixture("ollama-manifest-gemma-2b.json")
    stored = reserialised(served)
    assert parse.sha256_hex(stored) != parse.sha256_hex(served)
    update, note = parse.compare_ollama(*(_side(stored) + _side(served)))
    assert update is False and "same config and layers" in note


def test_a_new_layer_upstream_is_an_update():
    stored = fixture("ollama-manifest-gemma-2b.json")
    update, note = parse.compare_ollama(*(_side(stored) + _side(newer(stored))))
    assert update is True and "1 new layer" in note


def test_a_new_config_is_named():
    stored = fixture("ollama-manifest-gemma-2b.json")
    doc = json.loads(stored)
    doc["config"]["digest"] = "sha256:" + "cd" * 32
    update, note = parse.compare_ollama(*(_side(stored) + _side(json.dumps(doc).encode())))
    assert update is True and "new config" in note


def test_digests_that_differ_without_the_local_manifest_are_not_compared():
    stored = fixture("ollama-manifest-gemma-2b.json")
    remote, content = _side(reserialised(stored))
    update, note = parse.compare_ollama(GEMMA_2B_PUBLIC_DIGEST, None, remote, content)
    assert update is None and "could not be read" in note
    assert parse.compare_ollama(None, None, remote, content)[0] is None


# --- Hugging Face --------------------------------------------------------------------------------------

GPT2_REV = "607a30d783dfa663caf39e06633721c8d4cfcd7e"
SAFETENSORS = "248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707"
OLDER_REV = "e7da7f221d5bf496a48136c0cd264e630fe9fcc8"


def hub(sha=GPT2_REV, safetensors=SAFETENSORS):
    info = json.loads(fixture("hf-model-info-gpt2.json", "r"))
    info["sha"] = sha
    for sibling in info["siblings"]:
        if sibling.get("lfs"):
            sibling["lfs"]["sha256"] = safetensors
    return parse.hub_info(json.dumps(info))


def test_hub_info_of_the_model_info_answer():
    info = parse.hub_info(fixture("hf-model-info-gpt2.json", "r"))
    assert info["sha"] == GPT2_REV
    assert info["files"]["model.safetensors"] == {"sha256": SAFETENSORS, "size": 548105171, "blob_id": None}
    assert info["files"]["config.json"] == {"sha256": None, "size": None, "blob_id": "10c66461e4c109db5a2196bff4bb59be30396ed8"}
    with pytest.raises(parse.ParseError):
        parse.hub_info('{"id": "x"}')


def test_pins_from_the_model_manifest_and_by_hand():
    files = [
        {"path": "/root/.cache/huggingface/hub/models--openai-community--gpt2/snapshots/%s/model.safetensors" % OLDER_REV,
         "sha256": SAFETENSORS},
        {"path": "/root/.cache/huggingface/hub/models--openai-community--gpt2/snapshots/%s/config.json" % OLDER_REV,
         "sha256": "0d" * 32},
        {"path": "/srv/models/gemma3/2026-10-01.gguf", "sha256": "11" * 32},
    ]
    pins = parse.hf_pins(files, [{"repo": "Qwen/Qwen2.5-7B-Instruct", "revision": "a" * 40, "branch": "release",
                                  "files": ["model-00001-of-00004.safetensors"]}])
    assert pins == [
        {"repo": "Qwen/Qwen2.5-7B-Instruct", "revision": "a" * 40, "branch": "release",
         "files": {"model-00001-of-00004.safetensors": None}},
        {"repo": "openai-community/gpt2", "revision": OLDER_REV, "branch": "main",
         "files": {"config.json": "0d" * 32, "model.safetensors": SAFETENSORS}},
    ]


def _pin(files):
    return {"repo": "openai-community/gpt2", "revision": OLDER_REV, "branch": "main", "files": files}


def test_the_pinned_commit_still_on_the_branch_is_no_update():
    update, note, changed = parse.compare_hf(dict(_pin({}), revision=GPT2_REV), hub())
    assert (update, changed) == (False, []) and "still at" in note


def test_a_branch_that_moved_without_changing_the_pinned_file_is_no_update():
    update, note, changed = parse.compare_hf(_pin({"model.safetensors": SAFETENSORS}), hub())
    assert update is False and "unchanged" in note and OLDER_REV[:12] in note and GPT2_REV[:12] in note


def test_a_changed_pinned_file_is_an_update():
    update, note, changed = parse.compare_hf(_pin({"model.safetensors": SAFETENSORS}), hub(safetensors="ef" * 32))
    assert update is True and changed == ["model.safetensors"]


def test_a_pinned_file_gone_from_the_branch_is_an_update():
    update, _note, changed = parse.compare_hf(_pin({"model.safetensors": SAFETENSORS, "tokenizer.model": "12" * 32}), hub())
    assert update is True and changed == ["tokenizer.model (gone)"]


def test_a_moved_branch_with_nothing_to_compare_by_content_is_an_update():
    # config.json is not in LFS: the Hub gives no sha256 for it, so a moved commit cannot be cleared.
    update, note, _changed = parse.compare_hf(_pin({"model.safetensors": SAFETENSORS, "config.json": "0d" * 32}), hub())
    assert update is True and "config.json" in note
    assert parse.compare_hf(_pin({}), hub())[0] is True


def test_inputs_are_not_changed():
    pin = _pin({"model.safetensors": SAFETENSORS})
    before = copy.deepcopy(pin)
    parse.compare_hf(pin, hub())
    assert pin == before
