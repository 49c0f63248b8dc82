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
    description: The hash cache file; default C(<manifest>.hashcache.json).
    type: path
  full:
    description: Hash every file, ignoring the cache.
    type: bool
    default: false
  max_bytes_per_run:
    description: Hash at most this many bytes in this run (files beyond it are deferred, not failed); C(0) means no limit.
    type: int
    default: 0
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
  description: C(gpufleet_models) (mode verify) with C(files_checked), C(problems), C(checks), C(status).
  returned: mode verify
  type: dict
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.gpufleet.maintenance.plugins.module_utils._model_store import HashCache, scan, verify


def _read_json(module, path, what):
    try:
        with open(path, "r") as handle:
            return json.load(handle)
    except (IOError, OSError) as exc:
        module.fail_json(msg="reading the %s %s: %s" % (what, path, to_native(exc)))
    except ValueError as exc:
        module.fail_json(msg="the %s %s is not valid JSON: %s" % (what, path, to_native(exc)))


def _write_atomic(module, path, text):
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".gpufleet-", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.rename(tmp, path)
    except (IOError, OSError) as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        module.fail_json(msg="writing %s: %s" % (path, to_native(exc)))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            roots=dict(type="list", elements="path", required=True),
            mode=dict(type="str", choices=["scan", "verify"], default="verify"),
            manifest=dict(type="path", required=True),
            cache=dict(type="path"),
            full=dict(type="bool", default=False),
            max_bytes_per_run=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for root in params["roots"]:
        if not os.path.isdir(root):
            module.fail_json(msg="model store %s does not exist or is not a directory" % root)
    if not os.path.isdir(os.path.dirname(params["manifest"]) or "."):
        module.fail_json(msg="the directory of the manifest %s does not exist" % params["manifest"])
    cache_path = params["cache"] or params["manifest"] + ".hashcache.json"
    cache = HashCache(_read_json(module, cache_path, "hash cache") if os.path.exists(cache_path) else {})
    max_bytes = params["max_bytes_per_run"] or None

    if params["mode"] == "scan":
        manifest, warnings = scan(params["roots"], cache, full=params["full"], max_bytes=max_bytes)
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        before = ""
        if os.path.exists(params["manifest"]):
            with open(params["manifest"], "r") as handle:
                before = handle.read()
        changed = text != before
        result = dict(changed=changed, manifest=manifest)
        if changed and module._diff:
            result["diff"] = dict(before=before, after=text, before_header=params["manifest"], after_header=params["manifest"])
        if changed and not module.check_mode:
            _write_atomic(module, params["manifest"], text)
    else:
        if not os.path.exists(params["manifest"]):
            module.fail_json(msg="no manifest at %s: run model_manifest with mode=scan first" % params["manifest"])
        manifest = _read_json(module, params["manifest"], "manifest")
        facts, warnings = verify(manifest, params["roots"], cache, full=params["full"], max_bytes=max_bytes)
        facts.update(schema_version=1, manifest=params["manifest"])
        result = dict(changed=False, ansible_facts={"gpufleet_models": facts})
    if cache.hashed_files and not module.check_mode:
        _write_atomic(module, cache_path, json.dumps(cache.entries, sort_keys=True))
    for warning in warnings:
        module.warn(warning)
    result.update(hashed_bytes=cache.hashed_bytes, hashed_files=cache.hashed_files)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
