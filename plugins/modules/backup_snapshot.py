#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: backup_snapshot
short_description: Hard-link rsync snapshots of configs and model weights, and restore drills that verify every checksum
version_added: 0.1.0
description:
  - O(mode=snapshot) copies O(sources) (configs, prompt templates, manifests, runner units, pin links)
    and O(weights) with C(rsync --relative --link-dest) into C(<target>/<name>/), where O(target) is a
    local or mounted path or C([user@]host:path) (rsync over SSH). Files unchanged since the newest
    older snapshot become hard links to it, so unchanged model weights cost no space.
  - Before the copy it writes a backup manifest (path, size, sha256) of the files under O(sources)
    to O(state_dir) and copies it along; hashes are cached on (device, inode, size, mtime).
  - O(mode=drill) restores snapshot O(name) into the empty directory O(scratch) and verifies every
    file of the backup manifest and every model file of O(model_manifest) (as it was in the snapshot)
    against the restored copy. Sets the fact C(gpufleet_backup); a failed drill (restore error, missing
    file, size or checksum mismatch) is C(crit). The scratch copy is removed afterwards unless
    O(keep_scratch=true).
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: O(mode=snapshot) runs C(rsync --dry-run) and writes nothing; O(mode=drill) is not run.
  diff_mode:
    support: none
    description: The changes are returned as rsync's itemized list in RV(changes), not as a diff.
requirements:
  - rsync on the host (and on the target for rsync over SSH)
options:
  mode:
    description: C(snapshot) takes a snapshot, C(drill) restores one and verifies it.
    type: str
    choices: [snapshot, drill]
    default: snapshot
  target:
    description: Directory holding the snapshots, local or C([user@]host:path).
    type: str
    required: true
  name:
    description: Snapshot name; names sort by age (C(YYYY-MM) for monthly snapshots).
    type: str
    required: true
  sources:
    description: Files and directories to back up and list in the backup manifest.
    type: list
    elements: path
    default: []
  weights:
    description: Model stores copied into the snapshot too (hard-linked when unchanged); verified by O(model_manifest), not hashed here.
    type: list
    elements: path
    default: []
  model_manifest:
    description: The model_manifest file (a source or under one) whose model files the drill verifies.
    type: path
  state_dir:
    description: Where the backup manifest C(backup-manifest.json) and its hash cache are kept.
    type: path
    default: /var/lib/gpufleet/backup
  scratch:
    description: Empty (or absent) directory to restore into; required for O(mode=drill).
    type: path
  keep_scratch:
    description: Keep the restored copy after the drill.
    type: bool
    default: false
  rsh:
    description: Remote shell for rsync over SSH (rsync C(-e)).
    type: str
    default: ssh
  rsync:
    description: Path of rsync; found on PATH when not given.
    type: path
  timeout_s:
    description: Seconds an rsync run may take.
    type: int
    default: 21600
"""

EXAMPLES = r"""
- name: Monthly snapshot to a backup host, weights included
  gpufleet.maintenance.backup_snapshot:
    target: backup@nas.example:/srv/backup/llm-01
    name: "{{ now(utc=true).strftime('%Y-%m') }}"
    sources: [/etc/gpufleet, /etc/systemd/system/ollama.service, /srv/prompts, /var/lib/gpufleet/models.manifest.json]
    weights: [/srv/models]

- name: Restore drill
  gpufleet.maintenance.backup_snapshot:
    mode: drill
    target: backup@nas.example:/srv/backup/llm-01
    name: "2026-11"
    scratch: /var/tmp/gpufleet-drill
    model_manifest: /var/lib/gpufleet/models.manifest.json
"""

RETURN = r"""
snapshot:
  description: Path of the snapshot.
  returned: always
  type: str
  sample: /srv/backup/llm-01/2026-11
link_dest:
  description: The older snapshot unchanged files were hard-linked to, or null for the first one.
  returned: mode snapshot
  type: str
  sample: "2026-10"
changes:
  description: rsync's itemized changes (first 200).
  returned: mode snapshot
  type: list
  elements: str
files_copied:
  description: Files copied (not hard-linked or unchanged).
  returned: mode snapshot
  type: int
hashed_bytes:
  description: Bytes hashed in this run.
  returned: always
  type: int
ansible_facts:
  description: C(gpufleet_backup) (mode drill) with C(target), C(snapshot), C(files_checked), C(problems), C(checks), C(status).
  returned: mode drill, not in check mode
  type: dict
"""

import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _backup
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import make_check
from ansible_collections.gpufleet.maintenance.plugins.module_utils._model_store import HashCache


def _run(module, argv, what, ok=(0,)):
    try:
        result = _runner.run(module.run_command, argv, timeout=module.params["timeout_s"])
    except _runner.ToolError as exc:
        module.fail_json(msg="%s: %s" % (what, exc), cmd=exc.cmd, rc=exc.rc, stderr=exc.stderr)
    if result.rc not in ok:
        module.fail_json(msg="%s: %s: %s" % (what, " ".join(argv), result.stderr.strip()), cmd=argv, rc=result.rc, stderr=result.stderr)
    return result


def _snapshot(module, rsync):
    params = module.params
    for path in params["sources"] + params["weights"]:
        if not os.path.exists(path):
            module.fail_json(msg="backup source %s does not exist: fix backup_sources or create it" % path)
    listing = _run(module, _backup.list_argv(rsync, params["target"], params["rsh"]), "listing the snapshots in %s" % params["target"], ok=(0, 23))
    link_dest = _backup.previous_snapshot(_backup.parse_list(listing.stdout), params["name"])
    manifest_path = os.path.join(params["state_dir"], "backup-manifest.json")
    cache_path = manifest_path + ".hashcache.json"
    cache_entries = {}
    if os.path.exists(cache_path):
        try:
            with open(cache_path) as handle:
                cache_entries = json.load(handle)
        except (IOError, OSError, ValueError):
            cache_entries = {}  # a broken cache only costs a re-hash
    cache = HashCache(cache_entries)
    files = _backup.list_files(params["sources"], skip=[manifest_path, cache_path])
    manifest, warnings = _backup.backup_manifest(files, cache)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    before = None
    if os.path.exists(manifest_path):
        with open(manifest_path) as handle:
            before = handle.read()
    if not module.check_mode:
        if not os.path.isdir(params["state_dir"]):
            os.makedirs(params["state_dir"], 0o700)
        for path, content in ((manifest_path, text if text != before else None),
                              (cache_path, json.dumps(cache.entries, sort_keys=True) if cache.hashed_files else None)):
            if content is None:
                continue
            fd, tmp = tempfile.mkstemp(prefix=".gpufleet-", dir=params["state_dir"])
            with os.fdopen(fd, "w") as handle:
                handle.write(content)
            os.rename(tmp, path)
    sources = params["sources"] + ([manifest_path] if os.path.exists(manifest_path) else []) + params["weights"]
    argv = _backup.snapshot_argv(rsync, sources, params["target"], params["name"], link_dest, params["rsh"], dry_run=module.check_mode)
    copied = _backup.parse_itemize(_run(module, argv, "taking snapshot %s" % params["name"]).stdout)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=bool(copied["changes"]) or text != before, snapshot=_backup.snapshot_path(params["target"], params["name"]),
                     link_dest=link_dest, changes=copied["changes"][:200], files_copied=copied["files_copied"],
                     entries_deleted=copied["entries_deleted"], hashed_bytes=cache.hashed_bytes)


def _drill(module, rsync):
    params = module.params
    scratch = params["scratch"]
    if not scratch:
        module.fail_json(msg="mode=drill needs scratch: an empty directory to restore into")
    if os.path.exists(scratch) and (not os.path.isdir(scratch) or os.listdir(scratch)):
        module.fail_json(msg="scratch %s is not an empty directory: the drill restores with --delete and only into an empty one" % scratch)
    snapshot = _backup.snapshot_path(params["target"], params["name"])
    fact = {"schema_version": 1, "target": params["target"], "snapshot": snapshot, "files_checked": 0, "problems": []}
    if module.check_mode:
        module.exit_json(changed=False, snapshot=snapshot, hashed_bytes=0, msg="the restore drill is not run in check mode")
    cache = HashCache()
    try:
        try:
            restored = _runner.run(module.run_command, _backup.restore_argv(rsync, params["target"], params["name"], scratch, params["rsh"]),
                                   timeout=params["timeout_s"])
            error = None if restored.rc == 0 else "rsync exited %d: %s" % (restored.rc, restored.stderr.strip()[-500:])
        except _runner.ToolError as exc:
            error = to_native(exc)
        if error:
            fact["checks"] = [make_check("backup_restore_drill", "crit", None, 0,
                                         "could not restore snapshot %s: %s: check the target and take a fresh snapshot" % (snapshot, error))]
            fact["status"] = "crit"
            warnings = []
        else:
            result, warnings = _backup.drill(scratch, os.path.join(params["state_dir"], "backup-manifest.json"), params["model_manifest"], cache)
            fact.update(result)
    finally:
        if not params["keep_scratch"] and os.path.isdir(scratch):
            shutil.rmtree(scratch, ignore_errors=True)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, snapshot=snapshot, hashed_bytes=cache.hashed_bytes, ansible_facts={"gpufleet_backup": fact})


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", choices=["snapshot", "drill"], default="snapshot"),
            target=dict(type="str", required=True),
            name=dict(type="str", required=True),
            sources=dict(type="list", elements="path", default=[]),
            weights=dict(type="list", elements="path", default=[]),
            model_manifest=dict(type="path"),
            state_dir=dict(type="path", default="/var/lib/gpufleet/backup"),
            scratch=dict(type="path"),
            keep_scratch=dict(type="bool", default=False),
            rsh=dict(type="str", default="ssh"),
            rsync=dict(type="path"),
            timeout_s=dict(type="int", default=21600),
        ),
        supports_check_mode=True,
    )
    if "/" in module.params["name"] or module.params["name"] in ("", ".", ".."):
        module.fail_json(msg="snapshot name %r must be a plain directory name such as 2026-11" % module.params["name"])
    rsync = _runner.find_tool("rsync", module.params["rsync"])
    if not rsync:
        module.fail_json(msg="rsync is not installed: apt-get install rsync")
    if module.params["mode"] == "snapshot":
        _snapshot(module, rsync)
    else:
        _drill(module, rsync)


if __name__ == "__main__":
    main()
