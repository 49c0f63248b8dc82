#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: model_updates_facts
short_description: Is there a newer version of the models this host runs (Ollama registry, Hugging Face Hub)?
version_added: 0.1.0
description:
  - Lists the local Ollama models (C(/api/tags) of O(ollama_url); from the manifests in O(ollama_models_dir) when
    the API does not answer) and asks the registry for each model's manifest (OCI distribution API,
    C(GET /v2/<namespace>/<model>/manifests/<tag>)). The local digest (the sha256 of the stored manifest, as
    C(/api/tags) gives it) is compared with the sha256 of the registry's manifest; when they differ, the
    config and layer digests of both manifests decide, since an Ollama before 0.19 stored the manifest
    re-serialised and its digest differs although nothing changed.
  - Compares each pinned Hugging Face revision - the cache files (C(models--org--name/snapshots/<commit>/...))
    in the model manifest O(model_manifest) written by M(gpufleet.maintenance.model_manifest), and
    O(hf_models) - with the branch on the Hub (C(GET /api/models/<repo>/revision/<branch>?blobs=true)). When the
    branch moved, each pinned file whose sha256 the manifest holds is compared with the file on the branch.
  - Check C(model_update_available) per model (subject C(model)) - C(warn) when a newer version is upstream,
    with both identifiers and "read the changelog before switching"; C(ok) when the registry serves the local
    version; C(unknown) (never C(ok)) when it could not be compared - a registry that cannot be reached, a model
    the registry does not have, a digest that differs when the local manifest cannot be read - with the reason
    and the fix. Check C(model_update_audit) says whether the local models could be listed. Nothing is pulled.
  - Sets the fact C(gpufleet_model_updates); the same area is gathered by M(gpufleet.maintenance.health_facts)
    (its C(model_updates) options).
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  ollama_url:
    description: The Ollama API of this host; an empty string for none (then only a store that exists is read).
    type: str
    default: http://127.0.0.1:11434
  ollama_models_dir:
    description:
      - Ollama's store (its C(OLLAMA_MODELS)), whose manifests give the layers of each local model.
      - The Linux install's default; C(~/.ollama/models) for a user install.
    type: path
    default: /usr/share/ollama/.ollama/models
  ollama_registry:
    description:
      - The registry of models named without a host. Models named with their own host (C(hf.co/org/repo:tag)) are
        asked at C(https://<host>).
    type: str
    default: https://registry.ollama.ai
  model_manifest:
    description: A model manifest of M(gpufleet.maintenance.model_manifest); its Hugging Face cache files are the pins.
    type: path
  hf_models:
    description: Hugging Face revisions pinned by hand (a vLLM C(--revision)), besides the model manifest's.
    type: list
    elements: dict
    default: []
    suboptions:
      repo:
        description: The repo id, C(org/name).
        type: str
        required: true
      revision:
        description: The commit downloaded (40 hex digits).
        type: str
        required: true
      branch:
        description: The branch it follows.
        type: str
        default: main
      files:
        description: The files used (compared by content when the branch moved; without their sha256 a moved branch is an update).
        type: list
        elements: str
        default: []
  hf_endpoint:
    description: The Hugging Face Hub (a mirror's URL works the same).
    type: str
    default: https://huggingface.co
  hf_token_file:
    description:
      - A file holding a Hub token, for gated or private repos (C(huggingface-cli login) writes
        C(~/.cache/huggingface/token)). The token stays on the host, out of the task's arguments.
    type: path
  exclude:
    description: Models not to compare (created locally with C(ollama create), or with no upstream).
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds each request may take (at least 1).
    type: int
    default: 20
seealso:
  - module: gpufleet.maintenance.image_digest
  - module: gpufleet.maintenance.model_manifest
  - name: Models and model runners
    description: docs/models.md in this collection (the weekly model update check).
    link: https://example.invalid/gpufleet/maintenance/docs/models.md
"""

EXAMPLES = r"""
- name: Weekly - is there a newer version of the models this host runs? (read the changelog before switching)
  gpufleet.maintenance.model_updates_facts:
    model_manifest: /var/lib/gpufleet/models.json
    exclude: [mario:latest]
  become: true

- name: A vLLM host pinned to a revision by hand
  gpufleet.maintenance.model_updates_facts:
    ollama_url: ""
    hf_models:
      - repo: Qwen/Qwen2.5-7B-Instruct
        revision: a09a35458c702b33eeacc393d103063234e8bc28
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_model_updates:
      description:
        - C(ollama) (C(url), C(models_dir), C(listed_from) - C(api) or C(store) - C(api_error), C(store_error)),
          C(huggingface) (C(model_manifest), C(pins), C(endpoint)), C(models) (per model - C(name), C(source),
          C(registry), C(local), C(remote), C(remote_header_digest), C(update_available) - C(null) when not compared -,
          C(note), C(changed), C(error)), C(problems), C(excluded), C(checks), C(status).
      returned: always
      type: dict
      sample:
        schema_version: 1
        models:
          - name: llama3.2:latest
            source: ollama
            local: sha256:a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72
            remote: sha256:b9d1e3c2...
            update_available: true
            note: the registry's manifest names 1 new layer(s)
        checks:
          - check: model_update_available
            status: warn
            subject: {model: llama3.2:latest}
            message: "llama3.2:latest: the registry now serves sha256:b9d1... (local sha256:a80c...): ...: read the changelog
              before switching; ..."
        status: warn
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.model_updates import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
