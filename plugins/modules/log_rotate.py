#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: log_rotate
short_description: Compress old runner logs (JSONL audit logs, server logs) in place
version_added: 0.1.0
description:
  - Finds files under O(paths) that match O(patterns) and were last written more than O(age_days)
    days ago, and gzips each in place (C(x.jsonl) becomes C(x.jsonl.gz), modification time kept).
  - Plans first; check mode returns the plan, diff mode lists the files; the original is removed
    only after its compressed copy is complete.
  - Directories that do not exist are reported in RV(missing), not failed.
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Returns the plan (the files that would be compressed) without compressing.
  diff_mode:
    support: full
    description: The diff lists the files before (uncompressed) and after (compressed).
options:
  paths:
    description: Directories searched recursively.
    type: list
    elements: path
    required: true
  patterns:
    description: Shell patterns of file names to compress.
    type: list
    elements: str
    default: ["*.jsonl", "*.log"]
  age_days:
    description: Only files last written more than this many days ago are compressed.
    type: float
    default: 30
"""

EXAMPLES = r"""
- name: Compress audit logs older than 30 days
  gpufleet.maintenance.log_rotate:
    paths:
      - /var/log/llm-audit
    patterns:
      - "*.jsonl"
    age_days: 30
"""

RETURN = r"""
rotated:
  description: The files compressed (or, in check mode, to be compressed).
  returned: always
  type: list
  elements: dict
  sample: [{path: /var/log/llm-audit/2026-10-01.jsonl, dest: /var/log/llm-audit/2026-10-01.jsonl.gz, size_bytes: 1048576, age_days: 56.0}]
missing:
  description: Directories of O(paths) that do not exist on the host.
  returned: always
  type: list
  elements: str
  sample: [/var/log/llm-audit]
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._logrotate import apply, diff, plan


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", required=True),
            patterns=dict(type="list", elements="str", default=["*.jsonl", "*.log"]),
            age_days=dict(type="float", default=30),
        ),
        supports_check_mode=True,
    )
    if module.params["age_days"] < 0:
        module.fail_json(msg="age_days must be >= 0, got %s" % module.params["age_days"])
    actions, missing = plan(module.params["paths"], module.params["patterns"], module.params["age_days"], time.time())
    result = dict(changed=bool(actions), rotated=actions, missing=missing)
    if module._diff:
        result["diff"] = diff(actions)
    if actions and not module.check_mode:
        errors = apply(actions)
        if errors:
            module.fail_json(msg="compressing old logs: %s" % "; ".join(errors), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
