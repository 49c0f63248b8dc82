"""rsync's command lines (local and over SSH) and the parsers of its listings and itemized output."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup.parse import previous_snapshot
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import rsync

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
    assert rsync.is_remote(target) is remote


def test_listing_and_previous_snapshot():
    names = rsync.parse_list(LISTING)
    assert names == ["2026-09", "2026-10", "2026-11"]
    assert previous_snapshot(names, "2026-11") == "2026-10"
    assert previous_snapshot(names, "2026-12") == "2026-11"
    assert previous_snapshot(names, "2026-09") is None
    assert previous_snapshot([], "2026-09") is None


def test_parse_itemize_counts_copies_and_deletions():
    parsed = rsync.parse_itemize(ITEMIZED)
    assert parsed["files_copied"] == 2 and parsed["entries_deleted"] == 1 and len(parsed["changes"]) == 6
    assert rsync.parse_itemize("")["changes"] == []


def test_argv_local_and_remote():
    local = rsync.snapshot_argv("/usr/bin/rsync", ["/etc/gpufleet"], "/srv/backup/", "2026-11", "2026-10", rsh="ssh")
    assert local[-2:] == ["/etc/gpufleet", "/srv/backup/2026-11/"]
    assert "--link-dest=../2026-10" in local and "-e" not in local and "--dry-run" not in local
    remote = rsync.snapshot_argv("rsync", ["/etc/x"], "b@nas:/b", "2026-11", None, rsh="ssh -i k", dry_run=True)
    assert remote[remote.index("-e") + 1] == "ssh -i k" and "--dry-run" in remote
    assert not any(a.startswith("--link-dest") for a in remote)
    assert rsync.restore_argv("rsync", "b@nas:/b", "2026-11", "/var/tmp/d", "ssh")[-2:] == ["b@nas:/b/2026-11/", "/var/tmp/d/"]
    assert rsync.list_argv("rsync", "/b") == ["rsync", "--list-only", "/b/"]


def test_delete_argv_deletes_only_the_named_snapshots():
    argv = rsync.delete_argv("rsync", "backup@nas:/srv/backup", ["gpufleet-driver_bump-20251101T000000Z"], "/tmp/empty", "ssh -p 2222")
    assert argv == ["rsync", "--recursive", "--delete", "--itemize-changes", "-e", "ssh -p 2222",
                    "--include=/gpufleet-driver_bump-20251101T000000Z/***", "--exclude=*", "/tmp/empty/", "backup@nas:/srv/backup/"]


@pytest.mark.parametrize("names", [[], ["a/b"], [".."], ["gpufleet-*"], ["x[1]"]])
def test_delete_argv_refuses_what_is_not_a_plain_name(names):
    with pytest.raises(ValueError):
        rsync.delete_argv("rsync", "/srv/backup", names, "/tmp/empty")
