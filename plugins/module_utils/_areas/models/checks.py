# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The models area's checks: the files on disk against their manifest. Pure functions.

``evaluate`` takes what ``collect.observe`` read and returns the problems per file (``missing``,
``extra``, ``size_mismatch``, ``checksum_mismatch``, ``blob_digest_mismatch``, ``deferred``,
``unreadable``) and the check results. What could not be read is ``unknown``, never ok and never
"missing": a directory that could not be listed, a file that could not be opened, a file whose hash
was deferred (``max_bytes_per_run``) and that was never hashed in its current state.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable

FIX_REFETCH = "re-download the model or restore it from the backup, then verify its checksum"
FIX_OLLAMA = "re-pull the model that uses this blob (`ollama pull <model>`)"
FIX_EXTRA = "run model_manifest mode=scan if it belongs, else remove it"
FIX_UNREADABLE = ("make it readable by the user the module runs as (become: true), or check the disk "
                  "(dmesg for I/O errors)")
FIX_DEFERRED = "it is hashed in a later run; raise max_bytes_per_run to verify it sooner"

CHECKS = CheckTable(
    Check("model_file", "A model file that does not match its manifest (missing, extra, changed size or checksum, "
                        "an Ollama blob whose content does not hash to its name), or that could not be read.",
          subject=("path",), fix=FIX_REFETCH),
    Check("model_files", "How many model files were checked and match the manifest, when none has a problem.",
          fix="run model_manifest mode=verify"),
)

# problem -> status of its model_file result (deferred files are judged apart)
STATUS = {"missing": "crit", "size_mismatch": "crit", "checksum_mismatch": "crit", "blob_digest_mismatch": "crit",
          "extra": "warn", "unreadable": "unknown"}


def _problem(kind, path, detail, fix):
    return {"problem": kind, "path": path, "detail": detail, "fix": fix}


def fix_for(entry):
    return FIX_OLLAMA if (entry or {}).get("kind") == "ollama_blob" else FIX_REFETCH


def problems(data):
    """``(problems, files_checked)``: every file whose state differs from the manifest, or could not be judged."""
    expected = dict((f["path"], f) for f in data.get("expected") or [])
    unlisted = [u["path"] for u in data.get("unlisted") or []]
    found = []
    checked = 0
    for seen in data.get("seen") or []:
        path = seen["path"]
        entry = expected.get(path)
        if seen.get("error"):
            found.append(_problem("unreadable", path, "could not be read (%s)" % seen["error"], FIX_UNREADABLE))
        elif entry is None:
            found.append(_problem("extra", path, "not in the manifest: a new or stray file", FIX_EXTRA))
        elif entry.get("size_bytes") is not None and entry["size_bytes"] != seen["size_bytes"]:
            found.append(_problem("size_mismatch", path, "size %d bytes, manifest says %d" % (seen["size_bytes"], entry["size_bytes"]),
                                  fix_for(entry)))
        elif seen.get("deferred"):
            hashed = seen.get("cached_sha256") is not None
            found.append(_problem("deferred", path, "not re-hashed this run (max_bytes_per_run)" if hashed else
                                  "not hashed since it last changed: deferred by max_bytes_per_run",
                                  "" if hashed else FIX_DEFERRED))
        else:
            checked += 1
            digest = seen["sha256"]
            promised = parse.blob_digest(path)
            if promised and promised != digest:
                found.append(_problem("blob_digest_mismatch", path,
                                      "content hashes to sha256:%s..., its name says %s..." % (digest[:12], promised[:12]),
                                      "corrupted Ollama blob: `ollama rm` and `ollama pull` the model that uses it"))
            elif entry.get("sha256") and entry["sha256"] != digest:
                found.append(_problem("checksum_mismatch", path, "sha256 %s... differs from the manifest's %s..." % (
                    digest[:12], entry["sha256"][:12]), fix_for(entry)))
    on_disk = set(s["path"] for s in data.get("seen") or [])
    for path in sorted(set(expected) - on_disk):
        if parse.under_any(path, unlisted):
            found.append(_problem("unreadable", path, "its directory could not be listed", FIX_UNREADABLE))
        else:
            found.append(_problem("missing", path, "in the manifest but not on disk", fix_for(expected[path])))
    return found, checked


def evaluate(data, params=None):
    """``model_file`` results per problem (``unknown`` for what could not be read), else one ``model_files`` ok."""
    results = []
    for problem in data["problems"]:
        if problem["problem"] == "deferred":
            if not problem["fix"]:
                continue  # hashed before in this state; its turn comes in a later run
            results.append(CHECKS["model_file"].unknown("%s: %s" % (problem["path"], problem["detail"]),
                                                        subject={"path": problem["path"]}, fix=problem["fix"],
                                                        value=problem["problem"]))
            continue
        status = STATUS[problem["problem"]]
        message = "%s: %s" % (problem["path"], problem["detail"])
        if status == "unknown":
            results.append(CHECKS["model_file"].unknown(message, subject={"path": problem["path"]}, fix=problem["fix"],
                                                        value=problem["problem"]))
        else:
            results.append(CHECKS["model_file"].result(status, problem["problem"], None, message,
                                                       subject={"path": problem["path"]}, fix=problem["fix"]))
    if not results:
        checked = data["files_checked"]
        results.append(CHECKS["model_files"].result("ok", checked, None, "%d model file(s) match the manifest" % checked))
    return results
