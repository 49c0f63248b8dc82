# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``backup_snapshot``: rsync hard-link snapshots, and restore drills.

``snapshot``: gather (the snapshots already on the target, the files of ``sources`` and their
manifest), then apply in one step: read the selected Docker named volumes through the engine into
archives (:func:`export_volumes`, not in check mode), write the backup manifest and hash cache
(atomically, not in check mode), run ``rsync --link-dest`` (``--dry-run`` in check mode) and delete
the members of the series beyond ``keep`` (:func:`prune`); ``changed`` is "rsync itemized a change,
the manifest or a volume archive changed, or retention deleted a snapshot". ``drill``: restore a snapshot into an empty scratch
directory, read it back through the backup area (``_areas/backup``) and set ``gpufleet_backup``;
the scratch copy is removed afterwards. :func:`run` is what the module calls. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import shutil
import tempfile

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import AREA, build_fact, collect, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.collect import HashCache, load_cache, save_cache
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import atomic_write, read_text
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import docker as _docker
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import rsync as _rsync

VOLUME_DIR = "docker-volumes"
VOLUME_INDEX = "volumes.json"


class BackupError(Exception):
    """The options are wrong or a step failed; ``details`` (cmd, rc, stderr) go into ``fail_json``."""

    def __init__(self, message, **details):
        super(BackupError, self).__init__(message)
        self.details = details


def run_step(run_command, argv, what, timeout, ok=(0,)):
    """Run one command of a backup step through the runner; an exit status not in ``ok`` (or a tool
    that could not run) raises :class:`BackupError` saying ``what`` we were doing and what the tool said."""
    try:
        result = _runner.run(run_command, argv, timeout=timeout)
    except _runner.ToolError as exc:
        raise BackupError("%s: %s" % (what, exc), cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)
    if result.rc not in ok:
        raise BackupError("%s: %s: %s" % (what, " ".join(argv), result.stderr.strip()), cmd=argv, rc=result.rc, stderr=result.stderr)
    return result


class _HashingWriter(object):
    """A binary file object that hashes what goes through it."""

    def __init__(self, out):
        self.out = out
        self.digest = hashlib.sha256()

    def write(self, data):
        self.digest.update(data)
        return self.out.write(data)


def _export_one(client, volume, image, directory, cache):
    """Write ``<directory>/<name>.tar`` from the engine; an unchanged volume keeps the old file (and its
    mtime, so rsync hard-links it to the previous snapshot). Returns the volume's index entry."""
    name = volume["Name"]
    path = os.path.join(directory, name + ".tar")
    handle, tmp = tempfile.mkstemp(prefix=".gpufleet-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as raw:
            out = _HashingWriter(raw)
            _docker.export_volume(client, name, image, out)
            raw.flush()
            os.fsync(raw.fileno())
        sha256 = out.digest.hexdigest()
        old = os.stat(path) if os.path.exists(path) else None
        changed = old is None or (cache.lookup(path, old) or cache.hash(path, old)) != sha256
        if changed:
            os.chmod(tmp, 0o600)
            os.rename(tmp, path)
        else:
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    stat = os.stat(path)
    cache.remember(path, stat, sha256)
    return {"name": name, "driver": volume.get("Driver"), "labels": volume.get("Labels") or {},
            "options": volume.get("Options") or {}, "archive": os.path.basename(path), "size_bytes": stat.st_size,
            "sha256": sha256, "changed": changed}


def _first(names, count=20):
    names = list(names)
    return ", ".join(names[:count]) + (" and %d more" % (len(names) - count) if len(names) > count else "") if names else "none"


def export_volumes(params, directory, cache, check_mode=False):
    """Read the Docker named volumes ``params["docker_volumes"]`` (shell globs) through the engine into
    ``directory`` (one ``<name>.tar`` each and the index ``volumes.json``); in check mode, only say which.
    Returns ``(entries, removed)``: an entry per volume, and the archives of volumes no longer selected
    that were removed from ``directory``. Raises :class:`BackupError`."""
    if not _docker.has_sdk():
        raise BackupError("backing up Docker volumes needs the Docker SDK for Python on the host: " + _docker.SDK_FIX)
    step = "backing up Docker volumes"
    try:
        client = _docker.connect(params["docker_host"], timeout=params["docker_timeout_s"])
    except _docker.EngineError as exc:
        raise BackupError("%s: %s: %s" % (step, exc, _docker.ENGINE_FIX))
    try:
        volumes = _docker.call("listing the volumes", client.volumes).get("Volumes") or []
        selected, unmatched = _docker.select_volumes(volumes, params["docker_volumes"])
        if unmatched:
            raise BackupError("%s: no named volume matches %s (the engine has: %s): fix backup_docker_volume_names" % (
                step, ", ".join(unmatched), _first(v["Name"] for v in _docker.select_volumes(volumes, ["*"])[0])))
        archives = set(v["Name"] + ".tar" for v in selected)
        stale = sorted(n for n in (os.listdir(directory) if os.path.isdir(directory) else [])
                       if n.endswith(".tar") and n not in archives)
        if check_mode:
            return [{"name": v["Name"], "driver": v.get("Driver"), "archive": v["Name"] + ".tar", "changed": None}
                    for v in selected], stale
        containers = _docker.call("listing the containers", client.containers, all=True)
        images = _docker.call("listing the images", client.images)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        entries = []
        for volume in selected:
            image = params["docker_volume_image"] or _docker.helper_image(volume["Name"], containers, images)
            if not image:
                raise BackupError("%s: the engine has no image to create the helper container of volume %s from: "
                                  "set backup_docker_volume_image to any local image (it is never started)" % (step, volume["Name"]))
            entries.append(_export_one(client, volume, image, directory, cache))
        for name in stale:
            os.unlink(os.path.join(directory, name))
        index = json.dumps([dict((k, v) for k, v in e.items() if k != "changed") for e in entries], indent=2, sort_keys=True) + "\n"
        if read_text(os.path.join(directory, VOLUME_INDEX)) != index:
            atomic_write(os.path.join(directory, VOLUME_INDEX), index, mode=0o600)
        return entries, stale
    except _docker.EngineError as exc:
        raise BackupError("%s: %s: %s" % (step, exc, _docker.ENGINE_FIX))
    except (IOError, OSError) as exc:
        raise BackupError("%s: writing into %s: %s" % (step, directory, exc))
    finally:
        client.close()


def prune(run_command, rsync, params, names, check_mode=False):
    """Retention of the series ``params["series"]`` on the target: ``(kept, deleted)``; deletes (not in
    check mode) the members beyond the newest ``keep`` with one rsync run."""
    if params["keep"] <= 0:
        return [], []
    kept, dropped = parse.retention(names, params["series"], params["keep"], params["name"])
    if dropped and not check_mode:
        empty = tempfile.mkdtemp(prefix="gpufleet-empty-")
        try:
            run_step(run_command, _rsync.delete_argv(rsync, params["target"], dropped, empty, params["rsh"]),
                     "deleting old snapshots of %s (retention)" % params["series"], params["timeout_s"])
        finally:
            os.rmdir(empty)
    return kept, dropped


def snapshot(run_command, rsync, params, check_mode=False):
    """Take snapshot ``name``; returns ``(result, warnings)``."""
    for path in params["sources"] + params["weights"]:
        if not os.path.exists(path):
            raise BackupError("backup source %s does not exist: fix backup_sources or create it" % path)
    listing = run_step(run_command, _rsync.list_argv(rsync, params["target"], params["rsh"]),
                       "listing the snapshots in %s" % params["target"], params["timeout_s"], ok=(0, 23))
    names = _rsync.parse_list(listing.stdout)
    link_dest = parse.previous_snapshot(names, params["name"])
    manifest_path = os.path.join(params["state_dir"], collect.MANIFEST_NAME)
    cache_path = manifest_path + ".hashcache.json"
    cache, warnings = load_cache(cache_path)
    volumes_dir = params["docker_volume_dir"] or os.path.join(params["state_dir"], VOLUME_DIR)
    volumes, stale = export_volumes(params, volumes_dir, cache, check_mode) if params["docker_volumes"] else ([], [])
    sources = params["sources"] + ([volumes_dir] if params["docker_volumes"] and os.path.isdir(volumes_dir) else [])
    files = collect.list_files(sources, skip=[manifest_path, cache_path])
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
    sources = sources + ([manifest_path] if os.path.exists(manifest_path) else []) + params["weights"]
    argv = _rsync.snapshot_argv(rsync, sources, params["target"], params["name"], link_dest, params["rsh"], dry_run=check_mode)
    copied = _rsync.parse_itemize(run_step(run_command, argv, "taking snapshot %s" % params["name"], params["timeout_s"]).stdout)
    kept, deleted = prune(run_command, rsync, params, names, check_mode)
    changed = bool(copied["changes"]) or text != before or bool(deleted) or any(v["changed"] for v in volumes) or bool(stale)
    return dict(changed=changed, snapshot=_rsync.snapshot_path(params["target"], params["name"]),
                link_dest=link_dest, changes=copied["changes"][:200], files_copied=copied["files_copied"],
                entries_deleted=copied["entries_deleted"], hashed_bytes=cache.hashed_bytes, docker_volumes=volumes,
                docker_volume_archives_removed=stale, kept=kept, deleted=deleted), warnings


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
