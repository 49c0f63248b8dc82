# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``models`` (fact ``gpufleet_models``), set by the operation module ``model_manifest``.

Not gathered by ``health_facts`` (no collector): ``_ops/model_manifest.py`` reads the manifest and
the stores (``collect.observe``), then :func:`build_fact` judges what it read into the fact.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import checks, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading

AREA = Area(
    "models", "models",
    summary="model files (GGUF, safetensors, Hugging Face caches, Ollama blobs) against their manifest of sizes and sha256",
    module="model_manifest",
    options=dict(
        roots=dict(type="list", elements="path", required=True),
        mode=dict(type="str", choices=["scan", "verify"], default="verify"),
        manifest=dict(type="path", required=True),
        cache=dict(type="path"),
        full=dict(type="bool", default=False),
        max_bytes_per_run=dict(type="int", default=0),
        serving=dict(type="list", elements="dict", options=dict(
            model=dict(type="str", required=True),
            parameters_b=dict(type="float"),
            quantization=dict(type="str"),
            bytes_per_weight=dict(type="float"),
            context_length=dict(type="int"),
            layers=dict(type="int"),
            kv_heads=dict(type="int"),
            head_dim=dict(type="int"),
            kv_cache_type=dict(type="str"),
            kv_bytes_per_token=dict(type="float", no_log=False),  # bytes of KV cache per token of context, not a secret
            gpus=dict(type="list", elements="int"),
        )),
        gpu_facts=dict(type="dict"),
        rehash_days=dict(type="int", default=90),
        now=dict(type="int"),
    ),
    ranges={"max_bytes_per_run": (0, None), "rehash_days": (0, None)},
    checks=checks.CHECKS,
    present=present.summary_lines,
    metrics=present.metrics,
    readings=(Reading("files_checked"),),
)


def build_fact(observed, manifest_path, serving=None, gpu_fact=None, thresholds=None):
    """The ``gpufleet_models`` fact from what ``collect.observe`` read.

    With ``serving`` entries, each is estimated (``serving[]`` of the fact) and judged against the GPU
    memory in ``gpu_fact`` (``gpufleet_gpu``) by ``vram_headroom``.
    """
    found, checked = checks.problems(observed)
    fact = {"schema_version": AREA.schema_version, "manifest": manifest_path, "files_checked": checked, "problems": found}
    results = checks.evaluate(fact)
    if serving:
        fact["serving"], more = checks.vram_headroom(serving, gpu_fact, checks.CHECKS.merged(thresholds))
        results.extend(more)
    fact.update(checks=results, status=worst_status(results))
    return fact
