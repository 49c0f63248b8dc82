# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup area's check: does a restored snapshot match its manifests. Pure functions.

``problems`` turns what ``collect.restored`` read into per-file problems (``missing``,
``size_mismatch``, ``checksum_mismatch``, ``manifest_unreadable``, ``weights_missing``, the models
area's problems for the weights, and ``unreadable`` for a restored file that could not be read);
``evaluate`` gives the one ``backup_restore_drill`` result: ``crit`` when the snapshot could not be
restored from a target that answered or a file does not match, ``unknown`` when the target could
not be reached or a restored file could not be read (and nothing else is wrong), ``ok`` otherwise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import checks as models
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable

CHECKS = CheckTable(
    Check("backup_restore_drill", "Whether a snapshot restored into a scratch directory has every file of its backup "
                                  "manifest and model manifest, with the same size and sha256.",
          fix="take a fresh snapshot (and check the target disk) before relying on it"),
)

FIX_UNREACHED = ("check that the target is mounted or reachable over SSH (rsh, keys, rsync installed there), "
                 "then run the drill again")
FIX_RESTORE = "check the target and take a fresh snapshot"


def _problem(kind, path, detail):
    return {"problem": kind, "path": path, "detail": detail}


def _backup_files(entry):
    found = []
    checked = 0
    for wanted, seen in zip(entry["expected"], entry["seen"]):
        path = wanted["path"]
        if seen["missing"]:
            found.append(_problem("missing", path, "not in the restored copy"))
        elif seen["error"]:
            found.append(_problem("unreadable", path, "the restored copy could not be read (%s)" % seen["error"]))
        elif seen["size_bytes"] != wanted.get("size_bytes"):
            found.append(_problem("size_mismatch", path, "size %d bytes, manifest says %s" % (seen["size_bytes"], wanted.get("size_bytes"))))
        else:
            checked += 1
            if seen["sha256"] != wanted.get("sha256"):
                found.append(_problem("checksum_mismatch", path, "sha256 %s... differs from the manifest's %s..." % (
                    seen["sha256"][:12], (wanted.get("sha256") or "")[:12])))
    return found, checked


def problems(data):
    """``(problems, files_checked)`` of a restored snapshot (``data`` from ``collect.restored``)."""
    found = []
    checked = 0
    for entry in data["manifests"]:
        if entry["error"]:
            found.append(_problem("manifest_unreadable", entry["path"], "the %s manifest is not in the snapshot or not JSON (%s)"
                                  % (entry["kind"], entry["error"])))
        elif entry["kind"] == "backup":
            more, count = _backup_files(entry)
            found.extend(more)
            checked += count
        elif entry["missing_roots"]:
            found.append(_problem("weights_missing", entry["missing_roots"][0],
                                  "the model store is not in the snapshot (backup_weights is off?)"))
        else:
            more, count = models.problems(entry["observed"])
            found.extend(_problem(p["problem"], p["path"], p["detail"]) for p in more)
            checked += count
    return found, checked


def evaluate(data, params=None):
    """The ``backup_restore_drill`` result of one drill (``data``: ``snapshot``, ``restore``, ``problems``, ``files_checked``)."""
    check = CHECKS["backup_restore_drill"]
    restore = data.get("restore") or {}
    if restore.get("error") and not restore.get("reached"):
        return [check.unknown("the backup target of snapshot %s could not be reached (%s)" % (data["snapshot"], restore["error"]),
                              fix=FIX_UNREACHED, threshold=0)]
    if restore.get("error"):
        return [check.result("crit", None, 0, "could not restore snapshot %s: %s" % (data["snapshot"], restore["error"]),
                             fix=FIX_RESTORE)]
    wrong = [p for p in data["problems"] if p["problem"] != "unreadable"]
    unread = [p for p in data["problems"] if p["problem"] == "unreadable"]
    if wrong:
        first = wrong[0]
        return [check.result("crit", len(wrong), 0, "restore drill found %d problem(s), first %s: %s: %s: the backup cannot "
                                                    "be trusted" % (len(wrong), first["problem"], first["path"], first["detail"]))]
    if unread:
        return [check.unknown("%d restored file(s) could not be read, first %s: %s" % (len(unread), unread[0]["path"], unread[0]["detail"]),
                              fix=models.FIX_UNREADABLE, value=len(unread), threshold=0)]
    return [check.result("ok", data["files_checked"], 0,
                         "restored %d file(s), every checksum matches the manifests" % data["files_checked"])]
