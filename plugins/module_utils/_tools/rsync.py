# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rsync: the command lines of the backup (list, snapshot, restore, delete) and the parsers of its output.

A target is a local path or rsync's ``[user@]host:path`` (over SSH, with ``-e <rsh>``). Snapshots
are written with ``--relative`` (``/etc/x`` lands at ``<target>/<name>/etc/x``) and
``--link-dest`` pointing at an older snapshot. Pure functions (argv out, text in), no Ansible
import; the runs go through ``_common/runner``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

_REMOTE = re.compile(r"^(?:[^/:@]+@)?[^/:]+:")
_ITEM = re.compile(r"^([<>ch.*])([fdLDS])")
# Exit statuses with which rsync reached the target and reports on what it found there: 23 (some
# files or a directory were not there or not readable), 24 (source files vanished). Any other
# failure (255 and 12: ssh; 10, 30, 35: socket and timeouts; 5: protocol start) says nothing
# about the target's content.
REACHED_RC = (0, 23, 24)


def is_remote(target):
    """True for rsync's ``[user@]host:path`` targets (rsync over SSH)."""
    return bool(_REMOTE.match(target))


def snapshot_path(target, name):
    return target.rstrip("/") + "/" + name


def _rsh(target, rsh):
    return ["-e", rsh] if rsh and is_remote(target) else []


def list_argv(rsync, target, rsh=None):
    return [rsync, "--list-only"] + _rsh(target, rsh) + [target.rstrip("/") + "/"]


def snapshot_argv(rsync, sources, target, name, link_dest=None, rsh=None, dry_run=False):
    argv = [rsync, "--archive", "--hard-links", "--relative", "--no-implied-dirs", "--delete", "--mkpath", "--numeric-ids",
            "--itemize-changes"]
    if link_dest:
        argv.append("--link-dest=../%s" % link_dest)
    argv += _rsh(target, rsh)
    if dry_run:
        argv.append("--dry-run")
    return argv + [os.path.abspath(s) for s in sources] + [snapshot_path(target, name) + "/"]


def restore_argv(rsync, target, name, scratch, rsh=None):
    argv = [rsync, "--archive", "--hard-links", "--delete", "--mkpath", "--numeric-ids"] + _rsh(target, rsh)
    return argv + [snapshot_path(target, name) + "/", scratch.rstrip("/") + "/"]


def delete_argv(rsync, target, names, empty, rsh=None):
    """Delete the snapshots ``names`` (plain directory names) from ``target``: an empty directory
    ``empty`` synced over the target with ``--delete``, every other entry excluded (so untouched)."""
    if not names or any("/" in n or n in ("", ".", "..") or set(n) & set("*?[]\\") for n in names):
        raise ValueError("internal error: %r are not plain snapshot names" % (names,))
    return ([rsync, "--recursive", "--delete", "--itemize-changes"] + _rsh(target, rsh)
            + ["--include=/%s/***" % n for n in names] + ["--exclude=*", empty.rstrip("/") + "/", target.rstrip("/") + "/"])


def parse_list(text):
    """Directory names from ``rsync --list-only`` output (``.`` left out)."""
    names = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 5 and line.startswith("d") and fields[-1] != ".":
            names.append(fields[-1])
    return sorted(names)


def parse_itemize(text):
    """Summary of ``rsync --itemize-changes`` output: every change, files copied, entries deleted."""
    changes = []
    copied = 0
    deleted = 0
    for line in text.splitlines():
        if line.startswith("*deleting"):
            deleted += 1
            changes.append(line.strip())
            continue
        match = _ITEM.match(line)
        if not match:
            continue
        changes.append(line.strip())
        if match.group(1) in "<>" and match.group(2) == "f":
            copied += 1
    return {"changes": changes, "files_copied": copied, "entries_deleted": deleted}
