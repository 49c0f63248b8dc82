# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dynamic linker's configuration and cache: ld.so.conf (with its includes), ``ldconfig -p``.

:func:`parse_ld_so_conf` reads one configuration file the way glibc's ldconfig does;
:func:`ld_search_dirs` walks ``/etc/ld.so.conf`` and its includes into the directories in the order
ldconfig scans them; :func:`parse_ldconfig_p` and :func:`resolve_from_cache` read the cache;
:func:`print_cache` runs ``ldconfig -p -C <cache>`` through the collection's runner. Pure functions
apart from :func:`print_cache`; no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner

# Directories the dynamic linker trusts after those of ld.so.conf (glibc's slibdir/libdir).
TRUSTED_DIRS = ("/lib/{multiarch}", "/usr/lib/{multiarch}", "/lib", "/usr/lib", "/lib64", "/usr/lib64")
_MULTIARCH = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu", "arm64": "aarch64-linux-gnu"}
_LDCONFIG_ARCH = {"x86_64": "x86-64", "aarch64": "AArch64", "arm64": "AArch64"}


def parse_ldconfig_p(text):
    """``ldconfig -p`` → list of ``{name, flags, path}`` in cache order (first match wins)."""
    entries = []
    for line in (text or "").splitlines():
        match = re.match(r"\s+(\S+)\s+\(([^)]*)\)(?:\s+OS ABI: [^=]*)?\s+=>\s+(.+?)\s*$", line)
        if match:
            entries.append({"name": match.group(1), "flags": match.group(2), "path": match.group(3)})
    return entries


def resolve_from_cache(entries, soname, machine="x86_64"):
    """The path the dynamic linker loads for ``soname``: the first cache entry of our architecture."""
    arch = _LDCONFIG_ARCH.get(machine)
    for entry in entries:
        if entry["name"] == soname and (arch is None or arch in entry["flags"]):
            return entry["path"]
    return None


def parse_ld_so_conf(text):
    """One ld.so.conf file → list of ``("dir", path)`` and ``("include", pattern)`` in order.

    As glibc's ldconfig reads it (``parse_conf``/``add_dir_1`` in elf/ldconfig.c): ``#`` ends the
    line wherever it stands; ``include`` followed by a blank takes one or more glob patterns (a
    relative one is relative to the including file's directory, see :func:`conf_dirs`); ``hwcap``
    followed by a blank (any case) is ignored; anything else is one directory, with an ``=TYPE``
    suffix (``/opt/lib=libc6``) cut off, then trailing blanks and every trailing slash (``/`` alone
    names nothing).
    """
    items = []
    for raw in (text or "").splitlines():
        line = raw.split("#", 1)[0].lstrip()
        if not line.strip():
            continue
        if line.startswith("include") and line[7:8] in (" ", "\t"):
            items.extend(("include", pattern) for pattern in line[8:].split())
        elif line[:5].lower() == "hwcap" and line[5:6] in (" ", "\t"):
            continue
        else:
            directory = line.split("=", 1)[0].rstrip().rstrip("/")
            if directory:
                items.append(("dir", directory))
    return items


def conf_dirs(read, expand, conf="/etc/ld.so.conf", _depth=0):
    """The directories ld.so.conf names, its includes walked in order, each once (the first wins).

    ``read(path)`` returns a file's text ("" when absent); ``expand(pattern)`` returns the sorted
    paths a glob matches. Both see paths as the host does (``root`` is applied by the caller).
    Includes nest at most 8 deep (a file that includes itself ends there).
    """
    dirs = []
    if _depth < 8:
        base = os.path.dirname(conf)
        for kind, value in parse_ld_so_conf(read(conf)):
            if kind == "dir":
                dirs.append(value)
                continue
            pattern = value if value.startswith("/") else os.path.join(base, value)
            for path in expand(pattern):
                dirs.extend(conf_dirs(read, expand, path, _depth + 1))
    return _once(dirs)


def ld_search_dirs(read, expand, conf="/etc/ld.so.conf", machine="x86_64"):
    """Directories in the order ldconfig scans them: those of ld.so.conf (:func:`conf_dirs`), then the trusted ones."""
    multiarch = _MULTIARCH.get(machine, "%s-linux-gnu" % machine)
    return _once(conf_dirs(read, expand, conf) + [d.format(multiarch=multiarch) for d in TRUSTED_DIRS])


def _once(dirs):
    ordered = []
    for directory in dirs:
        if directory not in ordered:
            ordered.append(directory)
    return ordered


def in_dir(path, directory):
    return bool(path) and os.path.dirname(os.path.normpath(path)) == os.path.normpath(directory)


def print_cache(run_command, cache, ldconfig=None, timeout=20):
    """``ldconfig -p -C cache`` → the runner's result; raises ToolError when ldconfig is missing or hangs."""
    tool = ldconfig or _runner.find_tool("ldconfig")
    if not tool:
        raise _runner.ToolError("ldconfig not found")
    return _runner.run(run_command, [tool, "-p", "-C", cache], timeout=timeout)
