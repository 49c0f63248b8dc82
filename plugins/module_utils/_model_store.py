# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Model artefact manifests: scan model stores, hash with a cache, verify against a manifest.

Stores understood: loose GGUF and safetensors files, Hugging Face cache snapshots
(``models--org--name/snapshots/<rev>/...`` linking into ``blobs/``) and Ollama's store
(``models/manifests/<registry>/<namespace>/<model>/<tag>`` JSON naming content-addressed
``models/blobs/sha256-<hex>`` files). Pure Python (hashlib, os, json); no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import make_check, worst_status

MANIFEST_VERSION = 1
MODEL_SUFFIXES = (".gguf", ".safetensors", ".bin", ".pt", ".pth", ".onnx")
_OLLAMA_BLOB = re.compile(r"^sha256[-:]([0-9a-f]{64})$")
_CHUNK = 4 * 1024 * 1024


class HashCache:
    """sha256 per file keyed on (device, inode, size, mtime_ns); remembers when each was hashed."""

    def __init__(self, entries=None):
        self.entries = dict(entries or {})
        self.hashed_bytes = 0
        self.hashed_files = 0

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
        self.entries[path] = {"key": self.key(stat), "sha256": value, "hashed_at": now or time.time()}
        return value


def classify(path):
    """Kind of a model artefact from its path, or None for files that are not model artefacts."""
    name = os.path.basename(path)
    parts = path.split(os.sep)
    if _OLLAMA_BLOB.match(name) and "blobs" in parts:
        return "ollama_blob"
    if "snapshots" in parts and any(p.startswith("models--") for p in parts):
        return "hf_snapshot"
    if name.endswith(".gguf"):
        return "gguf"
    if name.endswith(".safetensors"):
        return "safetensors"
    if name.endswith(MODEL_SUFFIXES):
        return "weights"
    return None


def walk(roots):
    """Model artefact paths under ``roots`` (sorted), and Ollama manifest files found on the way."""
    artefacts = []
    ollama_manifests = []
    for root in roots:
        root = os.path.abspath(root)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                rel_parts = os.path.relpath(path, root).split(os.sep)
                if "manifests" in rel_parts and "blobs" not in rel_parts:
                    ollama_manifests.append(path)
                    continue
                if classify(path) and os.path.isfile(path):
                    artefacts.append(path)
    return artefacts, ollama_manifests


def parse_ollama_manifest(path, text):
    """``(model:tag, [sha256 hex of each layer and the config])`` of one Ollama manifest file."""
    parts = path.split(os.sep)
    index = len(parts) - 1 - parts[::-1].index("manifests")
    tail = parts[index + 1:]
    if len(tail) < 3:
        raise ValueError("not an Ollama manifest path: %s" % path)
    model = "/".join(tail[1:-1])
    if model.startswith("library/"):
        model = model[len("library/"):]
    data = json.loads(text)
    digests = []
    for item in [data.get("config") or {}] + list(data.get("layers") or []):
        digest = item.get("digest") or ""
        match = re.match(r"^sha256[:-]([0-9a-f]{64})$", digest)
        if match:
            digests.append(match.group(1))
    return "%s:%s" % (model, tail[-1]), digests


def scan(roots, cache, full=False, max_bytes=None, now=None):
    """Build a manifest of the artefacts under ``roots``.

    Returns ``(manifest, warnings)``. Files whose hash is cached for the same (device, inode, size,
    mtime) are not read again unless ``full``. With ``max_bytes`` a file that would pass the budget
    is listed with ``sha256: null`` and ``deferred: true``.
    """
    warnings = []
    artefacts, ollama_manifests = walk(roots)
    files = []
    budget = max_bytes
    for path in artefacts:
        try:
            stat = os.stat(path)
        except OSError as exc:
            warnings.append("could not stat %s: %s" % (path, exc))
            continue
        digest = None if full else cache.lookup(path, stat)
        deferred = False
        if digest is None:
            if budget is not None and stat.st_size > budget:
                deferred = True
            else:
                try:
                    digest = cache.hash(path, stat, now)
                except (IOError, OSError) as exc:
                    warnings.append("could not read %s: %s" % (path, exc))
                    continue
                if budget is not None:
                    budget -= stat.st_size
        entry = {"path": path, "kind": classify(path), "size_bytes": stat.st_size, "sha256": digest}
        if deferred:
            entry["deferred"] = True
        files.append(entry)
    ollama = {}
    for path in ollama_manifests:
        try:
            with open(path, "r") as handle:
                name, digests = parse_ollama_manifest(path, handle.read())
            ollama[name] = digests
        except (IOError, OSError, ValueError) as exc:
            warnings.append("could not read Ollama manifest %s: %s" % (path, exc))
    manifest = {"version": MANIFEST_VERSION, "roots": [os.path.abspath(r) for r in roots], "files": files,
                "ollama_models": dict(sorted(ollama.items()))}
    return manifest, warnings


def verify(manifest, roots, cache, full=False, max_bytes=None, now=None):
    """Compare the store under ``roots`` with ``manifest``; return ``(result, warnings)``.

    ``result`` has per-file ``problems`` (missing, extra, size_mismatch, checksum_mismatch,
    blob_digest_mismatch, deferred), ``checks`` and ``status``. Within ``max_bytes`` the files
    hashed longest ago are re-hashed first, so a full pass spreads over several runs.
    """
    warnings = []
    expected = dict((f["path"], f) for f in manifest.get("files") or [])
    artefacts, dummy = walk(roots)
    present = set(artefacts)
    problems = []
    checked = 0
    budget = max_bytes
    order = sorted(present, key=lambda p: (cache.last_hashed(p), p))
    for path in order:
        entry = expected.get(path)
        try:
            stat = os.stat(path)
        except OSError as exc:
            warnings.append("could not stat %s: %s" % (path, exc))
            continue
        if entry is None:
            problems.append(_problem("extra", path, "not in the manifest: a new or stray file",
                                     "run model_manifest mode=scan if it belongs, else remove it"))
            continue
        if entry.get("size_bytes") is not None and entry["size_bytes"] != stat.st_size:
            problems.append(_problem("size_mismatch", path, "size %d bytes, manifest says %d" % (stat.st_size, entry["size_bytes"]),
                                     _fix(entry)))
            continue
        digest = None if full else cache.lookup(path, stat)
        if digest is None:
            if budget is not None and stat.st_size > budget:
                problems.append(_problem("deferred", path, "not re-hashed this run (max_bytes_per_run)", ""))
                continue
            try:
                digest = cache.hash(path, stat, now)
            except (IOError, OSError) as exc:
                warnings.append("could not read %s: %s" % (path, exc))
                continue
            if budget is not None:
                budget -= stat.st_size
        checked += 1
        blob = _OLLAMA_BLOB.match(os.path.basename(path))
        if blob and blob.group(1) != digest:
            problems.append(_problem("blob_digest_mismatch", path,
                                     "content hashes to sha256:%s..., its name says %s..." % (digest[:12], blob.group(1)[:12]),
                                     "corrupted Ollama blob: `ollama rm` and `ollama pull` the model that uses it"))
        elif entry.get("sha256") and entry["sha256"] != digest:
            problems.append(_problem("checksum_mismatch", path, "sha256 %s... differs from the manifest's %s..." % (
                digest[:12], entry["sha256"][:12]), _fix(entry)))
    for path in sorted(set(expected) - present):
        problems.append(_problem("missing", path, "in the manifest but not on disk", _fix(expected[path])))
    checks = []
    for problem in problems:
        if problem["problem"] == "deferred":
            continue
        status = "warn" if problem["problem"] == "extra" else "crit"
        checks.append(make_check("model_file", status, problem["problem"], None,
                                 "%s: %s%s" % (problem["path"], problem["detail"], (": " + problem["fix"]) if problem["fix"] else ""),
                                 path=problem["path"]))
    if not checks:
        checks.append(make_check("model_files", "ok", checked, None,
                                 "%d model file(s) match the manifest" % checked))
    result = {"files_checked": checked, "problems": problems, "checks": checks, "status": worst_status(checks)}
    return result, warnings


def _problem(kind, path, detail, fix):
    return {"problem": kind, "path": path, "detail": detail, "fix": fix}


def _fix(entry):
    if entry.get("kind") == "ollama_blob":
        return "re-pull the model that uses this blob (`ollama pull <model>`)"
    return "re-download the model or restore it from the backup, then verify its checksum"


def summary_section(fact):
    """Summary line of ``gpufleet_models`` (for ``_summary.SECTIONS``)."""
    problems = [p for p in fact.get("problems") or [] if p.get("problem") != "deferred"]
    deferred = len(fact.get("problems") or []) - len(problems)
    line = "models: %s file(s) match %s" % (fact.get("files_checked"), fact.get("manifest") or "the manifest")
    if problems:
        line = "models: %d problem(s) in %s file(s) checked against %s" % (
            len(problems), fact.get("files_checked"), fact.get("manifest") or "the manifest")
    if deferred:
        line += ", %d deferred to a later run" % deferred
    return [line]
