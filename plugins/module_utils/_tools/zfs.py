# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""zfs: the command lines of a dataset's snapshots (list, snapshot, destroy) and the parser of the list.

Only options that OpenZFS (zfsutils-linux) and the older ZFS command lines (zfs-fuse, illumos)
share: ``zfs list -H -o name -t snapshot -d 1 DATASET`` lists the dataset's own snapshots, one name
per line, without a header. Pure functions (argv out, text in), no Ansible import; the runs go through
``_common/runner``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def list_argv(zfs, dataset):
    """The snapshots of ``dataset`` itself (not of its children)."""
    return [zfs, "list", "-H", "-o", "name", "-t", "snapshot", "-d", "1", dataset]


def snapshot_argv(zfs, snapshot):
    return [zfs, "snapshot", snapshot]


def destroy_argv(zfs, snapshot):
    """Destroy one snapshot; never ``-r``/``-R`` (children, clones), so a held or cloned one fails instead."""
    if "@" not in snapshot:
        raise ValueError("internal error: %r is not a snapshot name" % snapshot)
    return [zfs, "destroy", snapshot]


def parse_list(text, dataset):
    """The snapshot names (the part after ``@``) of ``dataset`` in ``zfs list -H -o name`` output, sorted."""
    head = dataset + "@"
    return sorted(line.strip()[len(head):] for line in text.splitlines() if line.strip().startswith(head))


def dataset_missing(stderr):
    """True when zfs said the dataset does not exist (also what it says for a dataset of a pool that is not there)."""
    return "dataset does not exist" in stderr
