# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup area's pure helpers: which snapshot to link against, where a restored file lies.

(rsync's command lines and output are read by ``_tools/rsync.py``.) Pure functions, no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


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
