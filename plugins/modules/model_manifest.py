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
