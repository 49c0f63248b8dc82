"""What the models area could not read is "unknown", never ok and never "missing"."""

import errno
import os

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import build_fact, checks
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.collect import HashCache, observe, scan


def _store(tmp_path):
    store = tmp_path / "models"
    (store / "sub").mkdir(parents=True)
    (store / "a.gguf").write_bytes(b"GGUF" + b"\x01" * 100)
    (store / "sub" / "b.gguf").write_bytes(b"GGUF" + b"\x02" * 200)
    return store


def test_a_directory_that_cannot_be_listed_is_unknown_not_missing(tmp_path, monkeypatch):
    store = _store(tmp_path)
    manifest, dummy = scan([str(store)], HashCache())
    sub = str(store / "sub")
    real = os.scandir

    def scandir(path="."):
        if os.path.abspath(path) == sub:  # what a directory of mode 0700 owned by another user gives
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    observed, warnings = observe(manifest, [str(store)], HashCache())
    fact = build_fact(observed, "m.json")
    assert warnings == []  # said in the check, not a warning
    assert observed["unlisted"] == [{"path": sub, "error": "Permission denied"}]
    assert [(p["problem"], os.path.basename(p["path"])) for p in fact["problems"]] == [("unreadable", "b.gguf")]
    assert [(c["check"], c["status"], c["path"]) for c in fact["checks"]] == [("model_file", "unknown", str(store / "sub" / "b.gguf"))]
    assert fact["checks"][0]["message"].startswith("could not look: ") and "become: true" in fact["checks"][0]["message"]
    assert fact["status"] == "unknown" and fact["files_checked"] == 1


def test_a_file_that_cannot_be_read_is_unknown(tmp_path, monkeypatch):
    store = _store(tmp_path)
    manifest, dummy = scan([str(store)], HashCache())
    target = str(store / "a.gguf")
    real = open

    def refusing(path, *args, **kwargs):
        if path == target:
            raise IOError(errno.EIO, "Input/output error", path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing)
    observed, warnings = observe(manifest, [str(store)], HashCache())
    fact = build_fact(observed, "m.json")
    assert warnings == ["could not read %s: [Errno 5] Input/output error: '%s'" % (target, target)]
    assert [(c["check"], c["status"], c["value"]) for c in fact["checks"]] == [("model_file", "unknown", "unreadable")]
    assert fact["status"] == "unknown" and fact["files_checked"] == 1


def test_a_deferred_file_never_hashed_in_its_state_is_unknown(tmp_path):
    store = _store(tmp_path)
    cache = HashCache()
    manifest, dummy = scan([str(store)], cache)
    with open(str(store / "sub" / "b.gguf"), "r+b") as handle:  # same size, new content and mtime
        handle.write(b"XXXX")
    os.utime(str(store / "sub" / "b.gguf"), ns=(1, 1))
    fact = build_fact(observe(manifest, [str(store)], cache, max_bytes=10)[0], "m.json")
    assert [(p["problem"], os.path.basename(p["path"])) for p in fact["problems"]] == [("deferred", "b.gguf")]
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("model_file", "unknown")]
    assert "max_bytes_per_run" in fact["checks"][0]["message"]
    # in the next run, with room for it, the change is found
    fact = build_fact(observe(manifest, [str(store)], cache)[0], "m.json")
    assert [(c["check"], c["status"], c["value"]) for c in fact["checks"]] == [("model_file", "crit", "checksum_mismatch")]


def test_problems_and_verdicts_from_data():
    data = {"expected": [{"path": "/m/a.gguf", "kind": "gguf", "size_bytes": 4, "sha256": "a" * 64},
                         {"path": "/m/x/b.gguf", "kind": "gguf", "size_bytes": 4, "sha256": "b" * 64},
                         {"path": "/m/c.gguf", "kind": "gguf", "size_bytes": 4, "sha256": "c" * 64}],
            "seen": [{"path": "/m/a.gguf", "size_bytes": 4, "sha256": "a" * 64, "cached_sha256": None, "deferred": False, "error": None}],
            "unlisted": [{"path": "/m/x", "error": "Permission denied"}]}
    found, checked = checks.problems(data)
    assert checked == 1
    assert [(p["problem"], p["path"]) for p in found] == [("missing", "/m/c.gguf"), ("unreadable", "/m/x/b.gguf")]
    results = checks.evaluate({"problems": found, "files_checked": checked})
    assert [(r["check"], r["status"]) for r in results] == [("model_file", "crit"), ("model_file", "unknown")]
    clean = checks.evaluate({"problems": [], "files_checked": 7})
    assert [(r["check"], r["status"], r["value"]) for r in clean] == [("model_files", "ok", 7)]
