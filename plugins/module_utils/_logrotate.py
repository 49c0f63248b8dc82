# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log rotation for the runners' JSONL/text logs: plan (which files to compress), then apply.

Files that match a pattern, are not compressed yet and are older than ``age_days`` are gzipped in
place (``x.jsonl`` → ``x.jsonl.gz``, mtime kept); the original is removed only after the
compressed copy is complete, so a failure never loses data. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import gzip
import os
import shutil


def plan(paths, patterns, age_days, now):
    """Return ``(actions, missing)``: ``actions`` is a list of ``{path, dest, size_bytes, age_days}``."""
    actions = []
    missing = []
    limit = now - age_days * 86400.0
    for base in paths:
        if not os.path.isdir(base):
            missing.append(base)
            continue
        for directory, _subdirs, files in os.walk(base):
            for name in sorted(files):
                if name.endswith(".gz") or not any(fnmatch.fnmatch(name, p) for p in patterns):
                    continue
                path = os.path.join(directory, name)
                try:
                    stat = os.lstat(path)
                except OSError:
                    continue
                if not os.path.isfile(path) or os.path.islink(path) or stat.st_mtime > limit:
                    continue
                if os.path.exists(path + ".gz"):
                    continue
                actions.append({"path": path, "dest": path + ".gz", "size_bytes": stat.st_size,
                                "age_days": round((now - stat.st_mtime) / 86400.0, 1)})
    actions.sort(key=lambda a: a["path"])
    return actions, missing


def apply(actions):
    """Compress each planned file; return the list of errors (``path: reason``)."""
    errors = []
    for action in actions:
        tmp = action["dest"] + ".tmp"
        try:
            stat = os.stat(action["path"])
            with open(action["path"], "rb") as source, gzip.open(tmp, "wb") as target:
                shutil.copyfileobj(source, target)
            os.chmod(tmp, stat.st_mode & 0o7777)
            os.utime(tmp, (stat.st_atime, stat.st_mtime))
            os.rename(tmp, action["dest"])
            os.remove(action["path"])
        except (IOError, OSError) as exc:
            errors.append("%s: %s" % (action["path"], exc))
            if os.path.exists(tmp):
                os.remove(tmp)
    return errors


def diff(actions):
    return {
        "before": "".join("%s\n" % a["path"] for a in actions),
        "after": "".join("%s\n" % a["dest"] for a in actions),
        "before_header": "uncompressed logs",
        "after_header": "compressed logs",
    }
