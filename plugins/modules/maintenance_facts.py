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
    since the start of the review window (O(since_s) or O(since_days)) and in the runner logs under
    O(log_paths) written since then; checks C(log_errors), C(log_timeouts), C(log_oom), C(log_xid)
    and, when runner logs were read, C(runner_log_errors), C(runner_log_timeouts), C(runner_log_oom),
    C(runner_log_xid).
  - C(journal) also counts the boots that ended in the window without a clean shutdown (a crash, a
    power loss, a hung box reset), check C(unexpected_reboots), from C(journalctl --list-boots) and
    the last lines of each boot, or from wtmp (C(last -x)) when the journal does not reach back to the
    start of the window.
  - C(firmware) reads the BIOS vendor, version and date (C(/sys/class/dmi/id), else C(dmidecode))
    and the CPU microcode revision (C(/proc/cpuinfo)); absent data is C(null) with a reason.
    Checks C(bios_age) and C(microcode).
  - C(autoupdate) reads C(apt-config dump) and the apt timers (unattended upgrades, automatic
    reboots, whether the driver stack is kept out of them, and the upgrade window); checks
    C(auto_reboot), C(auto_upgrade_driver) and C(update_window).
  - The same area is gathered by M(gpufleet.maintenance.health_facts) (its C(maintenance) options).
  - What cannot be read (no C(journalctl), a journal the user may not read or that holds no entries, a
    runner log without read permission, no DMI data, no C(apt-config)) is never C(ok) and never fails the
    module - the first check that depends on it is C(unknown), with the reason and the fix in its message.
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
      - Give O(since_s) or O(since_days), not both; with neither, the window is the last 7 days.
      - At least 0.
    type: int
  since_days:
    description:
      - The review window as a number of days before now (the name M(gpufleet.maintenance.health_facts)
        and the P(gpufleet.maintenance.host_health#role) role use); 7 when neither O(since_s) nor
        O(since_days) is given.
      - At least 0.
    type: float
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
        description: Error lines (C(log_errors), C(runner_log_errors)) that give a warning.
        type: float
        default: 50
      journal_timeouts_warn:
        description: Timeout lines (C(log_timeouts), C(runner_log_timeouts)) that give a warning.
        type: float
        default: 10
      journal_oom_warn:
        description: Out-of-memory lines (C(log_oom), C(runner_log_oom)) that give a warning.
        type: float
        default: 1
      journal_xid_crit:
        description: NVIDIA Xid lines (C(log_xid), C(runner_log_xid)) that are critical.
        type: float
        default: 1
      bios_age_warn_days:
        description: BIOS release age in days (C(bios_age)) that gives a warning.
        type: float
        default: 1095
      unexpected_reboots_warn:
        description: Boots that ended without a clean shutdown in the window (C(unexpected_reboots)) that give a warning.
        type: float
        default: 1
      unexpected_reboots_crit:
        description: Boots that ended without a clean shutdown in the window that are critical.
        type: float
        default: 3
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
        collected:
          description: The parts gathered (O(collect)).
          type: list
          elements: str
          sample: [journal, firmware, autoupdate]
        since_s:
          description: The start of the review window, in epoch seconds.
          type: int
          sample: 1764115200
        journal:
          description: Journal line counts (C(present=false) and C(reason) without journalctl).
          type: dict
          returned: when C(journal) is collected
          sample: {present: true, entries: 5120, errors: 3, timeouts: 0, oom: 0, xid: 0, reason: null}
        runner_logs:
          description: Counts over the runner log files written since the start of the review window.
          type: dict
          returned: when C(journal) is collected
          sample: {files: 2, errors: 1, timeouts: 0, oom: 0, xid: 0}
        runner_logs_unread:
          description: Runner log files that could not be read, each as C(path) and why.
          type: list
          elements: str
          returned: when C(journal) is collected
          sample: ["/var/log/ollama/audit.log: permission denied"]
        reboots:
          description:
            - The boots that ended in the window and how (C(clean) C(false) - no shutdown recorded; C(null) - not
              read), newest first; C(source) is C(journal) or C(wtmp) (C(null), with C(reason), when neither could be
              read) and C(covered_since_s) how far back it reaches.
          type: dict
          returned: when C(journal) is collected
          sample:
            source: journal
            reason: null
            covered_since_s: 1794816000
            ended: 3
            unexpected: 2
            unread: 0
            boots:
              - {boot: 8f7e3a4b5c6d7e8f9a0b1c2d3e4f5a6b, started_s: 1795255320, ended_s: 1795426200, clean: true}
              - {boot: 7e6d2f3a4b5c6d7e8f9a0b1c2d3e4f5a, started_s: 1795058340, ended_s: 1795255200, clean: false}
        firmware:
          description:
            - BIOS and CPU microcode; C(null) values with C(bios_reason) when not reported, and
              C(cpuinfo_reason) when C(/proc/cpuinfo) could not be read.
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
        thresholds:
          description: The thresholds in force.
          type: dict
          sample: {journal_errors_warn: 50, journal_xid_crit: 1}
        checks:
          description: Health checks of the parts gathered (C(subject) is C({}) for all of them, the host itself).
          type: list
          elements: dict
          sample: [{check: log_xid, status: ok, value: 0, threshold: 1, message: NVIDIA Xid lines in the journal is 0, subject: {}}]
        status:
          description: The worst status of the checks.
          type: str
          sample: ok
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
