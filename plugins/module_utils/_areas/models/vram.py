# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How much GPU memory a served model needs: its weights plus the KV cache of its context. Pure functions.

A ``serving`` entry (in the manifest, or the ``serving`` option of ``model_manifest``) says what a
runner loads: ``model``, ``parameters_b`` (billions), ``quantization`` (a GGUF type name, or
``F16``/``BF16``/``F32``/``FP8``) or ``bytes_per_weight``, ``context_length`` (the tokens the runner
allocates a KV cache for: Ollama's ``num_ctx`` times ``OLLAMA_NUM_PARALLEL``, llama.cpp's ``-c``,
vLLM's ``max_model_len`` times the sequences it keeps), and the KV cache's shape - ``layers``,
``kv_heads``, ``head_dim`` and ``kv_cache_type`` (``f16`` unless the runner quantizes it) - or
``kv_bytes_per_token`` directly. ``gpus`` (indices) names the GPUs it is split over; all of the
host's by default (Ollama and llama.cpp spread a model over every GPU they see).

    weights  = parameters_b * 1e9 * bits_per_weight / 8
    kv cache = context_length * 2 (K and V) * layers * kv_heads * head_dim * bytes per cached value

What the estimate leaves out (the CUDA context, cuBLAS workspace, the runner's compute buffers,
about 0.5-1.5 GiB) is the margin the check's threshold keeps (``vram_need_warn_pct``, 90 %).
No I/O, no Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MIB = 1024 * 1024
GIB = 1024 * MIB

# Bits per weight of a whole model file by quantization. Sources: the K-quant mixtures (_S/_M/_L and
# Q2_K, Q6_K) are the "Llama 2 7B" column of llama.cpp's tools/quantize/README.md (measured on real
# files, so they include the tensors a mixture keeps at a higher type); the single-type ones are ggml's
# block sizes (Q8_0: 32 int8 + one f16 scale = 34 bytes per 32 weights = 8.5 bits; Q4_0 18 bytes,
# Q4_1 20, Q5_0 22, Q5_1 24 per 32); the float types are their width. docs/models.md has the table.
BITS_PER_WEIGHT = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0, "FP8": 8.0,
    "Q8_0": 8.5,
    "Q6_K": 6.56,
    "Q5_1": 6.0, "Q5_K_M": 5.68, "Q5_K_S": 5.52, "Q5_0": 5.5,
    "Q4_1": 5.0, "Q4_K_M": 4.84, "Q4_K_S": 4.58, "Q4_0": 4.5,
    "Q3_K_L": 4.27, "Q3_K_M": 3.91, "Q3_K_S": 3.5,
    "Q2_K": 3.35,
}
_ALIASES = {"FP32": "F32", "FP16": "F16", "F8": "FP8", "F8_E4M3": "FP8"}

# Bytes per cached K or V value by KV cache type (llama.cpp --cache-type-k/-v, OLLAMA_KV_CACHE_TYPE,
# vLLM --kv-cache-dtype): the same ggml block sizes.
KV_BYTES_PER_VALUE = {"F32": 4.0, "F16": 2.0, "BF16": 2.0, "FP8": 1.0, "Q8_0": 1.0625, "Q4_0": 0.5625}

SHAPE = ("layers", "kv_heads", "head_dim")


def _number(entry, key, whole=False):
    """``(value, problem)``: a positive number at ``entry[key]``, None when absent, or a problem sentence."""
    value = entry.get(key)
    if value is None or value == "":
        return None, None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value) if not whole else int(value)
        except (TypeError, ValueError):
            return None, "%s is not a number (%r)" % (key, value)
    if whole and int(value) != value:
        return None, "%s is not a whole number (%r)" % (key, value)
    if value <= 0:
        return None, "%s must be above 0 (%r)" % (key, value)
    return (int(value) if whole else value), None


def bits_per_weight(entry):
    """``(bits, problem)``: from ``bytes_per_weight`` (times 8) if given, else from ``quantization``'s name."""
    given, problem = _number(entry, "bytes_per_weight")
    if problem:
        return None, problem
    if given is not None:
        return given * 8, None
    name = entry.get("quantization")
    if not name:
        return None, "neither quantization nor bytes_per_weight is given"
    key = str(name).strip().upper()
    key = _ALIASES.get(key, key)
    if key not in BITS_PER_WEIGHT:
        return None, "quantization %s is not in the table (%s); give bytes_per_weight instead" % (
            name, ", ".join(sorted(BITS_PER_WEIGHT)))
    return BITS_PER_WEIGHT[key], None


def kv_bytes_per_token(entry):
    """``(bytes, problem)``: ``kv_bytes_per_token`` if given, else 2 x layers x kv_heads x head_dim x bytes per value."""
    given, problem = _number(entry, "kv_bytes_per_token")
    if problem or given is not None:
        return given, problem
    shape = {}
    for key in SHAPE:
        shape[key], problem = _number(entry, key, whole=True)
        if problem:
            return None, problem
    missing = [key for key in SHAPE if shape[key] is None]
    if missing:
        return None, "neither kv_bytes_per_token nor the KV cache's shape is given (%s missing)" % ", ".join(missing)
    cache = str(entry.get("kv_cache_type") or "f16").strip().upper()
    if cache not in KV_BYTES_PER_VALUE:
        known = ", ".join(sorted(k.lower() for k in KV_BYTES_PER_VALUE))
        return None, "kv_cache_type %s is not one of %s" % (entry.get("kv_cache_type"), known)
    return 2 * shape["layers"] * shape["kv_heads"] * shape["head_dim"] * KV_BYTES_PER_VALUE[cache], None


def estimate(entry):
    """``{weights_bytes, kv_cache_bytes, need_bytes}`` of one serving entry, or ``{problems: [...]}`` when it lacks figures."""
    problems = []
    parameters_b, problem = _number(entry, "parameters_b")
    if problem or parameters_b is None:
        problems.append(problem or "parameters_b is not given")
    bits, problem = bits_per_weight(entry)
    if problem:
        problems.append(problem)
    context, problem = _number(entry, "context_length", whole=True)
    if problem or context is None:
        problems.append(problem or "context_length is not given")
    per_token, problem = kv_bytes_per_token(entry)
    if problem:
        problems.append(problem)
    if problems:
        return {"problems": problems}
    weights = int(round(parameters_b * 1e9 * bits / 8))
    kv_cache = int(round(context * per_token))
    return {"weights_bytes": weights, "kv_cache_bytes": kv_cache, "need_bytes": weights + kv_cache}


def gpu_memory(gpu_fact, indices=None):
    """``(total MiB, [indices], problem)`` of the GPUs in ``gpufleet_gpu`` (all, or those in ``indices``).

    NVIDIA GPUs report ``memory_total_mib``, AMD ones ``vram_total_mib``. A GPU asked for that is not
    there, or one whose total was not reported, is a problem (the estimate is then not judged).
    """
    if not gpu_fact:
        return None, [], "no GPU facts were given (gpufleet_gpu: run gpu_facts or health_facts with the gpu area first)"
    gpus = [(g.get("index"), g.get("memory_total_mib")) for g in (gpu_fact.get("nvidia") or {}).get("gpus") or []]
    gpus += [(g.get("index"), g.get("vram_total_mib")) for g in (gpu_fact.get("amd") or {}).get("gpus") or []]
    if not gpus:
        reason = (gpu_fact.get("nvidia") or {}).get("reason") or "no NVIDIA/AMD GPU was read"
        return None, [], "gpufleet_gpu lists no GPU (%s)" % reason
    if indices:
        known = dict(gpus)
        absent = [i for i in indices if i not in known]
        if absent:
            return None, [], "GPU %s is not among the GPUs read (%s)" % (
                ", ".join(str(i) for i in absent), ", ".join(str(i) for i, _total in gpus))
        gpus = [(i, known[i]) for i in indices]
    unread = [str(i) for i, total in gpus if total is None]
    if unread:
        return None, [], "the memory total of GPU %s was not reported" % ", ".join(unread)
    return sum(total for _i, total in gpus), [i for i, _total in gpus], None


def gib(count_bytes):
    """Bytes as GiB with one decimal: ``5913741824`` → ``5.5``."""
    return round(count_bytes / float(GIB), 1)
