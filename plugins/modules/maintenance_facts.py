#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: maintenance_facts
short_description: Cadence upkeep facts (journal and log review, BIOS and microcode, OS auto-update window)
version_added: 0.1.0
description:
  - Returns one fact, C(gpufleet_maintenance), with the parts asked for in O(collect) and their checks.
  - C(journal) counts error, timeout, out-of-memory and NVIDIA Xid lines in the systemd journal
    since O(since_s) and in the runner logs under O(log_paths) written since then.
  - C(firmware) reads the BIOS vendor, version and date (C(/sys/class/dmi/id), else C(dmidecode))
    and the CPU microcode revision (C(/proc/cpuinfo)); absent data is C(null) with a reason.
  - C(autoupdate) reads C(apt-config dump) and the apt timers (unattended upgrades, automatic
    reboots, whether the driver stack is kept out of them, and the upgrade window).
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  collect:
    description: The parts to gather.
    type: list
    elements: str
    choices: [journal, firmware, autoupdate]
    default: [journal, firmware, autoupdate]
  since_s:
    description:
      - Epoch seconds from which journal entries and log files count (the last run of the cadence).
        Default one week ago.
    type: int
  log_paths:
    description: Runner log files or directories reviewed with the journal.
    type: list
    elements: path
    default: []
  thresholds:
    description: Overrides for the default thresholds; unknown keys are refused.
    type: dict
    default: {}
    suboptions:
      journal_errors_warn:
        description: Error lines that give a warning.
        type: int
        default: 50
      journal_timeouts_warn:
        description: Timeout lines that give a warning.
        type: int
        default: 10
      journal_oom_warn:
        description: Out-of-memory lines that give a warning.
        type: int
        default: 1
      journal_xid_crit:
        description: NVIDIA Xid lines that are critical.
        type: int
        default: 1
      bios_age_warn_days:
        description: BIOS release age (days) that gives a warning.
        type: int
        default: 1095
seealso:
  - name: Cadence playbooks
    description: docs/cadence.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/cadence.md
"""

EXAMPLES = r"""
- name: Weekly error-log review since the last weekly run
  gpufleet.maintenance.maintenance_facts:
    collect: [journal]
    since_s: "{{ (now(utc=true).timestamp() - 7 * 86400) | int }}"
    log_paths: [/var/log/ollama]

- name: Quarterly firmware and auto-update window
  gpufleet.maintenance.maintenance_facts:
    collect: [firmware, autoupdate]
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_maintenance:
      description: The parts gathered, their checks and the worst status.
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this fact's layout.
          type: int
          sample: 1
        journal:
          description: Journal line counts (C(present=false) and C(reason) without journalctl).
          type: dict
          returned: when C(journal) is collected
          sample: {present: true, entries: 5120, errors: 3, timeouts: 0, oom: 0, xid: 0, reason: null}
        runner_logs:
          description: Counts over the runner log files written since O(since_s).
          type: dict
          returned: when C(journal) is collected
          sample: {files: 2, errors: 1, timeouts: 0, oom: 0, xid: 0}
        firmware:
          description: BIOS and CPU microcode; C(null) values with C(bios_reason) when not reported.
          type: dict
          returned: when C(firmware) is collected
          sample:
            bios_vendor: American Megatrends
            bios_version: "1.40"
            bios_date: 03/14/2023
            bios_age_days: 988
            microcode: "0xa201016"
            cpu_model: AMD Ryzen 9 7950X
            cpu_count: 32
        autoupdate:
          description: The automatic-update settings and timers.
          type: dict
          returned: when C(autoupdate) is collected
          sample:
            present: true
            unattended_upgrades: true
            automatic_reboot: false
            driver_packages_blocked: false
            timers: {apt-daily-upgrade: ["*-*-* 6:00"]}
        checks:
          description: Health checks of the parts gathered.
          type: list
          elements: dict
          sample: [{check: log_xid, status: ok, value: 0, threshold: 1, message: NVIDIA Xid lines in the journal is 0}]
        status:
          description: The worst status of the checks.
          type: str
          sample: ok
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._maintenance import COLLECT, DEFAULT_THRESHOLDS, gather


def main():
    module = AnsibleModule(
        argument_spec=dict(
            collect=dict(type="list", elements="str", choices=list(COLLECT), default=list(COLLECT)),
            since_s=dict(type="int"),
            log_paths=dict(type="list", elements="path", default=[]),
            thresholds=dict(type="dict", default={}, options=dict(
                (name, dict(type="int", default=value)) for name, value in DEFAULT_THRESHOLDS.items())),
        ),
        supports_check_mode=True,
    )

    def run(argv, timeout):
        try:
            return _runner.run(module.run_command, argv, timeout=timeout)
        except _runner.ToolError as exc:
            module.warn(str(exc))
            return None

    fact, warnings = gather(module.params["collect"], module.params["thresholds"], run, _runner.find_tool,
                            since=module.params["since_s"], log_paths=module.params["log_paths"])
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, ansible_facts={"gpufleet_maintenance": fact})


if __name__ == "__main__":
    main()
