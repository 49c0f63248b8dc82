"""model_file / model_files verdicts whole, from hand-built observations (digests written out here)."""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import checks

A = "a" * 64
B = "b" * 64
BLOB = "/usr/share/ollama/.ollama/models/blobs/sha256-" + A


def test_fix_for_an_ollama_blob_is_a_re_pull_else_a_re_download():
    assert checks.fix_for({"kind": "ollama_blob"}) == checks.FIX_OLLAMA
    assert checks.fix_for({"kind": "gguf"}) == checks.FIX_REFETCH
    assert checks.fix_for(None) == checks.FIX_REFETCH


def test_problems_name_12_hex_digits_and_the_fix_per_kind():
    data = {"expected": [{"path": "/m/a.gguf", "size_bytes": 4, "sha256": A, "kind": "gguf"},
                         {"path": BLOB, "size_bytes": 4, "sha256": A, "kind": "ollama_blob"},
                         {"path": "/m/gone.gguf", "size_bytes": 4, "sha256": A, "kind": "gguf"}],
            "seen": [{"path": "/m/a.gguf", "size_bytes": 4, "sha256": B},
                     {"path": BLOB, "size_bytes": 4, "sha256": B}]}
    found, checked = checks.problems(data)
    assert checked == 2
    assert found == [
        {"problem": "checksum_mismatch", "path": "/m/a.gguf",
         "detail": "sha256 bbbbbbbbbbbb... differs from the manifest's aaaaaaaaaaaa...", "fix": checks.FIX_REFETCH},
        {"problem": "blob_digest_mismatch", "path": BLOB, "detail": "content hashes to sha256:bbbbbbbbbbbb..., its name says aaaaaaaaaaaa...",
         "fix": "corrupted Ollama blob: `ollama rm` and `ollama pull` the model that uses it"},
        {"problem": "missing", "path": "/m/gone.gguf", "detail": "in the manifest but not on disk", "fix": checks.FIX_REFETCH}]


def test_a_missing_ollama_blob_is_re_pulled():
    data = {"expected": [{"path": BLOB, "size_bytes": 4, "sha256": A, "kind": "ollama_blob"}], "seen": []}
    [problem], checked = checks.problems(data)
    assert checked == 0 and problem["problem"] == "missing" and problem["fix"] == checks.FIX_OLLAMA


def test_evaluate_statuses_values_and_subjects():
    problems = [{"problem": "missing", "path": "/m/gone.gguf", "detail": "in the manifest but not on disk", "fix": checks.FIX_REFETCH},
                {"problem": "extra", "path": "/m/new.gguf", "detail": "not in the manifest", "fix": checks.FIX_EXTRA},
                {"problem": "unreadable", "path": "/m/locked.gguf", "detail": "could not be read (EACCES)", "fix": checks.FIX_UNREADABLE},
                {"problem": "deferred", "path": "/m/big.gguf", "detail": "not re-hashed this run", "fix": ""},
                {"problem": "deferred", "path": "/m/new-big.gguf", "detail": "not hashed since it last changed", "fix": checks.FIX_DEFERRED}]
    results = checks.evaluate({"problems": problems, "files_checked": 7})
    assert [(r["status"], r["value"], r["subject"]) for r in results] == [
        ("crit", "missing", {"path": "/m/gone.gguf"}), ("warn", "extra", {"path": "/m/new.gguf"}),
        ("unknown", "unreadable", {"path": "/m/locked.gguf"}), ("unknown", "deferred", {"path": "/m/new-big.gguf"})]
    assert results[0]["message"] == "/m/gone.gguf: in the manifest but not on disk: " + checks.FIX_REFETCH
    assert results[3]["message"].startswith("could not look: /m/new-big.gguf: not hashed since it last changed")


def test_nothing_wrong_is_one_ok_with_the_count():
    [result] = checks.evaluate({"problems": [], "files_checked": 7})
    assert (result["check"], result["status"], result["value"], result["message"]) == (
        "model_files", "ok", 7, "7 model file(s) match the manifest")
