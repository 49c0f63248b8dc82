# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup area's pure helpers: which snapshot to link against, where a restored file lies, how
snapshots are named and which of a series retention keeps.

(rsync's command lines and output are read by ``_tools/rsync.py``.) Pure functions, no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time


def previous_snapshot(names, current):
    """The newest snapshot older than ``current`` (names sort by date: ``YYYY-MM``), or None."""
    older = [n for n in names if n < current]
    return older[-1] if older else None


def restored_path(scratch, path):
    """Where the file ``path`` of the host lies in a snapshot restored into ``scratch``."""
    return os.path.join(scratch, os.path.abspath(path).lstrip("/"))


def rebase(manifest, prefix):
    """The manifest with its roots and paths moved under ``prefix`` (where a snapshot was restored)."""
    rebased = dict(manifest)
    rebased["roots"] = [restored_path(prefix, r) for r in manifest.get("roots") or []]
    rebased["files"] = [dict(f, path=restored_path(prefix, f["path"])) for f in manifest.get("files") or []]
    return rebased


# ------------------------------------------------------------------ snapshot series and retention
#
# Snapshots taken on a schedule or before a change are named ``<prefix>-<reason>-<stamp>`` (a ZFS
# snapshot ``tank/models@gpufleet-driver_bump-20261204T101500Z``, an rsync snapshot directory
# ``gpufleet-image_enforce-20261204T101500Z``): ``<prefix>-<reason>`` is the series, the stamp sorts
# by time. Retention keeps the newest of a series and never looks at a name outside it.

_NAME_CHARS = re.compile(r"^[A-Za-z0-9_.:-]+$")   # what ZFS allows in a snapshot name, and safe as a directory name
_REASON = re.compile(r"^[a-z0-9_]+$")             # no hyphen: <prefix>-<reason>-<stamp> splits one way only
_STAMP = re.compile(r"^[0-9][A-Za-z0-9_.:-]*$")   # a series member's stamp starts with a digit (a date)


class SnapshotNameError(ValueError):
    """A prefix, reason or stamp that cannot make a snapshot name; the message names the option."""


def valid_name(text):
    """True for a non-empty name of letters, digits, ``_``, ``.``, ``:`` and ``-`` (a ZFS snapshot name, a directory name)."""
    return bool(_NAME_CHARS.match(text or ""))


def utc_stamp(epoch):
    """``YYYYmmddTHHMMSSZ`` of ``epoch`` (seconds, UTC): sorts by time, valid in ZFS and file names."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def series(prefix, reason):
    """The series ``<prefix>-<reason>`` of the snapshots taken for ``reason``."""
    if not valid_name(prefix):
        raise SnapshotNameError("prefix %r may hold only letters, digits, '_', '.', ':' and '-'" % (prefix,))
    if not _REASON.match(reason or ""):
        raise SnapshotNameError("reason %r may hold only lowercase letters, digits and '_' (such as driver_bump)" % (reason,))
    return "%s-%s" % (prefix, reason)


def snapshot_label(series_name, stamp):
    """``<series>-<stamp>``; ``stamp`` must start with a digit (``utc_stamp()``, or ``2026-11`` for a month)."""
    if not _STAMP.match(stamp or ""):
        raise SnapshotNameError("stamp %r must start with a digit and hold only letters, digits, '_', '.', ':' and '-'"
                                " (such as 20261204T101500Z or 2026-11)" % (stamp,))
    return "%s-%s" % (series_name, stamp)


def in_series(name, series_name):
    """True when ``name`` is ``<series>-<stamp>`` with a stamp that starts with a digit."""
    head = series_name + "-"
    return name.startswith(head) and bool(_STAMP.match(name[len(head):]))


def retention(names, series_name, keep, current):
    """``(kept, dropped)`` of the series' members among ``names`` plus ``current``, oldest first.

    ``keep`` > 0 keeps the newest ``keep`` (by stamp), and ``current`` whatever its stamp says;
    ``keep`` 0 keeps them all. Names outside the series are in neither list: they are never dropped.
    """
    members = sorted(set(n for n in list(names) + [current] if in_series(n, series_name)))
    if keep <= 0:
        return members, []
    newest = set(members[-keep:]) | set([current])
    return [n for n in members if n in newest], [n for n in members if n not in newest]
