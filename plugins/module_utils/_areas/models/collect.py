# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The models area's reads: walk the stores, stat and hash the files (with a cache), read Ollama manifests.

Hashing hundreds of GB every day is avoided by :class:`HashCache`, keyed on (device, inode, size,
mtime). What could not be read (a directory that cannot be listed, a file that cannot be opened)
is recorded as such, so that the checks say ``unknown`` for it instead of counting it as fine or
missing. I/O only; the verdicts are in ``checks.py``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import atomic_write, read_text

_CHUNK = 4 * 1024 * 1024


class HashCache:
    """sha256 per file keyed on (device, inode, size, mtime_ns); remembers when each was hashed."""

    def __init__(self, entries=None):
        self.entries = dict(entries or {})
        self.hashed_bytes = 0
        self.hashed_files = 0
        self.changed = False

    @staticmethod
    def key(stat):
        return "%d:%d:%d:%d" % (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)

    def lookup(self, path, stat):
        entry = self.entries.get(path)
        if entry and entry.get("key") == self.key(stat):
            return entry.get("sha256")
        return None

    def last_hashed(self, path):
        return (self.entries.get(path) or {}).get("hashed_at", 0)

    def remember(self, path, stat, sha256, now=None):
        """Record the sha256 of a file this run wrote while hashing it (no second read)."""
        self.entries[path] = {"key": self.key(stat), "sha256": sha256, "hashed_at": now or time.time()}
        self.changed = True

    def hash(self, path, stat, now=None):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(_CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
        value = digest.hexdigest()
        self.hashed_bytes += stat.st_size
        self.hashed_files += 1
        self.remember(path, stat, value, now)
        return value


def load_cache(path):
    """``(HashCache, warnings)`` from the cache file at ``path``; a missing or broken cache only costs a re-hash."""
    try:
        text = read_text(path)
        entries = json.loads(text) if text else {}
        if not isinstance(entries, dict):
            raise ValueError("not a JSON object")
    except (IOError, OSError, ValueError) as exc:
        return HashCache(), ["hash cache %s could not be read (%s): every file is hashed again" % (path, exc)]
    return HashCache(entries), []


def save_cache(path, cache):
    """Write the cache (atomically) when this run hashed or recorded something."""
    if cache.changed:
        atomic_write(path, json.dumps(cache.entries, sort_keys=True))


def walk(roots):
    """``(artefacts, ollama_manifests, unlisted)`` under ``roots``: model artefact paths (sorted, in
    root order), Ollama manifest files, and ``[{path, error}]`` of the directories that could not be
    listed (the artefacts in them are unknown, not missing)."""
    artefacts = []
    ollama_manifests = []
    unlisted = []
    for root in roots:
        root = os.path.abspath(root)
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda exc: unlisted.append(
                {"path": os.path.abspath(exc.filename or root), "error": exc.strerror or str(exc)})):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if parse.is_ollama_manifest(os.path.relpath(path, root).split(os.sep)):
                    ollama_manifests.append(path)
                    continue
                if parse.classify(path) and os.path.isfile(path):
                    artefacts.append(path)
    return artefacts, ollama_manifests, unlisted


def _digest(path, stat, cache, full, budget, now, stale_before=None):
    """``(sha256 or None, deferred, cached sha256 or None)``: a cached hash unless ``full`` or it was
    hashed before ``stale_before`` (epoch s; bit rot keeps size and mtime, so only a re-read finds
    it); a file beyond the remaining ``budget`` (bytes, None: no limit) is deferred. Raises IOError/OSError."""
    cached = cache.lookup(path, stat)
    fresh = stale_before is None or cache.last_hashed(path) >= stale_before
    if cached is not None and not full and fresh:
        return cached, False, cached
    if budget is not None and stat.st_size > budget:
        return None, True, cached
    return cache.hash(path, stat, now), False, cached


def scan(roots, cache, full=False, max_bytes=None, now=None):
    """Build a manifest of the artefacts under ``roots``.

    Returns ``(manifest, warnings)``. Files whose hash is cached for the same (device, inode, size,
    mtime) are not read again unless ``full``. With ``max_bytes`` a file that would pass the budget
    is listed with ``sha256: null`` and ``deferred: true``.
    """
    artefacts, ollama_manifests, unlisted = walk(roots)
    warnings = ["could not list %s: %s" % (entry["path"], entry["error"]) for entry in unlisted]
    files = []
    budget = max_bytes
    for path in artefacts:
        before = cache.hashed_bytes
        try:
            stat = os.stat(path)
            digest, deferred, dummy = _digest(path, stat, cache, full, budget, now)
        except (IOError, OSError) as exc:
            warnings.append("could not read %s: %s" % (path, exc))
            continue
        if budget is not None:
            budget -= cache.hashed_bytes - before
        entry = {"path": path, "kind": parse.classify(path), "size_bytes": stat.st_size, "sha256": digest}
        if deferred:
            entry["deferred"] = True
        files.append(entry)
    ollama = {}
    for path in ollama_manifests:
        try:
            name, digests = parse.parse_ollama_manifest(path, read_text(path))
            ollama[name] = digests
        except (IOError, OSError, ValueError) as exc:
            warnings.append("could not read Ollama manifest %s: %s" % (path, exc))
    return parse.manifest([os.path.abspath(r) for r in roots], files, ollama), warnings


def observe(manifest, roots, cache, full=False, max_bytes=None, now=None, stale_before=None):
    """Read the store under ``roots`` for a comparison with ``manifest``; returns ``(data, warnings)``.

    ``data``: ``expected`` (the manifest's files), ``seen`` (each artefact on disk, in the order it
    was looked at: ``{path, size_bytes, sha256, cached_sha256, deferred, error}``; ``sha256`` is
    None when the file was not hashed: not in the manifest, a different size, deferred or
    unreadable) and ``unlisted`` (directories that could not be listed). Within ``max_bytes`` the
    files hashed longest ago are re-hashed first, so a full pass spreads over several runs. A cached
    hash older than ``stale_before`` (epoch s) is read again: the periodic re-read that finds bit rot.
    """
    expected = dict((f["path"], f) for f in manifest.get("files") or [])
    artefacts, dummy, unlisted = walk(roots)
    warnings = []
    seen = []
    budget = max_bytes
    for path in sorted(artefacts, key=lambda p: (cache.last_hashed(p), p)):
        entry = {"path": path, "size_bytes": None, "sha256": None, "cached_sha256": None, "deferred": False, "error": None}
        seen.append(entry)
        before = cache.hashed_bytes
        try:
            stat = os.stat(path)
            entry["size_bytes"] = stat.st_size
            wanted = expected.get(path)
            if wanted is None or (wanted.get("size_bytes") is not None and wanted["size_bytes"] != stat.st_size):
                continue  # extra, or a size mismatch: no need to read it
            entry["sha256"], entry["deferred"], entry["cached_sha256"] = _digest(path, stat, cache, full, budget, now,
                                                                                 stale_before)
        except (IOError, OSError) as exc:
            entry["error"] = exc.strerror or str(exc)
            warnings.append("could not read %s: %s" % (path, exc))
        if budget is not None:
            budget -= cache.hashed_bytes - before
    return {"expected": list(manifest.get("files") or []), "seen": seen, "unlisted": unlisted}, warnings
