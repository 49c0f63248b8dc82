# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``model_updates`` (fact ``gpufleet_model_updates``): is there a newer version of the models this
host runs? Ollama models against their registry's manifest, pinned Hugging Face revisions against the
Hub's branch. Weekly; nothing is pulled."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.model_updates import checks, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area

DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
DEFAULT_OLLAMA_MODELS_DIR = "/usr/share/ollama/.ollama/models"   # the Linux install's OLLAMA_MODELS
DEFAULT_OLLAMA_REGISTRY = "https://registry.ollama.ai"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
_URL_OPTIONS = ("ollama_url", "ollama_registry", "hf_endpoint")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def check_options(params):
    """URLs that are http(s), pinned revisions that are commits (a branch name is no pin)."""
    problems = []
    for name in _URL_OPTIONS:
        value = params.get(name)
        if value and not re.match(r"^https?://[^/\s]+", value):
            problems.append("%s must be an http:// or https:// URL, got %r" % (name, value))
    for number, pin in enumerate(params.get("hf_models") or [], 1):
        if not _COMMIT.match(str(pin.get("revision") or "")):
            problems.append("hf_models entry %d (%s): revision must be the 40-hex commit downloaded, got %r"
                            % (number, pin.get("repo"), pin.get("revision")))
    return problems


AREA = Area(
    "model_updates", "model updates",
    summary="newer versions upstream of the Ollama models and pinned Hugging Face repos a host runs",
    module="model_updates_facts",
    options=dict(
        ollama_url=dict(type="str", default=DEFAULT_OLLAMA_URL),
        ollama_models_dir=dict(type="path", default=DEFAULT_OLLAMA_MODELS_DIR),
        ollama_registry=dict(type="str", default=DEFAULT_OLLAMA_REGISTRY),
        model_manifest=dict(type="path"),
        hf_models=dict(type="list", elements="dict", default=[], options=dict(
            repo=dict(type="str", required=True),
            revision=dict(type="str", required=True),
            branch=dict(type="str", default="main"),
            files=dict(type="list", elements="str", default=[]),
        )),
        hf_endpoint=dict(type="str", default=DEFAULT_HF_ENDPOINT),
        hf_token_file=dict(type="path"),
        exclude=dict(type="list", elements="str", default=[]),
        timeout=dict(type="int", default=20),
    ),
    ranges={"timeout": (1, None)},
    check_options=check_options,
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    metrics=present.metrics,
    readings=(),  # no numeric readings: digests, commits and statuses
)
