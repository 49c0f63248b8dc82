# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``zfs_snapshot``: a named ZFS snapshot of one dataset, and retention of its series.

Gather (the dataset's snapshots: ``zfs list``), plan (:func:`plan`, pure: take
``<dataset>@<prefix>-<reason>-<stamp>`` unless it exists, destroy the series' members beyond the
newest ``keep``), then apply in one step (``zfs snapshot``, then ``zfs destroy`` of each dropped
member). ``changed`` is "the plan is not empty"; check mode returns the plan; the diff is the series
before and after. A snapshot that cannot be taken fails; an old one that cannot be destroyed (a hold,
a clone) is a warning, since the snapshot that matters was taken. :func:`run` is what the module
calls. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.options import out_of_range
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops.backup_snapshot import BackupError, run_step
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import zfs as _zfs

ARGUMENT_SPEC = dict(
    dataset=dict(type="str", required=True),
    reason=dict(type="str", required=True),
    prefix=dict(type="str", default="gpufleet"),
    stamp=dict(type="str"),
    keep=dict(type="int", default=10),
    zfs=dict(type="path"),
    timeout_s=dict(type="int", default=120),
)

ZFS_FIX = "install zfsutils-linux (OpenZFS) or leave the ZFS dataset unset to use the rsync backup instead"


def plan(existing, series_name, label, keep):
    """``(actions, kept)``: snapshot ``label`` unless ``existing`` has it, destroy what retention drops.

    ``existing``: the dataset's snapshot names (after the ``@``); ``kept``: the series' members
    after the plan, oldest first. Pure.
    """
    kept, dropped = parse.retention(existing, series_name, keep, label)
    actions = [] if label in existing else [{"action": "snapshot", "name": label}]
    return actions + [{"action": "destroy", "name": name} for name in dropped], kept


def _names(params, now):
    dataset = params["dataset"]
    if not dataset or "@" in dataset or dataset.startswith("/"):
        raise BackupError("dataset %r must be a ZFS dataset name such as tank/models (no @, not a path)" % (dataset,))
    try:
        series_name = parse.series(params["prefix"], params["reason"])
        return series_name, parse.snapshot_label(series_name, params["stamp"] or parse.utc_stamp(now))
    except parse.SnapshotNameError as exc:
        raise BackupError(str(exc))


def existing_snapshots(run_command, zfs, dataset, timeout):
    """The names (after the ``@``) of ``dataset``'s snapshots; raises :class:`BackupError`."""
    argv = _zfs.list_argv(zfs, dataset)
    listing = run_step(run_command, argv, "listing the snapshots of ZFS dataset %s" % dataset, timeout, ok=(0, 1))
    if listing.rc != 0:
        if _zfs.dataset_missing(listing.stderr):
            raise BackupError("ZFS dataset %s does not exist (%s): set the dataset to one that `zfs list` shows"
                              % (dataset, listing.stderr.strip()), cmd=argv, rc=listing.rc, stderr=listing.stderr)
        raise BackupError("listing the snapshots of ZFS dataset %s: %s: %s" % (dataset, " ".join(argv), listing.stderr.strip()),
                          cmd=argv, rc=listing.rc, stderr=listing.stderr)
    return _zfs.parse_list(listing.stdout, dataset)


def apply(run_command, zfs, dataset, actions, timeout):
    """Take the snapshot, then destroy the dropped ones: ``(destroyed, not_destroyed, warnings)``."""
    destroyed, not_destroyed, warnings = [], [], []
    for action in actions:
        full = "%s@%s" % (dataset, action["name"])
        if action["action"] == "snapshot":
            run_step(run_command, _zfs.snapshot_argv(zfs, full), "taking ZFS snapshot %s" % full, timeout)
            continue
        try:
            run_step(run_command, _zfs.destroy_argv(zfs, full), "destroying ZFS snapshot %s (retention)" % full, timeout)
            destroyed.append(full)
        except BackupError as exc:
            not_destroyed.append(full)
            warnings.append("%s; the new snapshot was taken, destroy the old one by hand (zfs destroy %s)" % (exc, full))
    return destroyed, not_destroyed, warnings


def _message(dataset, actions, label, check_mode):
    full = "%s@%s" % (dataset, label)
    verb = ("would take" if check_mode else "took") if actions and actions[0]["action"] == "snapshot" else None
    parts = ["%s ZFS snapshot %s" % (verb, full) if verb else "ZFS snapshot %s exists already" % full]
    drop = [a["name"] for a in actions if a["action"] == "destroy"]
    if drop:
        parts.append("%s %s (retention)" % ("would destroy" if check_mode else "destroyed",
                                            ", ".join("%s@%s" % (dataset, n) for n in drop)))
    return ("check mode: " if check_mode else "") + "; ".join(parts)


def run(run_command, params, check_mode=False, diff=False, now=None, find=_runner.find_tool):
    """The module's body: ``(result, warnings)``. Raises :class:`BackupError`."""
    problems = out_of_range(params, {"keep": (0, None), "timeout_s": (1, None)})
    if problems:
        raise BackupError("; ".join(problems))
    series_name, label = _names(params, time.time() if now is None else now)
    zfs = find("zfs", params["zfs"])
    if not zfs:
        raise BackupError("zfs is not installed (no zfs command on this host): " + ZFS_FIX)
    dataset = params["dataset"]
    existing = existing_snapshots(run_command, zfs, dataset, params["timeout_s"])
    actions, kept = plan(existing, series_name, label, params["keep"])
    warnings = []
    destroyed, not_destroyed = [], []
    if actions and not check_mode:
        destroyed, not_destroyed, warnings = apply(run_command, zfs, dataset, actions, params["timeout_s"])
    full = ["%s@%s" % (dataset, n) for n in kept]
    result = dict(changed=bool(actions), snapshot="%s@%s" % (dataset, label),
                  created=any(a["action"] == "snapshot" for a in actions), actions=actions,
                  destroyed=destroyed, not_destroyed=not_destroyed, kept=full + [n for n in not_destroyed if n not in full],
                  msg=_message(dataset, actions, label, check_mode))
    if diff:
        before = ["%s@%s" % (dataset, n) for n in existing if parse.in_series(n, series_name)]
        result["diff"] = dict(before="\n".join(before) + ("\n" if before else ""), after="\n".join(full) + "\n",
                              before_header="%s@%s-*" % (dataset, series_name), after_header="%s@%s-*" % (dataset, series_name))
    return result, warnings
