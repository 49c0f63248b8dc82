"""vram_headroom: the estimate (weights + KV cache) by hand, and the verdict against the GPU memory of real captures.

Expected values are worked out here, not taken from the code:

Llama 3.1 8B at Q4_K_M (4.84 bits per weight, llama.cpp's quantize README), 8192 tokens, 32 layers,
8 KV heads, head dim 128, f16 cache:
    weights  = 8e9 * 4.84 / 8                  = 4 840 000 000 bytes
    KV/token = 2 * 32 * 8 * 128 * 2 bytes      =       131 072 bytes (128 KiB)
    KV cache = 8192 * 131 072                  = 1 073 741 824 bytes (1 GiB)
    need     = 5 913 741 824 bytes             = 5639.8 MiB
"""

import json
import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import build_fact, checks, vram
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import nvidia_smi

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures")
LIMITS = checks.CHECKS.merged()
LLAMA_8B = {"model": "llama3.1:8b", "parameters_b": 8, "quantization": "Q4_K_M", "context_length": 8192,
            "layers": 32, "kv_heads": 8, "head_dim": 128}


def _gpu_fact(*captures):
    """gpufleet_gpu's nvidia section as the area reads it from real nvidia-smi -q -x captures (one GPU each)."""
    gpus = []
    for index, name in enumerate(captures):
        with open(os.path.join(FIXTURES, "nvidia_smi", name)) as handle:
            smi, dummy = nvidia_smi.parse_xml(handle.read())
        gpu = dict(smi["gpus"][0], index=index)
        gpus.append(gpu)
    return {"nvidia": {"present": True, "gpus": gpus}}


def test_an_8b_model_at_q4_k_m_with_8192_tokens_by_hand():
    assert vram.estimate(LLAMA_8B) == {"weights_bytes": 4840000000, "kv_cache_bytes": 1073741824,
                                       "need_bytes": 5913741824}


@pytest.mark.parametrize("changes, weights, kv_cache", [
    # F16: 2 bytes per weight; BF16 the same; Q8_0 8.5 bits (34 bytes per 32 weights)
    ({"quantization": "F16"}, 16000000000, 1073741824),
    ({"quantization": "bf16"}, 16000000000, 1073741824),
    ({"quantization": "q8_0"}, 8500000000, 1073741824),
    # bytes_per_weight wins over the name
    ({"quantization": "Q4_K_M", "bytes_per_weight": 0.5}, 4000000000, 1073741824),
    # a q8_0 KV cache: 34/32 bytes per value instead of 2 -> 8192 * 2*32*8*128 * 1.0625 = 570 425 344
    ({"kv_cache_type": "q8_0"}, 4840000000, 570425344),
    # a given per-token figure replaces the shape: 8192 * 100 000
    ({"kv_bytes_per_token": 100000, "layers": None}, 4840000000, 819200000),
    # twice the context, twice the cache
    ({"context_length": 16384}, 4840000000, 2147483648),
])
def test_the_estimate_follows_each_figure(changes, weights, kv_cache):
    entry = dict(LLAMA_8B, **changes)
    assert vram.estimate(entry) == {"weights_bytes": weights, "kv_cache_bytes": kv_cache, "need_bytes": weights + kv_cache}


def test_on_the_12_gib_rtx_3060_of_a_real_capture_it_fits():
    # rtx3060-driver570-dtdv12.xml: fb_memory_usage total 12288 MiB; 5913741824 / (12288 * 2**20) = 45.9 %
    estimates, [result] = checks.vram_headroom([LLAMA_8B], _gpu_fact("rtx3060-driver570-dtdv12.xml"), LIMITS)
    assert (result["check"], result["status"], result["value"], result["threshold"]) == ("vram_headroom", "ok", 45.9, 90)
    assert result["subject"] == {"model": "llama3.1:8b"}
    assert result["message"] == ("llama3.1:8b needs about 5.5 GiB (weights 4.5 GiB + KV cache 1 GiB for 8192 tokens), "
                                 "45.9 % of the 12 GiB of GPU 0")
    assert estimates == [{"model": "llama3.1:8b", "weights_bytes": 4840000000, "kv_cache_bytes": 1073741824,
                          "need_bytes": 5913741824, "gpu_memory_mib": 12288, "gpus": [0], "need_pct": 45.9}]


def test_with_a_32k_context_it_no_longer_fits_the_same_card():
    # KV cache 32768 * 131072 = 4 GiB; need 4.84e9 + 4294967296 = 9134967296 bytes = 70.9 % of 12 GiB: still ok;
    # at 65536 tokens: 4.84e9 + 8 GiB = 13429934592 bytes = 104.2 % -> warn
    [ok] = checks.vram_headroom([dict(LLAMA_8B, context_length=32768)], _gpu_fact("rtx3060-driver570-dtdv12.xml"), LIMITS)[1]
    [warn] = checks.vram_headroom([dict(LLAMA_8B, context_length=65536)], _gpu_fact("rtx3060-driver570-dtdv12.xml"), LIMITS)[1]
    assert (ok["status"], ok["value"]) == ("ok", 70.9)
    assert (warn["status"], warn["value"], warn["threshold"]) == ("warn", 104.2, 90)
    assert warn["message"].startswith("llama3.1:8b needs about 12.5 GiB (weights 4.5 GiB + KV cache 8 GiB for 65536 "
                                      "tokens), 104.2 % of the 12 GiB of GPU 0 (warning at 90 %): it will not fit")
    assert checks.FIX_VRAM in warn["message"]


def test_the_margin_is_the_threshold():
    # 11.8e9 weights at 1 byte + 1 byte of KV cache = 11 800 000 001 bytes = 91.6 % of 12 GiB: under 100 % but
    # above the default 90, so the runner's own buffers would not fit; at 95 it is ok
    entry = {"model": "big", "parameters_b": 11.8, "bytes_per_weight": 1.0, "context_length": 1, "kv_bytes_per_token": 1}
    [result] = checks.vram_headroom([entry], _gpu_fact("rtx3060-driver570-dtdv12.xml"), LIMITS)[1]
    assert (result["status"], result["value"], result["threshold"]) == ("warn", 91.6, 90)
    [relaxed] = checks.vram_headroom([entry], _gpu_fact("rtx3060-driver570-dtdv12.xml"), dict(LIMITS, vram_need_warn_pct=95))[1]
    assert (relaxed["status"], relaxed["value"], relaxed["threshold"]) == ("ok", 91.6, 95)


def test_a_70b_model_split_over_two_cards_of_real_captures():
    # Llama 3.1 70B Q4_K_M, 8192 tokens, 80 layers, 8 KV heads, head dim 128:
    # weights 70e9 * 4.84 / 8 = 42 350 000 000; KV 8192 * 2*80*8*128*2 = 2 684 354 560; need 45 034 354 560 bytes.
    # Two 12 GiB RTX 3060s: 24576 MiB -> 174.8 %; one of them (gpus: [1]) -> 349.5 %.
    entry = dict(LLAMA_8B, model="llama3.1:70b", parameters_b=70, layers=80)
    fact = _gpu_fact("rtx3060-driver570-dtdv12.xml", "rtx3060-driver570-dtdv12.xml")
    estimates, results = checks.vram_headroom([entry, dict(entry, model="pinned", gpus=[1])], fact, LIMITS)
    assert [(e["need_bytes"], e["gpu_memory_mib"], e["gpus"]) for e in estimates] == [
        (45034354560, 24576, [0, 1]), (45034354560, 12288, [1])]
    assert [(r["status"], r["value"]) for r in results] == [("warn", 174.8), ("warn", 349.5)]
    assert "of the 24 GiB of GPU 0, 1 (warning at 90 %)" in results[0]["message"]


@pytest.mark.parametrize("changes, reason", [
    ({"parameters_b": None}, "parameters_b is not given"),
    ({"quantization": None}, "neither quantization nor bytes_per_weight is given"),
    ({"quantization": "IQ2_XXS"}, "quantization IQ2_XXS is not in the table (BF16, F16, F32, FP8, Q2_K, Q3_K_L, Q3_K_M, "
                                  "Q3_K_S, Q4_0, Q4_1, Q4_K_M, Q4_K_S, Q5_0, Q5_1, Q5_K_M, Q5_K_S, Q6_K, Q8_0); give "
                                  "bytes_per_weight instead"),
    ({"context_length": None}, "context_length is not given"),
    ({"context_length": "lots"}, "context_length is not a number ('lots')"),
    ({"head_dim": None}, "neither kv_bytes_per_token nor the KV cache's shape is given (head_dim missing)"),
    ({"kv_cache_type": "q5_1"}, "kv_cache_type q5_1 is not one of bf16, f16, f32, fp8, q4_0, q8_0"),
    ({"parameters_b": 0}, "parameters_b must be above 0 (0)"),
])
def test_a_manifest_entry_without_the_figures_is_unknown_naming_what_is_missing(changes, reason):
    entry = dict(LLAMA_8B, **changes)
    [estimate], [result] = checks.vram_headroom([entry], _gpu_fact("rtx3060-driver570-dtdv12.xml"), LIMITS)
    assert result["status"] == "unknown" and result["value"] is None
    assert result["message"] == ("could not look: the serving entry of llama3.1:8b lacks the figures for an estimate: "
                                 "%s: %s" % (reason, checks.FIX_VRAM_FIGURES))
    assert estimate["problems"] == [reason] and estimate["need_pct"] is None


@pytest.mark.parametrize("gpu_fact, gpus, reason", [
    (None, None, "no GPU facts were given (gpufleet_gpu: run gpu_facts or health_facts with the gpu area first)"),
    ({"nvidia": {"present": False, "reason": "NVML library libnvidia-ml.so.1 not found", "gpus": []}}, None,
     "gpufleet_gpu lists no GPU (NVML library libnvidia-ml.so.1 not found)"),
    ({"nvidia": {"gpus": [{"index": 0, "memory_total_mib": None}]}}, None, "the memory total of GPU 0 was not reported"),
    ({"nvidia": {"gpus": [{"index": 0, "memory_total_mib": 24564}]}}, [3], "GPU 3 is not among the GPUs read (0)"),
])
def test_no_gpu_memory_read_is_unknown_never_ok(gpu_fact, gpus, reason):
    [result] = checks.vram_headroom([dict(LLAMA_8B, gpus=gpus)], gpu_fact, LIMITS)[1]
    assert result["status"] == "unknown"
    assert result["message"] == ("could not look: llama3.1:8b needs about 5.5 GiB (weights 4.5 GiB + KV cache 1 GiB for "
                                 "8192 tokens), but no GPU memory to compare it with: %s: %s" % (reason, checks.FIX_VRAM_GPU))


def test_amd_cards_count_with_their_vram_total():
    # 5913741824 bytes against an AMD card of 16368 MiB (rocm-smi's VRAM Total Memory 17163091968 B) = 34.5 %
    fact = {"amd": {"gpus": [{"index": 0, "vram_total_mib": 16368}]}}
    [result] = checks.vram_headroom([LLAMA_8B], fact, LIMITS)[1]
    assert (result["status"], result["value"]) == ("ok", 34.5)


def test_the_fact_carries_the_estimates_and_no_serving_entries_means_no_check():
    observed = {"expected": [], "seen": [], "unlisted": []}
    plain = build_fact(observed, "m.json")
    assert "serving" not in plain and [c["check"] for c in plain["checks"]] == ["model_files"]
    fact = build_fact(observed, "m.json", serving=[dict(LLAMA_8B, context_length=65536)],
                      gpu_fact=_gpu_fact("rtx3060-driver570-dtdv12.xml"), thresholds={"vram_need_warn_pct": 90})
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("model_files", "ok"), ("vram_headroom", "warn")]
    assert fact["status"] == "warn" and fact["serving"][0]["need_bytes"] == 13429934592


def test_on_the_real_h200_a_70b_model_at_q8_0_with_a_long_context_fits(fixture_path):
    # device_h200/gpu-probe-load.json: NVML read memory_total_mib 143771 on a lent H200.
    # Llama 3.1 70B at Q8_0 (8.5 bits), 32768 tokens, 80 layers, 8 KV heads, head dim 128, f16 cache:
    # weights 70e9 * 8.5 / 8 = 74 375 000 000; KV 32768 * 327 680 = 10 737 418 240; need 85 112 418 240 bytes
    # = 85112418240 / (143771 * 2**20) = 56.5 %. At 131072 tokens: KV 42 949 672 960, need 117 324 672 960 = 77.8 %.
    with open(fixture_path("device_h200", "gpu-probe-load.json")) as handle:
        fact = {"nvidia": json.load(handle)["nvml"]["facts"]}
    entry = dict(LLAMA_8B, model="llama3.1:70b-q8_0", parameters_b=70, quantization="Q8_0", layers=80,
                 context_length=32768)
    estimates, results = checks.vram_headroom([entry, dict(entry, model="long", context_length=131072)], fact, LIMITS)
    assert [e["need_bytes"] for e in estimates] == [85112418240, 117324672960]
    assert [(r["status"], r["value"]) for r in results] == [("ok", 56.5), ("ok", 77.8)]
    assert results[0]["message"].endswith("56.5 % of the 140.4 GiB of GPU 0")
