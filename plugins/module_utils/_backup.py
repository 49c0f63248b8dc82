# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups as rsync hard-link snapshots, and restore drills that verify every checksum.

A snapshot is ``<target>/<name>/`` written by ``rsync --relative`` (so ``/etc/x`` lands at
``<target>/<name>/etc/x``) with ``--link-dest`` pointing at the newest older snapshot: unchanged
files become hard links and cost no space. ``target`` is a local path or rsync's ``[user@]host:path``
(over SSH). Before the copy, the files that are not model weights are listed with size and sha256 in
a backup manifest (same format as ``_model_store`` manifests, hashed by its ``HashCache``); the
weights have their own ``model_manifest``. A drill restores a snapshot into a scratch directory and
checks both manifests against the restored copy. Pure functions; no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import make_check, worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._model_store import MANIFEST_VERSION, verify

_REMOTE = re.compile(r"^(?:[^/:@]+@)?[^/:]+:")
_ITEM = re.compile(r"^([<>ch.*])([fdLDS])")


def is_remote(target):
    """True for rsync's ``[user@]host:path`` targets (rsync over SSH)."""
    return bool(_REMOTE.match(target))


def snapshot_path(target, name):
    return target.rstrip("/") + "/" + name


def list_argv(rsync, target, rsh=None):
    argv = [rsync, "--list-only"]
    if rsh and is_remote(target):
        argv += ["-e", rsh]
    return argv + [target.rstrip("/") + "/"]


def parse_list(text):
    """Directory names from ``rsync --list-only`` output (``.`` left out)."""
    names = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 5 and line.startswith("d") and fields[-1] != ".":
            names.append(fields[-1])
    return sorted(names)


def previous_snapshot(names, current):
    """The newest snapshot older than ``current`` (names sort by date: ``YYYY-MM``), or None."""
    older = [n for n in names if n < current]
    return older[-1] if older else None


def snapshot_argv(rsync, sources, target, name, link_dest=None, rsh=None, dry_run=False):
    argv = [rsync, "--archive", "--hard-links", "--relative", "--no-implied-dirs", "--delete", "--mkpath", "--numeric-ids",
            "--itemize-changes"]
    if link_dest:
        argv.append("--link-dest=../%s" % link_dest)
    if rsh and is_remote(target):
        argv += ["-e", rsh]
    if dry_run:
        argv.append("--dry-run")
    return argv + [os.path.abspath(s) for s in sources] + [snapshot_path(target, name) + "/"]


def restore_argv(rsync, target, name, scratch, rsh=None):
    argv = [rsync, "--archive", "--hard-links", "--delete", "--mkpath", "--numeric-ids"]
    if rsh and is_remote(target):
        argv += ["-e", rsh]
    return argv + [snapshot_path(target, name) + "/", scratch.rstrip("/") + "/"]


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
    """Manifest (``_model_store`` format) of ``paths`` with size and sha256; returns ``(manifest, warnings)``."""
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
    return {"version": MANIFEST_VERSION, "roots": [], "files": files, "ollama_models": {}}, warnings


def rebase(manifest, prefix):
    """The manifest with its roots and paths moved under ``prefix`` (where a snapshot was restored)."""
    def under(path):
        return os.path.join(prefix, os.path.abspath(path).lstrip("/"))

    rebased = dict(manifest)
    rebased["roots"] = [under(r) for r in manifest.get("roots") or []]
    rebased["files"] = [dict(f, path=under(f["path"])) for f in manifest.get("files") or []]
    return rebased


def _check_files(manifest, cache):
    """Compare the files of a backup manifest with what is on disk (size, then sha256)."""
    problems = []
    checked = 0
    for entry in manifest.get("files") or []:
        path = entry["path"]
        try:
            stat = os.stat(path)
        except OSError:
            problems.append({"problem": "missing", "path": path, "detail": "not in the restored copy"})
            continue
        if stat.st_size != entry.get("size_bytes"):
            problems.append({"problem": "size_mismatch", "path": path,
                             "detail": "size %d bytes, manifest says %s" % (stat.st_size, entry.get("size_bytes"))})
            continue
        digest = cache.hash(path, stat)
        checked += 1
        if digest != entry.get("sha256"):
            problems.append({"problem": "checksum_mismatch", "path": path,
                             "detail": "sha256 %s... differs from the manifest's %s..." % (digest[:12], (entry.get("sha256") or "")[:12])})
    return checked, problems


def drill(scratch, backup_manifest_path, model_manifest_path, cache):
    """Verify a snapshot restored into ``scratch``: every file of the backup manifest and, when the
    model manifest is in the snapshot, every model file it lists. Returns ``(result, warnings)``;
    ``result`` has ``files_checked``, ``problems``, ``checks`` and ``status``.
    """
    warnings = []
    problems = []
    checked = 0
    manifests = [("backup", backup_manifest_path)]
    if model_manifest_path:
        manifests.append(("model", model_manifest_path))
    for kind, path in manifests:
        restored = os.path.join(scratch, os.path.abspath(path).lstrip("/"))
        try:
            with open(restored, "r") as handle:
                manifest = rebase(json.load(handle), scratch)
        except (IOError, OSError, ValueError) as exc:
            problems.append({"problem": "manifest_unreadable", "path": restored,
                             "detail": "the %s manifest is not in the snapshot or not JSON (%s)" % (kind, exc)})
            continue
        if kind == "backup":
            count, found = _check_files(manifest, cache)
        else:
            missing_roots = [r for r in manifest["roots"] if not os.path.isdir(r)]
            if missing_roots:
                problems.append({"problem": "weights_missing", "path": missing_roots[0],
                                 "detail": "the model store is not in the snapshot (backup_weights is off?)"})
                continue
            result, more = verify(manifest, manifest["roots"], cache, full=True)
            warnings.extend(more)
            count = result["files_checked"]
            found = [{"problem": p["problem"], "path": p["path"], "detail": p["detail"]} for p in result["problems"]]
        checked += count
        problems.extend(found)
    if problems:
        first = problems[0]
        checks = [make_check("backup_restore_drill", "crit", len(problems), 0,
                             "restore drill found %d problem(s), first %s: %s: %s: the backup cannot be trusted; "
                             "take a fresh snapshot (and check the target disk) before relying on it"
                             % (len(problems), first["problem"], first["path"], first["detail"]))]
    else:
        checks = [make_check("backup_restore_drill", "ok", checked, 0,
                             "restored %d file(s), every checksum matches the manifests" % checked)]
    return {"files_checked": checked, "problems": problems, "checks": checks, "status": worst_status(checks)}, warnings


def summary_section(fact):
    """Summary line of ``gpufleet_backup`` (for ``_summary.SECTIONS``)."""
    return ["backup %s: restore drill %s, %s file(s) verified, %d problem(s)" % (
        fact.get("snapshot"), (fact.get("status") or "n/a").upper(), fact.get("files_checked"), len(fact.get("problems") or []))]
