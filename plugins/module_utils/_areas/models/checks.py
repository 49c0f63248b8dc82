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

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import parse, vram
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable, fmt_number

FIX_REFETCH = "re-download the model or restore it from the backup, then verify its checksum"
FIX_OLLAMA = "re-pull the model that uses this blob (`ollama pull <model>`)"
FIX_EXTRA = "run model_manifest mode=scan if it belongs, else remove it"
FIX_UNREADABLE = ("make it readable by the user the module runs as (become: true), or check the disk "
                  "(dmesg for I/O errors)")
FIX_DEFERRED = "it is hashed in a later run; raise max_bytes_per_run to verify it sooner"
FIX_VRAM = ("serve it at a smaller quantization or context (num_ctx, llama.cpp -c, vLLM --max-model-len), quantize "
            "the KV cache (OLLAMA_KV_CACHE_TYPE=q8_0, --cache-type-k/-v q8_0), or on more or bigger GPUs: a model "
            "that does not fit is split onto the CPU and answers several times slower, or fails to load")
FIX_VRAM_FIGURES = ("give the serving entry parameters_b, quantization (or bytes_per_weight), context_length and "
                    "layers/kv_heads/head_dim (or kv_bytes_per_token), from the model card or `ollama show`")
FIX_VRAM_GPU = "pass gpu_facts: the gpufleet_gpu fact of a gpu_facts or health_facts run (the monthly cadence does)"

CHECKS = CheckTable(
    Check("model_file", "A model file that does not match its manifest (missing, extra, changed size or checksum, "
                        "an Ollama blob whose content does not hash to its name), or that could not be read.",
          subject=("path",), fix=FIX_REFETCH),
    Check("model_files", "How many model files were checked and match the manifest, when none has a problem.",
          fix="run model_manifest mode=verify"),
    Check("vram_headroom", "Whether each served model (a serving entry) fits in its GPUs' memory with its context: "
                           "weights plus the KV cache, as a share of the GPUs' total memory.",
          subject=("model",), thresholds=(("vram_need_warn_pct", 90),), unit=" %", fix=FIX_VRAM),
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


def vram_headroom(entries, gpu_fact, thresholds):
    """``(estimates, results)``: per serving entry, its estimate and its ``vram_headroom`` check.

    ``unknown`` when the entry lacks the figures or no GPU memory was read; ``warn`` when weights plus
    KV cache reach ``vram_need_warn_pct`` of the memory of the GPUs it is served on.
    """
    check = CHECKS["vram_headroom"]
    limit = thresholds["vram_need_warn_pct"]
    estimates, results = [], []
    for entry in entries or []:
        model = entry.get("model") or "(unnamed)"
        subject = {"model": model}
        found = vram.estimate(entry)
        total_mib, indices, gpu_problem = vram.gpu_memory(gpu_fact, entry.get("gpus"))
        estimate = dict(found, model=model, gpu_memory_mib=total_mib, gpus=indices, need_pct=None)
        estimates.append(estimate)
        if found.get("problems"):
            results.append(check.unknown("the serving entry of %s lacks the figures for an estimate: %s"
                                         % (model, "; ".join(found["problems"])), subject=subject, fix=FIX_VRAM_FIGURES))
            continue
        what = "%s needs about %s GiB (weights %s GiB + KV cache %s GiB for %s tokens)" % (
            model, fmt_number(vram.gib(found["need_bytes"])), fmt_number(vram.gib(found["weights_bytes"])),
            fmt_number(vram.gib(found["kv_cache_bytes"])), entry.get("context_length"))
        if gpu_problem:
            results.append(check.unknown("%s, but no GPU memory to compare it with: %s" % (what, gpu_problem),
                                         subject=subject, fix=FIX_VRAM_GPU, threshold=limit))
            continue
        need_pct = round(100.0 * found["need_bytes"] / (total_mib * vram.MIB), 1)
        estimate["need_pct"] = need_pct
        size = fmt_number(round(total_mib / 1024.0, 1))
        where = "%s %% of the %s GiB of GPU %s" % (fmt_number(need_pct), size, ", ".join(str(i) for i in indices))
        if need_pct >= limit:
            results.append(check.result("warn", need_pct, limit, "%s, %s (warning at %s %%): it will not fit with its "
                                        "context and the runner's own buffers" % (what, where, fmt_number(limit)),
                                        subject=subject))
        else:
            results.append(check.result("ok", need_pct, limit, "%s, %s" % (what, where), subject=subject))
    return estimates, results


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
