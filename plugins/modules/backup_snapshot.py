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
  - With O(docker_volumes), the Docker named volumes whose names match (shell globs, C(*) for every
    named volume; anonymous volumes are left out) are read through the Docker engine into
    O(docker_volume_dir), one C(<name>.tar) each (owners, modes and times as in the volume) plus the
    index C(volumes.json) (driver, labels, options, size, sha256), and go into the snapshot with the
    backup manifest's checksums. The engine reads the files (C(GET /containers/{id}/archive) of a helper
    container created with the volume mounted read-only, never started, then removed), so the module
    needs the Docker socket but no access to the volume's data, and any volume driver, a rootless or a
    remote engine (O(docker_host)) works. An unchanged volume gives the same bytes, so its archive keeps
    its modification time and becomes a hard link to the previous snapshot. Archives of volumes no
    longer selected are removed from O(docker_volume_dir).
  - With O(keep) and O(series), snapshots named C(<series>-<stamp>) (a stamp that starts with a digit)
    beyond the newest O(keep) are deleted from O(target) after the snapshot (O(name) must be one of
    them); other snapshots are never touched.
  - O(mode=drill) restores snapshot O(name) into the empty directory O(scratch) and verifies every
    file of the backup manifest and every model file of O(model_manifest) (as it was in the snapshot)
    against the restored copy. Sets the fact C(gpufleet_backup) with the check C(backup_restore_drill). A
    failed drill (a snapshot the target does not have, a missing file, a size or checksum mismatch) is
    C(crit); a target that could not be reached (SSH refused, timeout) or a restored file that could not
    be read is C(unknown), never C(ok). The scratch copy is removed afterwards unless O(keep_scratch=true).
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
  - the Docker SDK for Python on the host, for O(docker_volumes)
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
    description: Seconds an rsync run may take (at least 1; a smaller value fails, naming the option).
    type: int
    default: 21600
  docker_volumes:
    description: Docker named volumes to back up, as names or shell globs (C(*) is every named volume); a pattern that matches none fails.
    type: list
    elements: str
    default: []
  docker_volume_dir:
    description:
      - Where the volume archives are written before the copy (a directory of their own; C(*.tar) files
        of volumes not selected are removed). It needs room for the volumes.
      - Default C(<state_dir>/docker-volumes).
    type: path
  docker_volume_image:
    description:
      - Image to create the helper containers from. Default the image of a container that mounts the
        volume, else the smallest local image; the container is never started, so any image works.
    type: str
  docker_host:
    description: The Docker daemon, for example C(unix:///var/run/docker.sock); default C(DOCKER_HOST) or the local socket.
    type: str
  docker_timeout_s:
    description: Seconds to wait for each Docker API call and each read of a volume's stream (at least 1).
    type: int
    default: 600
  series:
    description: The series O(name) belongs to, for retention (O(keep)), for example C(gpufleet-driver_bump).
    type: str
    default: ""
  keep:
    description: How many snapshots of O(series) to keep on the target, this one included; C(0) keeps all.
    type: int
    default: 0
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
docker_volumes:
  description:
    - One entry per volume backed up - C(name), C(driver), C(labels), C(options), C(archive) (file name in
      O(docker_volume_dir)), C(size_bytes), C(sha256), C(changed) (the archive was rewritten). In check mode
      only C(name), C(driver), C(archive), and C(changed) null.
  returned: mode snapshot
  type: list
  elements: dict
docker_volume_archives_removed:
  description: Archives of volumes no longer selected, removed from O(docker_volume_dir) (to be removed, in check mode).
  returned: mode snapshot
  type: list
  elements: str
kept:
  description: The snapshots of O(series) on the target after retention, oldest first (empty without O(keep)).
  returned: mode snapshot
  type: list
  elements: str
deleted:
  description: Snapshots of O(series) deleted by retention (to be deleted, in check mode).
  returned: mode snapshot
  type: list
  elements: str
ansible_facts:
  description: C(gpufleet_backup) (mode drill) with C(target), C(snapshot), C(files_checked), C(problems), C(checks), C(status).
  returned: mode drill, not in check mode
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import backup_snapshot


def main():
    module = AnsibleModule(argument_spec=AREA.argument_spec(), supports_check_mode=True)
    try:
        result, warnings = backup_snapshot.run(module.run_command, module.params, check_mode=module.check_mode)
    except backup_snapshot.BackupError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
