# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``log_rotate``: gather the log files, plan (compress, delete, skip), then apply.

``plan()`` is pure (file list in, actions out); ``gather()`` and ``open_files()`` read the disk and
/proc; ``apply()`` is the one step with side effects; :func:`run` is what the module calls.
No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import gzip
import os
import shutil
import stat
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import atomic_writer
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.options import out_of_range

DAY = 86400

ARGUMENT_SPEC = dict(
    paths=dict(type="list", elements="path", required=True),
    patterns=dict(type="list", elements="str", default=["*.jsonl", "*.log"]),
    compress_days=dict(type="int", default=30),
    delete_days=dict(type="int"),
    recurse=dict(type="bool", default=True),
)


class RotateError(Exception):
    """The options are wrong, or a file could not be rotated; ``results`` go into ``fail_json``."""

    def __init__(self, message, results=None):
        super(RotateError, self).__init__(message)
        self.results = results or {}


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
    """gzip ``path`` to ``path.gz`` (atomically, keeping its mode and times), then remove it; return the .gz size."""
    target = path + ".gz"
    source = os.stat(path)
    with atomic_writer(target, binary=True, mode=stat.S_IMODE(source.st_mode),
                       times=(source.st_atime, source.st_mtime)) as out:
        with open(path, "rb") as src, gzip.GzipFile(filename=os.path.basename(path), mode="wb", fileobj=out,
                                                    mtime=int(source.st_mtime)) as dst:
            shutil.copyfileobj(src, dst)
    os.unlink(path)
    return os.path.getsize(target)


def check_options(params):
    """Problems with the options that the argument spec cannot see (ranges, their order), each naming the option."""
    problems = out_of_range(params, {"compress_days": (0, None), "delete_days": (0, None)})
    if not problems and params["delete_days"] is not None and params["delete_days"] < params["compress_days"]:
        problems.append("delete_days (%s) must not be below compress_days (%s)" % (params["delete_days"], params["compress_days"]))
    return problems


def gather(params):
    """``(files, missing paths)``: the matching files with their mtime and size."""
    paths = [p for p in params["paths"] if os.path.isdir(p)]
    missing = sorted(set(params["paths"]) - set(paths))
    files = []
    for path in find(paths, params["patterns"], params["recurse"]):
        try:
            info = os.stat(path)
        except OSError:
            continue
        files.append({"path": path, "mtime": info.st_mtime, "size_bytes": info.st_size})
    return files, missing


def apply(actions):
    """Compress and delete as planned; return the bytes freed. Raises RotateError at the first failure."""
    freed = 0
    for action in actions:
        if action["action"] == "skip":
            continue
        try:
            if action["action"] == "delete":
                os.unlink(action["path"])
                freed += action["size_bytes"]
            else:
                freed += action["size_bytes"] - compress(action["path"])
        except (IOError, OSError) as exc:
            raise RotateError("rotating logs: %s %s: %s" % (action["action"], action["path"], exc),
                              results=dict(actions=actions, freed_bytes=freed))
    return freed


def run(params, check_mode=False, diff=False, now=None, held=None):
    """The module's body: ``(result, warnings)``. Raises RotateError."""
    problems = check_options(params)
    if problems:
        raise RotateError("; ".join(problems))
    files, missing = gather(params)
    warnings = ["log directory %s does not exist; skipped" % path for path in missing]
    actions = plan(files, time.time() if now is None else now, params["compress_days"], params["delete_days"],
                   held=open_files() if held is None else held)
    todo = [a for a in actions if a["action"] != "skip"]
    freed = 0 if check_mode else apply(actions)
    result = dict(changed=bool(todo), actions=actions, freed_bytes=freed, missing_paths=missing)
    if todo and diff:
        result["diff"] = dict(
            before="\n".join(a["path"] for a in todo) + "\n",
            after="\n".join(a["path"] + ".gz" for a in todo if a["action"] == "compress") + "\n")
    return result, warnings
