#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: model_manifest
short_description: Write and verify manifests (size, sha256) of model files, Hugging Face caches and Ollama stores
version_added: 0.1.0
description:
  - O(mode=scan) writes a manifest of the model artefacts under O(roots) (GGUF, safetensors and other
    weight files, Hugging Face cache snapshots, and Ollama's store (C(models/blobs/sha256-...) files and
    the model:tag to blob digests of C(models/manifests/...))).
  - O(mode=verify) compares the files with the manifest and reports missing, extra, size and checksum
    mismatches, and Ollama blobs whose content does not hash to the digest in their own name, each with
    the fix. Sets the fact C(gpufleet_models) with checks.
  - With serving entries (O(serving), or the manifest's own C(serving) list), O(mode=verify) also estimates the GPU
    memory each served model needs - weights (parameters times bytes per weight of its quantization) plus the KV
    cache of its context - and compares it with the GPUs' total memory from O(gpu_facts) (check C(vram_headroom)).
    O(mode=scan) writes the entries into the manifest, and keeps the manifest's own when O(serving) is not given.
  - Hashing hundreds of GB every day is avoided by a cache keyed on (device, inode, size, mtime); an
    unchanged file is not read again unless O(full=true). O(max_bytes_per_run) caps the bytes hashed per
    run; the files hashed longest ago go first, so a full re-hash spreads over several runs.
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Files are read and hashed, but neither the manifest nor the cache is written.
  diff_mode:
    support: full
    description: O(mode=scan) shows the manifest before and after.
options:
  roots:
    description: Directories holding models (for example C(/srv/models), C(/usr/share/ollama/.ollama/models), C(~/.cache/huggingface/hub)).
    type: list
    elements: path
    required: true
  mode:
    description: C(scan) writes the manifest, C(verify) checks the files against it.
    type: str
    choices: [scan, verify]
    default: verify
  manifest:
    description: The manifest file (JSON).
    type: path
    required: true
  cache:
    description: The hash cache file; default C(<manifest>.hashcache.json). A missing or broken cache only costs a re-hash (with a warning).
    type: path
  full:
    description: Hash every file, ignoring the cache.
    type: bool
    default: false
  max_bytes_per_run:
    description:
      - Hash at most this many bytes in this run (files beyond it are deferred, not failed); C(0) means no limit.
      - A deferred file that was hashed before in the same state is not reported; one that never was is C(unknown).
      - A negative value fails, naming the option.
    type: int
    default: 0
  serving:
    description:
      - What the runners load, one entry per served model, for the VRAM estimate (check C(vram_headroom)).
      - O(mode=scan) writes them into the manifest (key C(serving)); when not given, a scan keeps the manifest's own
        and O(mode=verify) judges the manifest's own. Missing figures make the model's check C(unknown).
      - The estimate is C(parameters_b * 1e9 * bits per weight / 8) for the weights plus
        C(context_length * 2 * layers * kv_heads * head_dim * bytes per cached value) for the KV cache; the table of
        quantizations and its sources is in docs/models.md.
    type: list
    elements: dict
    suboptions:
      model:
        description: The model's name as its runner knows it (an Ollama C(model:tag), a file name); the check's subject.
        type: str
        required: true
      parameters_b:
        description: Parameters, in billions (C(8.03) for Llama 3.1 8B).
        type: float
      quantization:
        description:
          - Weight type, to look up the bits per weight - C(F32), C(F16), C(BF16), C(FP8), C(Q8_0), C(Q6_K), C(Q5_K_M),
            C(Q5_K_S), C(Q5_1), C(Q5_0), C(Q4_K_M), C(Q4_K_S), C(Q4_1), C(Q4_0), C(Q3_K_L), C(Q3_K_M), C(Q3_K_S),
            C(Q2_K) (any case). Another type needs O(serving[].bytes_per_weight).
        type: str
      bytes_per_weight:
        description: Bytes per weight; overrides O(serving[].quantization).
        type: float
      context_length:
        description: Tokens the runner allocates a KV cache for (Ollama C(num_ctx) times C(OLLAMA_NUM_PARALLEL), llama.cpp C(-c), vLLM C(--max-model-len)).
        type: int
      layers:
        description: Transformer layers (C(block_count) in the GGUF metadata, C(num_hidden_layers) in C(config.json)).
        type: int
      kv_heads:
        description: Key/value heads (C(attention.head_count_kv), C(num_key_value_heads)).
        type: int
      head_dim:
        description: Dimension of one head (C(attention.key_length), C(head_dim), else hidden size / attention heads).
        type: int
      kv_cache_type:
        description: Type of the cached values - C(f16) when not given, C(bf16), C(f32), C(fp8), C(q8_0), C(q4_0).
        type: str
      kv_bytes_per_token:
        description: KV cache bytes per token of context; overrides the shape (O(serving[].layers), ...).
        type: float
      gpus:
        description: Indices of the GPUs the model is split over; all of the host's GPUs when not given.
        type: list
        elements: int
  gpu_facts:
    description:
      - The C(gpufleet_gpu) fact of a M(gpufleet.maintenance.gpu_facts) or M(gpufleet.maintenance.health_facts) run,
        for the GPUs' total memory (C(memory_total_mib), AMD C(vram_total_mib)). Without it C(vram_headroom) is C(unknown).
    type: dict
  thresholds:
    description: Overrides for the default thresholds; unknown keys are refused.
    type: dict
    default: {}
    suboptions:
      vram_need_warn_pct:
        description:
          - Weights plus KV cache as a share of the GPUs' memory that gives a warning; the rest is the margin for what the
            estimate leaves out (CUDA context, the runner's compute buffers).
        type: float
        default: 90
  rehash_days:
    description:
      - In C(verify) mode, read again a file whose cached hash is older than this many days, although its
        size and mtime did not change. Bit rot changes the bytes and nothing else, so only a re-read finds it;
        with the monthly verify and the default every file is read again about once a quarter.
      - C(0) trusts the cache for unchanged files forever. A negative value fails, naming the option.
    type: int
    default: 90
  now:
    description:
      - The time of this run in Unix seconds (when files were hashed, and the age of cached hashes). Default
        the host's clock; the monthly playbook passes C(gpufleet_now) when a replay of a simulated timeline sets it.
    type: int
"""

EXAMPLES = r"""
- name: Record today's models
  gpufleet.maintenance.model_manifest:
    roots: [/srv/models, /usr/share/ollama/.ollama/models]
    manifest: /var/lib/gpufleet/models.manifest.json
    mode: scan

- name: Verify them, re-hashing at most 50 GB per run
  gpufleet.maintenance.model_manifest:
    roots: [/srv/models, /usr/share/ollama/.ollama/models]
    manifest: /var/lib/gpufleet/models.manifest.json
    max_bytes_per_run: 50000000000

- name: Read the GPUs
  gpufleet.maintenance.gpu_facts:

- name: Verify, and whether the served model fits in the GPU memory with its context
  gpufleet.maintenance.model_manifest:
    roots: [/usr/share/ollama/.ollama/models]
    manifest: /var/lib/gpufleet/models.manifest.json
    gpu_facts: "{{ ansible_facts.gpufleet_gpu }}"
    serving:
      - model: llama3.1:8b
        parameters_b: 8.03
        quantization: Q4_K_M
        context_length: 8192
        layers: 32
        kv_heads: 8
        head_dim: 128
"""

RETURN = r"""
manifest:
  description: The manifest (mode scan).
  returned: mode scan
  type: dict
hashed_bytes:
  description: Bytes read and hashed in this run (cache hits are not read).
  returned: always
  type: int
  sample: 4815162342
hashed_files:
  description: Files hashed in this run.
  returned: always
  type: int
  sample: 3
ansible_facts:
  description:
    - C(gpufleet_models) (mode verify) with C(manifest), C(files_checked), C(problems) (per file C(problem), C(path),
      C(detail), C(fix)), C(checks) and C(status).
    - Checks C(model_file) per file with a problem (subject C(path)) - C(crit) for C(missing), C(size_mismatch),
      C(checksum_mismatch) and C(blob_digest_mismatch), C(warn) for C(extra), C(unknown) for a file or directory that
      could not be read and for a file deferred by O(max_bytes_per_run) that was never hashed in its current state -
      or one C(model_files) (C(ok), how many files match) when there is none.
    - With serving entries, C(serving) (per entry C(model), C(weights_bytes), C(kv_cache_bytes), C(need_bytes),
      C(gpu_memory_mib), C(gpus), C(need_pct), or C(problems) when the entry lacks figures) and one C(vram_headroom)
      check per entry (subject C(model)) - C(warn) when the estimate reaches O(thresholds.vram_need_warn_pct) of the
      GPUs' memory, C(unknown) when the entry lacks figures or no GPU memory was read.
  returned: mode verify
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import model_manifest


def main():
    module = AnsibleModule(argument_spec=AREA.argument_spec(), supports_check_mode=True)
    try:
        result, warnings = model_manifest.run(module.params, check_mode=module.check_mode, diff=module._diff)
    except model_manifest.ManifestError as exc:
        module.fail_json(msg=str(exc))
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
