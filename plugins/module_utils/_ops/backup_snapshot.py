# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``backup_snapshot``: rsync hard-link snapshots, and restore drills.

``snapshot``: gather (the snapshots already on the target, the files of ``sources`` and their
manifest), then apply in one step: write the backup manifest and hash cache (atomically, not in
check mode) and run ``rsync --link-dest`` (``--dry-run`` in check mode); ``changed`` is "rsync
itemized a change, or the manifest changed". ``drill``: restore a snapshot into an empty scratch
directory, read it back through the backup area (``_areas/backup``) and set ``gpufleet_backup``;
the scratch copy is removed afterwards. :func:`run` is what the module calls. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import AREA, build_fact, collect
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup.parse import previous_snapshot
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.collect import HashCache, load_cache, save_cache
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import atomic_write, read_text
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import rsync as _rsync


class BackupError(Exception):
    """The options are wrong or a step failed; ``details`` (cmd, rc, stderr) go into ``fail_json``."""

    def __init__(self, message, **details):
        super(BackupError, self).__init__(message)
        self.details = details


def _run(run_command, argv, what, timeout, ok=(0,)):
    try:
        result = _runner.run(run_command, argv, timeout=timeout)
    except _runner.ToolError as exc:
        raise BackupError("%s: %s" % (what, exc), cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)
    if result.rc not in ok:
        raise BackupError("%s: %s: %s" % (what, " ".join(argv), result.stderr.strip()), cmd=argv, rc=result.rc, stderr=result.stderr)
    return result


def snapshot(run_command, rsync, params, check_mode=False):
    """Take snapshot ``name``; returns ``(result, warnings)``."""
    for path in params["sources"] + params["weights"]:
        if not os.path.exists(path):
            raise BackupError("backup source %s does not exist: fix backup_sources or create it" % path)
    listing = _run(run_command, _rsync.list_argv(rsync, params["target"], params["rsh"]),
                   "listing the snapshots in %s" % params["target"], params["timeout_s"], ok=(0, 23))
    link_dest = previous_snapshot(_rsync.parse_list(listing.stdout), params["name"])
    manifest_path = os.path.join(params["state_dir"], collect.MANIFEST_NAME)
    cache_path = manifest_path + ".hashcache.json"
    cache, warnings = load_cache(cache_path)
    files = collect.list_files(params["sources"], skip=[manifest_path, cache_path])
    manifest, more = collect.backup_manifest(files, cache)
    warnings.extend(more)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    before = read_text(manifest_path)
    if not check_mode:
        try:
            if not os.path.isdir(params["state_dir"]):
                os.makedirs(params["state_dir"], 0o700)
            if text != before:
                atomic_write(manifest_path, text)
            save_cache(cache_path, cache)
        except (IOError, OSError) as exc:
            raise BackupError("writing the backup manifest in %s: %s" % (params["state_dir"], exc))
    sources = params["sources"] + ([manifest_path] if os.path.exists(manifest_path) else []) + params["weights"]
    argv = _rsync.snapshot_argv(rsync, sources, params["target"], params["name"], link_dest, params["rsh"], dry_run=check_mode)
    copied = _rsync.parse_itemize(_run(run_command, argv, "taking snapshot %s" % params["name"], params["timeout_s"]).stdout)
    return dict(changed=bool(copied["changes"]) or text != before, snapshot=_rsync.snapshot_path(params["target"], params["name"]),
                link_dest=link_dest, changes=copied["changes"][:200], files_copied=copied["files_copied"],
                entries_deleted=copied["entries_deleted"], hashed_bytes=cache.hashed_bytes), warnings


def restore(run_command, rsync, params):
    """Restore snapshot ``name`` into ``scratch``: ``{error, reached}`` (``error`` None when it worked;
    ``reached``: rsync got an answer from the target, so an error is about what is, or is not, there)."""
    argv = _rsync.restore_argv(rsync, params["target"], params["name"], params["scratch"], params["rsh"])
    try:
        result = _runner.run(run_command, argv, timeout=params["timeout_s"])
    except _runner.ToolError as exc:
        return {"error": str(exc), "reached": False}
    if result.rc == 0:
        return {"error": None, "reached": True}
    return {"error": "rsync exited %d: %s" % (result.rc, result.stderr.strip()[-500:]), "reached": result.rc in _rsync.REACHED_RC}


def drill(run_command, rsync, params, check_mode=False):
    """Restore snapshot ``name`` into ``scratch`` and verify it; returns ``(result, warnings)``."""
    scratch = params["scratch"]
    if not scratch:
        raise BackupError("mode=drill needs scratch: an empty directory to restore into")
    if os.path.exists(scratch) and (not os.path.isdir(scratch) or os.listdir(scratch)):
        raise BackupError("scratch %s is not an empty directory: the drill restores with --delete and only into an empty one" % scratch)
    snapshot_at = _rsync.snapshot_path(params["target"], params["name"])
    if check_mode:
        return dict(changed=False, snapshot=snapshot_at, hashed_bytes=0, msg="the restore drill is not run in check mode"), []
    cache = HashCache()
    data, warnings = None, []
    try:
        restored = restore(run_command, rsync, params)
        if restored["error"] is None:
            data, warnings = collect.restored(scratch, os.path.join(params["state_dir"], collect.MANIFEST_NAME),
                                              params["model_manifest"], cache)
    finally:
        if not params["keep_scratch"] and os.path.isdir(scratch):
            shutil.rmtree(scratch, ignore_errors=True)
    fact = build_fact(params["target"], snapshot_at, restored, data)
    return dict(changed=False, snapshot=snapshot_at, hashed_bytes=cache.hashed_bytes, ansible_facts={AREA.fact: fact}), warnings


def run(run_command, params, check_mode=False, find=_runner.find_tool):
    """The module: validate the options once, then take a snapshot or run a drill; ``(result, warnings)``."""
    try:
        params = AREA.checked(params)
    except AreaError as exc:
        raise BackupError(str(exc))
    rsync = find("rsync", params["rsync"])
    if not rsync:
        raise BackupError("rsync is not installed: apt-get install rsync")
    if params["mode"] == "snapshot":
        return snapshot(run_command, rsync, params, check_mode)
    return drill(run_command, rsync, params, check_mode)
