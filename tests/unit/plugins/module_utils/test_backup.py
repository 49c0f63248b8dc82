"""Pure parts of the backup: rsync argv, its listings and itemized output, manifests, drills on real files."""

import hashlib
import json
import os
import shutil

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _backup
from ansible_collections.gpufleet.maintenance.plugins.module_utils._model_store import HashCache, scan

# rsync 3.2.7 (Debian 12) output, captured on this host
LISTING = """drwxr-xr-x          4,096 2026/11/26 03:30:01 .
drwxr-xr-x          4,096 2026/10/01 02:00:00 2026-09
drwxr-xr-x          4,096 2026/10/01 02:00:00 2026-10
-rw-r--r--             12 2026/10/01 02:00:00 README
drwxr-xr-x          4,096 2026/11/01 02:00:00 2026-11
"""
ITEMIZED = """cd+++++++++ /etc/gpufleet/
>f+++++++++ /etc/gpufleet/ollama.env
>f.st...... /srv/models/gemma3.gguf
.d..t...... /srv/models/
cL+++++++++ /srv/models/current -> gemma3.gguf
*deleting   /etc/gpufleet/old.env
"""


@pytest.mark.parametrize("target, remote", [
    ("/srv/backup", False), ("backup@nas:/srv/backup", True), ("nas:backup", True), ("./a:b", False), ("/mnt/x:y", False),
])
def test_is_remote(target, remote):
    assert _backup.is_remote(target) is remote


def test_listing_and_previous_snapshot():
    names = _backup.parse_list(LISTING)
    assert names == ["2026-09", "2026-10", "2026-11"]
    assert _backup.previous_snapshot(names, "2026-11") == "2026-10"
    assert _backup.previous_snapshot(names, "2026-12") == "2026-11"
    assert _backup.previous_snapshot(names, "2026-09") is None
    assert _backup.previous_snapshot([], "2026-09") is None


def test_parse_itemize_counts_copies_and_deletions():
    parsed = _backup.parse_itemize(ITEMIZED)
    assert parsed["files_copied"] == 2 and parsed["entries_deleted"] == 1 and len(parsed["changes"]) == 6
    assert _backup.parse_itemize("")["changes"] == []


def test_argv_local_and_remote():
    local = _backup.snapshot_argv("/usr/bin/rsync", ["/etc/gpufleet"], "/srv/backup/", "2026-11", "2026-10", rsh="ssh")
    assert local[-2:] == ["/etc/gpufleet", "/srv/backup/2026-11/"]
    assert "--link-dest=../2026-10" in local and "-e" not in local and "--dry-run" not in local
    remote = _backup.snapshot_argv("rsync", ["/etc/x"], "b@nas:/b", "2026-11", None, rsh="ssh -i k", dry_run=True)
    assert remote[remote.index("-e") + 1] == "ssh -i k" and "--dry-run" in remote
    assert not any(a.startswith("--link-dest") for a in remote)
    assert _backup.restore_argv("rsync", "b@nas:/b", "2026-11", "/var/tmp/d", "ssh")[-2:] == ["b@nas:/b/2026-11/", "/var/tmp/d/"]
    assert _backup.list_argv("rsync", "/b") == ["rsync", "--list-only", "/b/"]


def test_rebase_moves_roots_and_paths():
    manifest = {"version": 1, "roots": ["/srv/models"], "files": [{"path": "/srv/models/a.gguf", "sha256": "x"}]}
    rebased = _backup.rebase(manifest, "/var/tmp/d")
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
    files = _backup.list_files([str(live / "conf"), str(state / "models.json")], skip=[str(state / "backup-manifest.json")])
    manifest, warnings = _backup.backup_manifest(files, cache)
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
    result, warnings = _backup.drill(str(scratch), str(state / "backup-manifest.json"), str(state / "models.json"), HashCache())
    assert result["status"] == "ok" and result["files_checked"] == 3 and result["problems"] == [] and warnings == []
    assert result["checks"][0]["check"] == "backup_restore_drill" and result["checks"][0]["value"] == 3


def test_drill_catches_a_flipped_byte_and_a_missing_file(tmp_path):
    scratch, state = _restored(tmp_path)
    weights = scratch / str(tmp_path / "live" / "models" / "m.gguf").lstrip("/")
    data = bytearray(weights.read_bytes())
    data[100] ^= 0x01
    weights.write_bytes(bytes(data))
    (scratch / str(tmp_path / "live" / "conf" / "runner.env").lstrip("/")).unlink()
    result, dummy = _backup.drill(str(scratch), str(state / "backup-manifest.json"), str(state / "models.json"), HashCache())
    assert result["status"] == "crit"
    assert sorted((os.path.basename(p["path"]), p["problem"]) for p in result["problems"]) == [
        ("m.gguf", "checksum_mismatch"), ("runner.env", "missing")]
    assert "take a fresh snapshot" in result["checks"][0]["message"]


def test_drill_without_weights_or_manifest_is_crit(tmp_path):
    scratch, state = _restored(tmp_path)
    shutil.rmtree(scratch / str(tmp_path / "live" / "models").lstrip("/"))
    result, dummy = _backup.drill(str(scratch), str(state / "backup-manifest.json"), str(state / "models.json"), HashCache())
    assert result["status"] == "crit" and result["problems"][0]["problem"] == "weights_missing"
    result, dummy = _backup.drill(str(tmp_path / "empty"), str(state / "backup-manifest.json"), None, HashCache())
    assert result["status"] == "crit" and result["problems"][0]["problem"] == "manifest_unreadable"
