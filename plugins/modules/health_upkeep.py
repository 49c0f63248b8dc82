#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: health_upkeep
short_description: Gather health fact areas and rotate logs in one module run
version_added: 0.2.0
description:
  - Gathers the health areas of a host as M(gpufleet.maintenance.health_facts) does (same options, same
    facts), then, when O(log_rotate) is given, compresses and deletes old logs as
    M(gpufleet.maintenance.log_rotate) does, in the same process, so a cadence pays one round trip per
    host for both (the daily cadence; docs/performance.md, Fleet scale).
  - M(gpufleet.maintenance.health_facts) stays the read-only module for the areas alone; this one can
    change the host (the log rotation), so it is not a C(_facts) module.
  - Every option is checked before anything is read or changed. The areas are gathered first; when the
    rotation then fails the task fails, and the failure result still carries C(ansible_facts), which the
    cadences' rescue (P(gpufleet.maintenance.fleet_report#role) C(tasks_from=step_failed)) keeps for the
    report.
  - The role P(gpufleet.maintenance.host_health#role) uses this module for its areas.
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.health_areas
attributes:
  check_mode:
    support: full
    description: The areas are read as always; the log rotation returns its plan without acting.
  diff_mode:
    support: full
    description: The files the rotation compresses or deletes, before and after (as M(gpufleet.maintenance.log_rotate)).
  facts:
    support: full
    description: Sets one namespaced fact per area (see RETURN), as M(gpufleet.maintenance.health_facts).
options:
  log_rotate:
    description:
      - Rotate logs after the areas are gathered, with the options of M(gpufleet.maintenance.log_rotate).
      - Not given, nothing on the host is changed.
    type: dict
    suboptions:
      paths:
        description: Directories to look in; one that does not exist is skipped with a warning.
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
        description: Age in days after which a file is deleted; unset keeps compressed files forever. Not below O(log_rotate.compress_days).
        type: int
      recurse:
        description: Descend into subdirectories.
        type: bool
        default: true
notes:
  - Every check has the shape C({check, subject, status, value, threshold, message}); C(status) is
    C(ok), C(warn), C(crit) or C(unknown) (could not look; the message says why and how to fix it).
    See M(gpufleet.maintenance.health_facts) and the single-area modules for each area's fact.
seealso:
  - module: gpufleet.maintenance.health_facts
  - module: gpufleet.maintenance.log_rotate
"""

EXAMPLES = r"""
- name: The daily glance and the audit-log rotation in one round trip
  gpufleet.maintenance.health_upkeep:
    areas: [host, gpu, driver_stack, docker]
    host:
      paths: [/, /var/lib/ollama]
    log_rotate:
      paths: [/var/log/llm-audit]
      compress_days: 30
      delete_days: 365
"""

RETURN = r"""
ansible_facts:
  description: One fact per area, as the single-area modules set them.
  returned: always
  type: dict
  sample: {gpufleet_host: {status: ok}, gpufleet_gpu: {status: ok}}
seconds:
  description: Time each area took on the host, and C(log_rotate) the rotation's.
  returned: always
  type: dict
  sample: {host: 0.004, gpu: 0.112, log_rotate: 0.002}
log_rotate:
  description:
    - What the rotation did (or, in check mode, would do), as M(gpufleet.maintenance.log_rotate) returns it
      (C(actions), C(freed_bytes), C(missing_paths)); V(null) when O(log_rotate) was not given.
  returned: always
  type: dict
  sample: {actions: [{action: compress, path: /var/log/llm-audit/2026-10-01.jsonl, age_days: 56.0, size_bytes: 1048576}],
           freed_bytes: 1000000, missing_paths: []}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import health_upkeep


def main():
    module = AnsibleModule(argument_spec=health_upkeep.argument_spec(), supports_check_mode=True)
    try:
        result, warnings = health_upkeep.run(module.run_command, module.params, check_mode=module.check_mode, diff=module._diff)
    except health_upkeep.UpkeepError as exc:
        module.fail_json(msg=str(exc), **exc.results)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
