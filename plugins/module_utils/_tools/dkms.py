# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DKMS module state: ``dkms status`` in both of its formats, or the ``/var/lib/dkms`` tree.

``dkms status`` prints one line per module/version/kernel:

* legacy (dkms < 3): ``nvidia, 396.45, 4.17.11-200.fc28.x86_64, x86_64: installed``
* slash (dkms >= 3): ``nvidia/535.104.05, 6.2.0-33-generic, x86_64: installed``
* ``added`` modules have no kernel: ``nvidia/390.157: added`` (``nvidia, 390.157: added``)
* a trailing note may follow the state: ``installed (original_module exists)``
* errors: ``Error! Could not locate dkms.conf file.`` plus a detail line

Every entry is ``{module, version, kernel, arch, status, note}``. Lines that are neither an entry
nor an error are reported as warnings and skipped. :func:`scan_tree` reads the same facts from
``<root>/var/lib/dkms`` without running anything (for a mounted image, or when ``dkms`` is
missing). :func:`status` runs ``dkms status`` through the collection's runner; the parsers are
pure functions. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner

_STATES = ("added", "built", "installed", "installed-weak", "broken")
_LINE = re.compile(r"^(?P<head>[^:]+):\s*(?P<state>[A-Za-z-]+)(?:\s+\((?P<note>[^)]*)\))?\s*(?P<rest>.*)$")


class DkmsError(Exception):
    """dkms could not be run."""


def parse_status(text):
    """``dkms status`` output → ``{entries, errors, warnings}``."""
    entries = []
    errors = []
    warnings = []
    lines = (text or "").splitlines()
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("Error!") or line.lower().startswith("error:"):
            errors.append(line)
            continue
        if errors and not _LINE.match(line):
            errors[-1] = "%s %s" % (errors[-1], line)  # detail line of the error above
            continue
        if line.startswith("WARNING:") or line.startswith("Warning:"):
            warnings.append("dkms: %s" % line)
            continue
        entry = parse_line(line)
        if entry is None:
            warnings.append("dkms status line %d not understood, skipped: %r" % (number, line[:200]))
            continue
        entries.append(entry)
    return {"entries": entries, "errors": errors, "warnings": warnings}


def parse_line(line):
    """One ``dkms status`` line → entry dict, or None when it is not an entry."""
    match = _LINE.match(line.strip())
    if not match:
        return None
    state = match.group("state").lower()
    if state not in _STATES:
        return None
    head = [part.strip() for part in match.group("head").split(",")]
    if "/" in head[0]:
        module, _sep, version = head[0].partition("/")
        rest = head[1:]
    else:
        if len(head) < 2:
            return None
        module, version = head[0], head[1]
        rest = head[2:]
    if not module or not version or len(rest) not in (0, 2):
        return None
    note = match.group("note")
    if match.group("rest"):
        note = ("%s %s" % (note or "", match.group("rest"))).strip()
    return {
        "module": module,
        "version": version,
        "kernel": rest[0] if rest else None,
        "arch": rest[1] if rest else None,
        "status": state,
        "note": note or None,
    }


def scan_tree(dkms_dir):
    """Entries from a DKMS tree (``/var/lib/dkms``): built per kernel, installed via its symlink.

    DKMS keeps ``<module>/<version>/<kernel>/<arch>/`` for each build and a
    ``<module>/kernel-<kernel>-<arch>`` symlink to the build that is installed.
    Returns ``(entries, warnings)``; a missing tree gives no entries and no warning.
    """
    entries = []
    warnings = []
    if not os.path.isdir(dkms_dir):
        return entries, warnings
    try:
        modules = sorted(os.listdir(dkms_dir))
    except OSError as exc:
        return entries, ["could not list %s: %s" % (dkms_dir, exc)]
    for module in modules:
        module_dir = os.path.join(dkms_dir, module)
        if not os.path.isdir(module_dir) or module.startswith("."):
            continue
        installed = set()
        versions = []
        for name in sorted(os.listdir(module_dir)):
            path = os.path.join(module_dir, name)
            if name.startswith("kernel-") and os.path.islink(path):
                target = os.path.normpath(os.path.join(module_dir, os.readlink(path)))
                parts = os.path.relpath(target, module_dir).split(os.sep)
                if len(parts) == 3:
                    installed.add(tuple(parts))
            elif os.path.isdir(path) and not os.path.islink(path):
                versions.append(name)
        for version in versions:
            version_dir = os.path.join(module_dir, version)
            builds = []
            for kernel in sorted(os.listdir(version_dir)):
                kernel_dir = os.path.join(version_dir, kernel)
                if kernel in ("source", "build") or not os.path.isdir(kernel_dir):
                    continue
                for arch in sorted(os.listdir(kernel_dir)):
                    if os.path.isdir(os.path.join(kernel_dir, arch)):
                        builds.append((kernel, arch))
            for kernel, arch in builds:
                state = "installed" if (version, kernel, arch) in installed else "built"
                entries.append({"module": module, "version": version, "kernel": kernel, "arch": arch,
                                "status": state, "note": None})
            if not builds:
                entries.append({"module": module, "version": version, "kernel": None, "arch": None,
                                "status": "added", "note": None})
    return entries, warnings


def status(run_command, dkms=None, timeout=60):
    """Run ``dkms status`` on the live host; return :func:`parse_status`'s dict plus ``rc``."""
    tool = dkms or _runner.find_tool("dkms")
    if not tool:
        raise DkmsError("dkms not found")
    try:
        result = _runner.run(run_command, [tool, "status"], timeout=timeout)
    except _runner.ToolError as exc:
        raise DkmsError("dkms status: %s" % exc)
    parsed = parse_status("%s\n%s" % (result.stdout or "", result.stderr or ""))
    parsed["rc"] = result.rc
    return parsed


def modules_for_kernel(entries, module, kernel):
    """Entries of ``module`` built or installed for ``kernel``."""
    return [e for e in entries if e["module"] == module and e["kernel"] == kernel
            and e["status"] in ("built", "installed", "installed-weak")]
