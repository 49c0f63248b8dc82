# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log rotation for runner and audit logs: gzip after N days, delete after a retention.

``plan()`` is pure (file list in, actions out); ``open_files()`` reads /proc; ``apply()`` acts.
No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import gzip
import os
import shutil

DAY = 86400


def find(paths, patterns, recurse=True):
    """Files under ``paths`` whose name matches a pattern (or the pattern plus ``.gz``)."""
    found = []
    for root in paths:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                if any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(name, p + ".gz") for p in patterns):
                    found.append(os.path.join(dirpath, name))
            if not recurse:
                break
    return found


def open_files(proc="/proc"):
    """Real paths of files some process holds open (any mode): those are never touched."""
    held = set()
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return held
    for pid in pids:
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith("/"):
                held.add(target)
    return held


def plan(files, now, compress_days, delete_days=None, held=frozenset()):
    """Actions for ``files`` (list of ``{path, mtime, size_bytes}``): compress, delete or skip."""
    actions = []
    for entry in files:
        path = entry["path"]
        age_days = (now - entry["mtime"]) / float(DAY)
        if delete_days is not None and age_days >= delete_days:
            action = "delete"
        elif compress_days is not None and age_days >= compress_days and not path.endswith(".gz"):
            action = "compress"
        else:
            continue
        if os.path.realpath(path) in held or path in held:
            actions.append({"action": "skip", "path": path, "reason": "open by a running process", "size_bytes": entry["size_bytes"]})
            continue
        actions.append({"action": action, "path": path, "age_days": round(age_days, 1), "size_bytes": entry["size_bytes"]})
    return actions


def compress(path):
    """gzip ``path`` to ``path.gz`` keeping its mtime, then remove it; return the .gz size."""
    target = path + ".gz"
    stat = os.stat(path)
    tmp = target + ".tmp"
    with open(path, "rb") as src, gzip.open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.utime(tmp, (stat.st_atime, stat.st_mtime))
    os.rename(tmp, target)
    os.unlink(path)
    return os.path.getsize(target)
