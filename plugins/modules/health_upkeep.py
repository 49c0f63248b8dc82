#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: health_upkeep
short_description: Gather health fact areas, probe the LLM, restart on VRAM exhaustion and rotate logs in one module run
version_added: 0.2.0
description:
  - Gathers the health areas of a host as M(gpufleet.maintenance.health_facts) does (same options, same
    facts), then, each only when its option is given, probes the LLM endpoint as the benchmark role's
    health mode does (O(llm)), restarts the inference service when VRAM stays exhausted as
    M(gpufleet.maintenance.vram_guard) does (O(vram_restart), with the GPU reading just gathered) and
    compresses and deletes old logs as M(gpufleet.maintenance.log_rotate) does (O(log_rotate)), in the
    same process, so a cadence pays one round trip per host for all of them (the daily cadence;
    docs/fleet.md, Scale).
  - M(gpufleet.maintenance.health_facts) stays the read-only module for the areas alone; this one can
    change the host (the log rotation), so it is not a C(_facts) module.
  - Every option is checked before anything is read or changed. An area limited to its platform
    (C(only_on_wsl), C(only_on_macos) or C(only_on_proxmox) set to C(true) in its dict) is first asked whether
    this host can be that platform; on a host that is certainly not (the kernel string of C(/proc/version) not
    WSL's, the kernel name not C(Darwin), neither C(/etc/pve) nor QEMU/KVM DMI strings) it reads nothing more,
    its fact is C(null) and its other options are not checked on that host.
  - The areas are gathered first; when a
    later step (the probe, the restart, the rotation) then fails the task fails, and the failure result still carries C(ansible_facts), which the
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
    description: The areas are read and the LLM probed as always (the probe changes nothing); the VRAM restart
      and the log rotation return their plan without acting.
  diff_mode:
    support: full
    description: The files the rotation compresses or deletes, before and after (as M(gpufleet.maintenance.log_rotate)).
  facts:
    support: full
    description: Sets one namespaced fact per area (see RETURN), as M(gpufleet.maintenance.health_facts).
options:
  llm:
    description:
      - Probe an LLM endpoint once with a short prompt after the areas are gathered (the daily's C(llm) area)
        and set C(gpufleet_benchmark) in mode C(health), as the benchmark role's health mode does.
      - The options of M(gpufleet.maintenance.llm_probe) (O(gpufleet.maintenance.llm_probe#module:endpoint),
        C(model), C(prompts), C(repeats), C(timeout_s), C(thresholds) ...), checked by its argument spec; an
        empty C(model) is refused. C(gpu_busy_pct) and the C(gpu) and C(driver) of C(context) come from the
        C(gpufleet_gpu) fact of this run when the C(gpu) area is gathered and they are not given.
      - The probe runs in check mode too (it changes nothing on the runner).
      - Not given, or an empty dict, no endpoint is probed.
    type: dict
    version_added: 0.2.0
  vram_restart:
    description:
      - Restart the inference service when a GPU's VRAM stays at or above the threshold across two readings,
        after the areas are gathered, and set C(gpufleet_vram_guard), as M(gpufleet.maintenance.vram_guard) does
        (the daily's C(gpufleet_restart_on_vram_exhaustion)).
      - The options of M(gpufleet.maintenance.vram_guard) (C(threshold_pct), C(recheck_s), C(services) ...),
        checked by its argument spec; without C(first_reading) the C(gpufleet_gpu) fact of this run is the first
        reading, so the GPUs are read again only when it is exhausted.
      - Not given, or an empty dict, nothing is restarted.
    type: dict
    version_added: 0.2.0
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
  - module: gpufleet.maintenance.llm_probe
  - module: gpufleet.maintenance.vram_guard
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
  description:
    - One fact per area, as the single-area modules set them; C(gpufleet_benchmark) with O(llm) and
      C(gpufleet_vram_guard) with O(vram_restart).
  returned: always
  type: dict
  sample: {gpufleet_host: {status: ok}, gpufleet_gpu: {status: ok}}
seconds:
  description: Time each area took on the host, and C(llm), C(vram_restart) and C(log_rotate) their steps'.
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
