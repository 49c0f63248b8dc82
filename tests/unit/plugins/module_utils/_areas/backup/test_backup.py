"""The backup area: manifests, and drills on real restored files (read, then judged)."""

import hashlib
import json
import os
import shutil

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import build_fact, collect
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup.parse import rebase
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.collect import HashCache, scan


def _drill(scratch, backup_manifest_path, model_manifest_path, cache):
    """What backup_snapshot mode=drill does once rsync restored the snapshot: read, then judge."""
    data, warnings = collect.restored(scratch, backup_manifest_path, model_manifest_path, cache)
    return build_fact("/b", "/b/2026-11", {"error": None, "reached": True}, data), warnings


def test_rebase_moves_roots_and_paths():
    manifest = {"version": 1, "roots": ["/srv/models"], "files": [{"path": "/srv/models/a.gguf", "sha256": "x"}]}
    rebased = rebase(manifest, "/var/tmp/d")
    assert rebased["roots"] == ["/var/tmp/d/srv/models"] and rebased["files"][0]["path"] == "/var/tmp/d/srv/models/a.gguf"
    assert manifest["roots"] == ["/srv/models"]  # the original is left alone


def _restored(tmp_path):
    """A live tree, its manifests, and a 'restored' copy of it under scratch (what rsync would make)."""
    live = tmp_path / "live"
    (live / "conf").mkdir(parents=True)
    (live / "models").mkdir()
    (live / "conf" / "runner.env").write_text("PORT=11434\n")
    (live / "models" / "m.gguf").write_bytes(b"GGUF" + b"\x00" * 4096)
    state = tmp_path / "state"
    state.mkdir()
    cache = HashCache()
    model_manifest, dummy = scan([str(live / "models")], cache)
    (state / "models.json").write_text(json.dumps(model_manifest))
    files = collect.list_files([str(live / "conf"), str(state / "models.json")], skip=[str(state / "backup-manifest.json")])
    manifest, warnings = collect.backup_manifest(files, cache)
    assert warnings == [] and [os.path.basename(f["path"]) for f in manifest["files"]] == ["runner.env", "models.json"]
    assert manifest["files"][0]["sha256"] == hashlib.sha256(b"PORT=11434\n").hexdigest()
    (state / "backup-manifest.json").write_text(json.dumps(manifest))
    scratch = tmp_path / "scratch"
    for path in [live / "conf" / "runner.env", live / "models" / "m.gguf", state / "models.json", state / "backup-manifest.json"]:
        copy = scratch / str(path).lstrip("/")
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
    return scratch, state


def test_drill_passes_on_a_faithful_copy(tmp_path):
    scratch, state = _restored(tmp_path)
    result, warnings = _drill(str(scratch), str(state / "backup-manifest.json"), str(state / "models.json"), HashCache())
    assert result["status"] == "ok" and result["files_checked"] == 3 and result["problems"] == [] and warnings == []
    assert result["checks"][0]["check"] == "backup_restore_drill" and result["checks"][0]["value"] == 3


def test_drill_catches_a_flipped_byte_and_a_missing_file(tmp_path):
    scratch, state = _restored(tmp_path)
    weights = scratch / str(tmp_path / "live" / "models" / "m.gguf").lstrip("/")
    data = bytearray(weights.read_bytes())
    data[100] ^= 0x01
    weights.write_bytes(bytes(data))
    (scratch / str(tmp_path / "live" / "conf" / "runner.env").lstrip("/")).unlink()
    result, dummy = _drill(str(scratch), str(state / "backup-manifest.json"), str(state / "models.json"), HashCache())
    assert result["status"] == "crit"
    assert sorted((os.path.basename(p["path"]), p["problem"]) for p in result["problems"]) == [
        ("m.gguf", "checksum_mismatch"), ("runner.env", "missing")]
    assert "take a fresh snapshot" in result["checks"][0]["message"]


def test_drill_without_weights_or_manifest_is_crit(tmp_path):
    scratch, state = _restored(tmp_path)
    shutil.rmtree(scratch / str(tmp_path / "live" / "models").lstrip("/"))
    result, dummy = _drill(str(scratch), str(state / "backup-manifest.json"), str(state / "models.json"), HashCache())
    assert result["status"] == "crit" and result["problems"][0]["problem"] == "weights_missing"
    result, dummy = _drill(str(tmp_path / "empty"), str(state / "backup-manifest.json"), None, HashCache())
    assert result["status"] == "crit" and result["problems"][0]["problem"] == "manifest_unreadable"


def test_a_target_that_could_not_be_reached_is_unknown_and_a_missing_snapshot_crit():
    refused = {"error": "rsync exited 255: Permission denied (publickey)", "reached": False}
    unreached = build_fact("b@nas:/b", "b@nas:/b/2026-11", refused)
    assert [(c["check"], c["status"]) for c in unreached["checks"]] == [("backup_restore_drill", "unknown")]
    assert unreached["status"] == "unknown" and "could not be reached" in unreached["checks"][0]["message"]
    assert "Permission denied (publickey)" in unreached["checks"][0]["message"]
    missing = build_fact("/b", "/b/1999-01", {"error": "rsync exited 23: change_dir failed", "reached": True})
    assert [(c["check"], c["status"]) for c in missing["checks"]] == [("backup_restore_drill", "crit")]
    assert "could not restore snapshot /b/1999-01" in missing["checks"][0]["message"]


def test_a_restored_file_that_cannot_be_read_is_unknown_unless_another_is_wrong(tmp_path, monkeypatch):
    scratch, state = _restored(tmp_path)
    env = str(scratch / str(tmp_path / "live" / "conf" / "runner.env").lstrip("/"))
    real = open

    def refusing(path, *args, **kwargs):
        if path == env:
            raise IOError(13, "Permission denied", path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing)
    result, dummy = _drill(str(scratch), str(state / "backup-manifest.json"), str(state / "models.json"), HashCache())
    assert [(p["problem"], os.path.basename(p["path"])) for p in result["problems"]] == [("unreadable", "runner.env")]
    assert [(c["check"], c["status"], c["value"]) for c in result["checks"]] == [("backup_restore_drill", "unknown", 1)]
    assert result["files_checked"] == 2
    (scratch / str(tmp_path / "live" / "models" / "m.gguf").lstrip("/")).write_bytes(b"GGUF" + b"\x01" * 4096)
    result, dummy = _drill(str(scratch), str(state / "backup-manifest.json"), str(state / "models.json"), HashCache())
    assert [c["status"] for c in result["checks"]] == ["crit"]
    assert "restore drill found 1 problem(s), first checksum_mismatch" in result["checks"][0]["message"]
