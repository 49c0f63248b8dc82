# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the front door's access logs over the review window: each log and its rotated files
(``access.log.1``, ``access.log.2.gz``, ``access.log-20261120.gz``) written since the window began,
line by line into the tally (``parse.Tally``). I/O only; parsing in ``parse.py``, verdicts in
``checks.py``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import gzip
import io
import os
import re
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.access import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance.collect import since_epoch

_ROTATED = re.compile(r"^[.-](\d+)(\.gz)?$")


def rotated(path, since):
    """``(files, older)``: ``path`` and the rotated files beside it modified since ``since``, newest first
    (by mtime), and whether an older rotated file exists (the log then reaches back past ``since``)."""
    directory, base = os.path.split(path)
    found = [path]
    try:
        names = os.listdir(directory or ".")
    except OSError:
        names = []
    for name in names:
        if name.startswith(base) and _ROTATED.match(name[len(base):]):
            found.append(os.path.join(directory, name))
    dated, older = [], False
    for candidate in found:
        try:
            mtime = os.path.getmtime(candidate)
        except OSError:
            if candidate == path:
                dated.append((float("inf"), candidate))   # the log itself: read it, to say why it cannot be
            continue
        if candidate == path or mtime >= since:
            dated.append((mtime, candidate))
        else:
            older = True
    return [candidate for _mtime, candidate in sorted(dated, reverse=True)], older


def open_lines(path):
    """The lines of a log file (gzip when it ends in ``.gz``), as text; bytes that are no UTF-8 are replaced."""
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return io.open(path, encoding="utf-8", errors="replace")


def read_file(path, tally):
    """``{path, lines, parsed, in_window, error}``: one file fed into ``tally``."""
    result = {"path": path, "lines": 0, "parsed": 0, "in_window": 0, "error": None}
    try:
        with open_lines(path) as handle:
            for line in handle:
                result["lines"] += 1
                entry = parse.parse_line(line)
                if entry is None:
                    continue
                result["parsed"] += 1
                tally.seen(entry["ts"])
                if tally.start <= entry["ts"] <= tally.end:
                    result["in_window"] += 1
                    tally.add(entry)
    except (IOError, OSError, EOFError) as exc:
        err = getattr(exc, "errno", None)
        result["error"] = {errno.ENOENT: "no such file", errno.EACCES: "permission denied"}.get(err) or str(exc)
    return result


def collect(run_command, params, now=None):
    """``(data, warnings)``: the window, each file read and the tally of its requests."""
    now = int(params.get("now") or (time.time() if now is None else now))
    start = since_epoch(params, now)
    tally = parse.Tally(start, now, parse.networks(params.get("known_clients") or parse.DEFAULT_KNOWN))
    files = []
    for path in params.get("log_paths") or []:
        candidates, older = rotated(path, start) if params.get("rotated", True) else ([path], False)
        if older:
            tally.seen(start)   # a file rotated before the window holds what came before it: the window is covered
        for candidate in candidates:
            files.append(read_file(candidate, tally))
    data = {"window": {"start_epoch": start, "end_epoch": now, "days": round((now - start) / 86400.0, 2)},
            "log_paths": list(params.get("log_paths") or []), "files": files}
    data.update(tally.fact())
    return data, []
