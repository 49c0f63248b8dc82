# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup area's reads: the files to back up and their manifest, and a restored snapshot.

The backup manifest has the models area's format (``{version, roots, files, ollama_models}``) and
is hashed with its :class:`~.models.collect.HashCache`; the weights have their own model manifest,
read back from the snapshot and compared with the models area's reads. I/O only; the verdicts are
in ``checks.py``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import collect as models
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.parse import manifest as model_manifest
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import read_text

MANIFEST_NAME = "backup-manifest.json"


def list_files(sources, skip=()):
    """Regular files under ``sources`` (files or directories), sorted, leaving out the paths in ``skip``."""
    skip = set(os.path.abspath(p) for p in skip)
    found = []
    for source in sources:
        source = os.path.abspath(source)
        if os.path.isfile(source):
            found.append(source)
            continue
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    found.append(path)
    return sorted(set(found) - skip)


def backup_manifest(paths, cache, now=None):
    """Manifest (the models area's format) of ``paths`` with size and sha256; returns ``(manifest, warnings)``."""
    files = []
    warnings = []
    for path in paths:
        try:
            stat = os.stat(path)
            digest = cache.lookup(path, stat) or cache.hash(path, stat, now)
        except (IOError, OSError) as exc:
            warnings.append("could not read %s: %s" % (path, exc))
            continue
        files.append({"path": path, "kind": "file", "size_bytes": stat.st_size, "sha256": digest})
    return model_manifest([], files, {}), warnings


def _read_file(entry, cache):
    """What the restored copy of one manifest entry holds: ``{path, size_bytes, sha256, error, missing}``."""
    seen = {"path": entry["path"], "size_bytes": None, "sha256": None, "error": None, "missing": False}
    try:
        stat = os.stat(entry["path"])
        seen["size_bytes"] = stat.st_size
        if stat.st_size == entry.get("size_bytes"):
            seen["sha256"] = cache.hash(entry["path"], stat)
    except (IOError, OSError) as exc:
        seen["missing"] = exc.errno == errno.ENOENT
        seen["error"] = exc.strerror or str(exc)
    return seen


def _read_manifest(scratch, path):
    """``(manifest rebased under scratch, error)`` of the copy of ``path`` in the restored snapshot."""
    restored = parse.restored_path(scratch, path)
    try:
        text = read_text(restored)
        if text is None:
            raise IOError(errno.ENOENT, "No such file or directory")
        return parse.rebase(json.loads(text), scratch), None
    except (IOError, OSError, ValueError) as exc:
        return None, str(exc)


def restored(scratch, backup_manifest_path, model_manifest_path, cache):
    """Read a snapshot restored into ``scratch`` against both manifests (as they are in the snapshot).

    Returns ``(data, warnings)``; ``data["manifests"]`` has one entry per manifest: ``{kind, path,
    error}`` plus, for the backup manifest, ``expected`` and ``seen`` (each file as restored), and for
    the model manifest ``missing_roots`` or the models area's ``observed`` reads.
    """
    warnings = []
    manifests = []
    wanted = [("backup", backup_manifest_path)] + ([("model", model_manifest_path)] if model_manifest_path else [])
    for kind, path in wanted:
        manifest, error = _read_manifest(scratch, path)
        entry = {"kind": kind, "path": parse.restored_path(scratch, path), "error": error}
        manifests.append(entry)
        if manifest is None:
            continue
        if kind == "backup":
            entry["expected"] = manifest.get("files") or []
            entry["seen"] = [_read_file(f, cache) for f in entry["expected"]]
            continue
        entry["missing_roots"] = [r for r in manifest["roots"] if not os.path.isdir(r)]
        if not entry["missing_roots"]:
            entry["observed"], more = models.observe(manifest, manifest["roots"], cache, full=True)
            warnings.extend(more)
    return {"manifests": manifests}, warnings
