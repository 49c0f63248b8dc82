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
    (modification time), keeping their modification time, and deletes files (compressed or not)
    older than O(delete_days).
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
    description: Age in days after which a file is compressed.
    type: int
    default: 30
  delete_days:
    description: Age in days after which a file is deleted; unset keeps compressed files forever.
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
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.gpufleet.maintenance.plugins.module_utils._logrotate import compress, find, open_files, plan


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", required=True),
            patterns=dict(type="list", elements="str", default=["*.jsonl", "*.log"]),
            compress_days=dict(type="int", default=30),
            delete_days=dict(type="int"),
            recurse=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["delete_days"] is not None and params["delete_days"] < params["compress_days"]:
        module.fail_json(msg="delete_days (%s) must not be below compress_days (%s)" % (params["delete_days"], params["compress_days"]))
    paths = [p for p in params["paths"] if os.path.isdir(p)]
    missing = sorted(set(params["paths"]) - set(paths))
    for path in missing:
        module.warn("log directory %s does not exist; skipped" % path)
    files = []
    for path in find(paths, params["patterns"], params["recurse"]):
        try:
            stat = os.stat(path)
        except OSError:
            continue
        files.append({"path": path, "mtime": stat.st_mtime, "size_bytes": stat.st_size})
    actions = plan(files, time.time(), params["compress_days"], params["delete_days"], held=open_files())
    todo = [a for a in actions if a["action"] != "skip"]
    freed = 0
    if not module.check_mode:
        for action in todo:
            try:
                if action["action"] == "delete":
                    os.unlink(action["path"])
                    freed += action["size_bytes"]
                else:
                    freed += action["size_bytes"] - compress(action["path"])
            except (IOError, OSError) as exc:
                module.fail_json(msg="rotating logs: %s %s: %s" % (action["action"], action["path"], to_native(exc)),
                                 actions=actions, freed_bytes=freed)
    result = dict(changed=bool(todo), actions=actions, freed_bytes=freed, missing_paths=missing)
    if todo and module._diff:
        result["diff"] = dict(
            before="\n".join(a["path"] for a in todo) + "\n",
            after="\n".join(a["path"] + ".gz" for a in todo if a["action"] == "compress") + "\n")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
