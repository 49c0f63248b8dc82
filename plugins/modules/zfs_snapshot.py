#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: zfs_snapshot
short_description: A named ZFS snapshot before a risky change (or monthly), with retention of its series
version_added: 0.1.0
description:
  - Takes the snapshot C(<dataset>@<prefix>-<reason>-<stamp>) of O(dataset), for example
    C(tank/models@gpufleet-driver_bump-20261204T101500Z) before a driver bump, so that
    C(zfs rollback) can undo what the change did to the dataset.
  - Snapshots named C(<prefix>-<reason>-<stamp>) with a stamp that starts with a digit are the
    series of O(reason); after taking the snapshot the module destroys the oldest members of that
    series beyond the newest O(keep). It never destroys a snapshot outside the series (another
    reason, another prefix, a name of your own), and never with C(-r) or C(-R).
  - The same O(stamp) twice is one snapshot (the second run changes nothing); without O(stamp) each
    run takes a new one, named for the current UTC time (C(YYYYmmddTHHMMSSZ)).
  - A snapshot that cannot be taken fails the task, naming the dataset and what zfs said (a dataset
    that does not exist, a pool that is full or suspended). An old snapshot that cannot be destroyed
    (a hold, a clone) is a warning, listed in RV(not_destroyed).
  - Works with OpenZFS (C(zfsutils-linux)) and the older ZFS command line of zfs-fuse; the
    collection's tests run it on a file-backed pool.
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Lists the snapshots (read-only) and returns the plan; takes and destroys nothing.
  diff_mode:
    support: full
    description: The snapshots of the series before and after.
requirements:
  - the zfs command (zfsutils-linux) on the host, and permission to snapshot and destroy in the dataset (root, or C(zfs allow))
options:
  dataset:
    description: The dataset to snapshot, for example C(tank/models).
    type: str
    required: true
  reason:
    description: Why the snapshot is taken (lowercase letters, digits and C(_)), for example C(driver_bump), C(image_enforce), C(monthly).
    type: str
    required: true
  prefix:
    description: First part of the snapshot name; letters, digits, C(_), C(.), C(:) and C(-).
    type: str
    default: gpufleet
  stamp:
    description:
      - Last part of the snapshot name; must start with a digit. Default the current UTC time, C(YYYYmmddTHHMMSSZ).
      - Stamps of one series sort by time when they have one format (C(20261204T101500Z), or C(2026-11) for a month).
    type: str
  keep:
    description: How many snapshots of the series to keep, the new one included; C(0) keeps them all.
    type: int
    default: 10
  zfs:
    description: Path of zfs; found on PATH (and in the sbin directories) when not given.
    type: path
  timeout_s:
    description: Seconds each zfs command may take (at least 1).
    type: int
    default: 120
seealso:
  - module: gpufleet.maintenance.backup_snapshot
  - name: Backups and snapshots before changes
    description: docs/backup.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/backup.md
"""

EXAMPLES = r"""
- name: Snapshot the model dataset before the driver bump, keep the last five such snapshots
  gpufleet.maintenance.zfs_snapshot:
    dataset: tank/models
    reason: driver_bump
    keep: 5

- name: One snapshot a month (idempotent within the month)
  gpufleet.maintenance.zfs_snapshot:
    dataset: tank/models
    reason: monthly
    stamp: "{{ now(utc=true).strftime('%Y-%m') }}"
    keep: 12
"""

RETURN = r"""
snapshot:
  description: The full name of the snapshot this run took (or would take, or found).
  returned: always
  type: str
  sample: tank/models@gpufleet-driver_bump-20261204T101500Z
created:
  description: Whether the snapshot was (in check mode, would be) taken by this run.
  returned: always
  type: bool
actions:
  description: The plan, in order; C(action) is C(snapshot) or C(destroy), C(name) the part after the C(@).
  returned: always
  type: list
  elements: dict
destroyed:
  description: Snapshots of the series destroyed by retention (empty in check mode).
  returned: always
  type: list
  elements: str
not_destroyed:
  description: Snapshots retention wanted to destroy and zfs refused (a warning says why).
  returned: always
  type: list
  elements: str
kept:
  description: The snapshots of the series after the run (after the plan, in check mode), oldest first.
  returned: always
  type: list
  elements: str
msg:
  description: What was done, or would be done in check mode.
  returned: always
  type: str
  sample: took ZFS snapshot tank/models@gpufleet-driver_bump-20261204T101500Z
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import zfs_snapshot


def main():
    module = AnsibleModule(argument_spec=zfs_snapshot.ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result, warnings = zfs_snapshot.run(module.run_command, module.params, check_mode=module.check_mode, diff=module._diff)
    except zfs_snapshot.BackupError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
