"""The models area on real files: classify, Ollama manifests, scan with the hash cache, verify."""

import hashlib
import json
import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import build_fact
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.collect import HashCache, observe, scan
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.parse import classify, parse_ollama_manifest


def verify(manifest, roots, cache, full=False, max_bytes=None, now=None):
    """What model_manifest mode=verify does: read (collect), then judge (the area)."""
    observed, warnings = observe(manifest, roots, cache, full=full, max_bytes=max_bytes, now=now)
    return build_fact(observed, "m.json"), warnings


def _blob(store, content):
    digest = hashlib.sha256(content).hexdigest()
    path = store / "blobs" / ("sha256-" + digest)
    path.write_bytes(content)
    return digest


@pytest.fixture
def stores(tmp_path):
    """A small Ollama store (correct blob names) and a GGUF directory."""
    ollama = tmp_path / "ollama" / "models"
    (ollama / "blobs").mkdir(parents=True)
    weights = _blob(ollama, b"GGUF" + b"\x01" * 4000)
    config = _blob(ollama, b'{"model_format":"gguf"}')
    template = _blob(ollama, b"{{ .Prompt }}")
    mdir = ollama / "manifests" / "registry.ollama.ai" / "library" / "gemma3"
    mdir.mkdir(parents=True)
    (mdir / "270m").write_text(json.dumps({
        "schemaVersion": 2, "config": {"digest": "sha256:" + config, "size": 23},
        "layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + weights},
                   {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + template}]}))
    gguf = tmp_path / "gguf"
    gguf.mkdir()
    (gguf / "llama-3.1-8b-q4_k_m.gguf").write_bytes(b"GGUF" + b"\x02" * 10000)
    (gguf / "notes.txt").write_text("not a model")
    hf = tmp_path / "hf" / "models--org--tiny" / "snapshots" / "abc123"
    hf.mkdir(parents=True)
    (hf / "model.safetensors").write_bytes(b"\x00" * 300)
    return {"ollama": str(ollama), "gguf": str(gguf), "hf": str(tmp_path / "hf"), "weights": weights}


@pytest.mark.parametrize("path, kind", [
    ("/s/models/blobs/sha256-" + "a" * 64, "ollama_blob"),
    ("/hub/models--org--x/snapshots/r1/model.safetensors", "hf_snapshot"),
    ("/srv/m/x.gguf", "gguf"),
    ("/srv/m/x.safetensors", "safetensors"),
    ("/srv/m/pytorch_model.bin", "weights"),
    ("/srv/m/README.md", None),
])
def test_classify(path, kind):
    assert classify(path) == kind


def test_parse_ollama_manifest_names_model_and_digests(stores):
    path = os.path.join(stores["ollama"], "manifests", "registry.ollama.ai", "library", "gemma3", "270m")
    name, digests = parse_ollama_manifest(path, open(path).read())
    assert name == "gemma3:270m"
    assert len(digests) == 3 and stores["weights"] in digests


def test_scan_lists_artefacts_with_sizes_and_hashes(stores):
    cache = HashCache()
    manifest, warnings = scan([stores["ollama"], stores["gguf"], stores["hf"]], cache)
    assert warnings == []
    kinds = sorted(f["kind"] for f in manifest["files"])
    assert kinds == ["gguf", "hf_snapshot", "ollama_blob", "ollama_blob", "ollama_blob"]
    gguf = [f for f in manifest["files"] if f["kind"] == "gguf"][0]
    assert gguf["size_bytes"] == 10004
    assert gguf["sha256"] == hashlib.sha256(b"GGUF" + b"\x02" * 10000).hexdigest()
    assert list(manifest["ollama_models"]) == ["gemma3:270m"]
    assert cache.hashed_bytes == sum(f["size_bytes"] for f in manifest["files"])


def test_verify_clean_store_is_ok_and_cache_skips_unchanged_files(stores):
    roots = [stores["ollama"], stores["gguf"]]
    cache = HashCache()
    manifest, dummy = scan(roots, cache)
    first = cache.hashed_bytes
    result, warnings = verify(manifest, roots, cache)
    assert warnings == [] and result["status"] == "ok" and result["problems"] == []
    assert [(c["check"], c["status"], c["value"]) for c in result["checks"]] == [("model_files", "ok", 4)]
    assert cache.hashed_bytes == first  # nothing re-read: every file was cached
    result, dummy = verify(manifest, roots, cache, full=True)
    assert cache.hashed_bytes == 2 * first and result["files_checked"] == 4


def test_verify_finds_corrupted_blob_changed_missing_and_extra_files(stores):
    roots = [stores["ollama"], stores["gguf"]]
    cache = HashCache()
    manifest, dummy = scan(roots, cache)
    blob = os.path.join(stores["ollama"], "blobs", "sha256-" + stores["weights"])
    with open(blob, "r+b") as handle:  # same size, one flipped byte: bit rot
        handle.seek(100)
        handle.write(b"\xff")
    gguf = os.path.join(stores["gguf"], "llama-3.1-8b-q4_k_m.gguf")
    with open(gguf, "ab") as handle:
        handle.write(b"x")
    extra = os.path.join(stores["gguf"], "new-model.gguf")
    with open(extra, "wb") as handle:
        handle.write(b"GGUF")
    config_blob = [f["path"] for f in manifest["files"] if f["size_bytes"] == 23][0]
    os.unlink(config_blob)
    result, dummy = verify(manifest, roots, cache)
    problems = dict((p["path"], p["problem"]) for p in result["problems"])
    assert problems == {blob: "blob_digest_mismatch", gguf: "size_mismatch", extra: "extra", config_blob: "missing"}
    assert result["status"] == "crit"
    messages = " ".join(c["message"] for c in result["checks"])
    assert "ollama pull" in messages and "restore it from the backup" in messages
    statuses = dict((c["path"], (c["check"], c["status"])) for c in result["checks"])
    assert statuses == {blob: ("model_file", "crit"), gguf: ("model_file", "crit"), extra: ("model_file", "warn"),
                        config_blob: ("model_file", "crit")}


def test_max_bytes_spreads_a_full_rehash_over_runs(stores):
    roots = [stores["gguf"], stores["hf"]]
    cache = HashCache()
    manifest, dummy = scan(roots, cache, now=100)  # gguf (10004 bytes) hashed first, then the 300-byte snapshot
    hashed = []
    deferred = []
    for run in range(2):
        before = cache.hashed_bytes
        result, dummy = verify(manifest, roots, cache, full=True, max_bytes=10004, now=200 + run)
        hashed.append(cache.hashed_bytes - before)
        deferred.append([os.path.basename(p["path"]) for p in result["problems"] if p["problem"] == "deferred"])
        assert result["status"] == "ok"  # deferred is not a failure
    # run 1 re-hashes the file hashed longest ago (the GGUF) and defers the rest; run 2 the other one
    assert hashed == [10004, 300]
    assert deferred == [["model.safetensors"], ["llama-3.1-8b-q4_k_m.gguf"]]
    assert sorted(e["hashed_at"] for e in cache.entries.values()) == [200, 201]


def test_scan_defers_files_beyond_the_budget(stores):
    manifest, dummy = scan([stores["gguf"]], HashCache(), max_bytes=100)
    assert manifest["files"][0]["sha256"] is None and manifest["files"][0]["deferred"] is True
