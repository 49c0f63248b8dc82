#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: log_rotate
short_description: Gzip old runner and audit logs (JSONL, .log) and delete them after a retention
version_added: 0.1.0
description:
  - Compresses files matching O(patterns) under O(paths) once they are older than O(compress_days)
    (modification time), keeping their permissions and modification time (the C(.gz) appears whole,
    written to a temporary and renamed), and deletes files (compressed or not) older than O(delete_days).
  - Never touches a file that a running process holds open (read from C(/proc/*/fd)).
  - Idempotent, a second run finds nothing to do.
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Returns the plan without acting.
  diff_mode:
    support: full
    description: The plan as a diff (files before and after).
options:
  paths:
    description: Directories to look in.
    type: list
    elements: path
    required: true
  patterns:
    description: File name patterns (shell globs); C(<pattern>.gz) files are matched for deletion too.
    type: list
    elements: str
    default: ["*.jsonl", "*.log"]
  compress_days:
    description: Age in days after which a file is compressed (at least 0).
    type: int
    default: 30
  delete_days:
    description:
      - Age in days after which a file is deleted; unset keeps compressed files forever.
      - At least 0, and not below O(compress_days).
    type: int
  recurse:
    description: Descend into subdirectories.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Compress LLM audit logs after 30 days, delete after a year
  gpufleet.maintenance.log_rotate:
    paths: [/var/log/llm-audit]
    compress_days: 30
    delete_days: 365
"""

RETURN = r"""
actions:
  description: What was (or, in check mode, would be) done per file.
  returned: always
  type: list
  elements: dict
  sample: [{action: compress, path: /var/log/llm-audit/2026-10-01.jsonl, age_days: 56.0, size_bytes: 1048576}]
freed_bytes:
  description: Bytes freed (deleted files, and the difference of compressed ones).
  returned: always
  type: int
missing_paths:
  description: The O(paths) that do not exist (skipped, with a warning).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import log_rotate


def main():
    module = AnsibleModule(argument_spec=log_rotate.ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result, warnings = log_rotate.run(module.params, check_mode=module.check_mode, diff=module._diff)
    except log_rotate.RotateError as exc:
        module.fail_json(msg=str(exc), **exc.results)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
