#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: smart_facts
short_description: SSD/HDD health, wear, data written and endurance projection through pySMART
version_added: 0.1.0
description:
  - Reads every drive smartctl finds (or the given ones) through pySMART and C(smartctl --json) and
    returns one fact, C(gpufleet_smart), with one normalised record per drive (NVMe, SATA, SAS, USB
    bridges), the last short and long self-tests, the NAND type of known models, and health checks.
  - Data written is NVMe data units times 512000 bytes, or the SATA host-writes attribute (named units
    or LBAs times the logical block size). When it cannot be known it is C(null) with
    C(data_written_reason), never a false 0.
  - Given O(previous) (an earlier C(gpufleet_smart) fact), the write rate per day, the days until the
    rated TBW, growing error counters and new unsafe shutdowns are reported.
  - Spinning disks in standby are not woken (C(smartctl -n standby)); virtual disks and bridges without
    SMART are listed with C(smart_supported=false) and the reason. A drive smartctl could not open
    (C(Permission denied)) or whose output says nothing readable is C(unreadable), with the reason and the
    fix, and its C(smart_read) check is C(unknown) - never C(ok) for a drive nobody looked at.
    smartctl's exit status is a bit mask and is decoded into words, not treated as a failure; its
    "error log has errors" bit gives the C(error_log) warning.
  - Needs root (C(become=true)) to open the drives; without it every drive reports why.
  - Without pySMART on the target the module does not fail - drives are read from C(smartctl --json)
    alone (smartctl 7.0 or later), the check C(pysmart_present) is C(unknown) and names the fix (the
    C(gpufleet.maintenance.prerequisites) role), and a drive that gave no JSON is C(unreadable).
  - Also available as the C(smart) area of M(gpufleet.maintenance.health_facts).
requirements:
  - smartmontools (smartctl) on the target
  - pySMART >= 1.4 on the target (optional - without it only C(smartctl --json) is read)
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  devices:
    description:
      - Drives to read, as C(/dev/X) or C(/dev/X:TYPE) with a smartctl device type
        (C(/dev/sda:sat), C(/dev/bus/0:megaraid,16)).
      - When not given, the drives C(smartctl --scan-open) lists.
    type: list
    elements: str
  smartctl_path:
    description: Path of smartctl; default the one on PATH (or in the sbin directories).
    type: path
  timeout:
    description: Seconds one smartctl call may run before it is killed; at least 1 (smaller values are refused).
    type: int
    default: 60
  wake:
    description:
      - Read drives in standby too (spins them up). Off by default; such drives are reported as C(standby).
    type: bool
    default: false
  thresholds:
    description: Overrides for the default thresholds; unknown keys are refused.
    type: dict
    default: {}
    suboptions:
      wear_warn_pct:
        description: Wear (percent of rated life used) that gives a warning.
        type: float
        default: 70
      wear_crit_pct:
        description: Wear at which the drive must be replaced.
        type: float
        default: 85
      temperature_warn_c:
        description: Drive temperature that gives a warning.
        type: float
        default: 70
      self_test_max_age_days:
        description: Days of power-on time after which the lack of a self-test gives a warning.
        type: float
        default: 35
      tbw_projection_warn_days:
        description: Warn when the drive is projected to reach its rated TBW within this many days.
        type: float
        default: 180
  critical_paths:
    description:
      - Paths whose backing drive matters; each drive lists those it backs in C(backs_paths), and a QLC
        drive backing one gives a warning. Paths that do not exist are ignored. C(~) is expanded on the host.
    type: list
    elements: str
    default: [/var/lib/docker, /var/lib/ollama, ~/.ollama, /srv, ~/.cache/huggingface]
  rated_tbw:
    description:
      - Rated endurance in TB written (10^12 bytes), keyed by model string or serial number, from the
        vendor's data sheet. Values must be numbers above 0.
    type: dict
    default: {}
  previous:
    description:
      - An earlier C(gpufleet_smart) fact (for example from the fact cache or the cadence history); drives
        are matched by serial number.
    type: dict
  now:
    description:
      - The time of this reading in Unix seconds (C(collected_epoch_s), the time base of the write rate
        against O(previous)). Default the host's clock; the ssd_wear role passes C(gpufleet_now) when a
        replay of a simulated timeline sets it, so that rates are per simulated day.
    type: int
seealso:
  - name: SMART and SSD wear
    description: docs/smart.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/smart.md
"""

EXAMPLES = r"""
- name: Read all drives
  gpufleet.maintenance.smart_facts:
  become: true

- name: Read two drives, with rated endurance and the previous quarter's snapshot
  gpufleet.maintenance.smart_facts:
    devices:
      - /dev/nvme0
      - /dev/sda:sat
    rated_tbw:
      "Samsung SSD 970 EVO Plus 1TB": 600
    previous: "{{ smart_history[-1] | default(omit) }}"
  become: true

- name: Fail when a drive must be replaced
  ansible.builtin.assert:
    that: ansible_facts.gpufleet_smart.status != 'crit'
    fail_msg: "{{ ansible_facts.gpufleet_smart.checks | selectattr('status', 'eq', 'crit') | map(attribute='message') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_smart:
      description: One record per drive, checks and the worst status.
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this fact's layout.
          type: int
          sample: 1
        present:
          description: Whether smartctl was found; C(reason) says what to install when not.
          type: bool
          sample: true
        reason:
          description: Why the fact is empty (smartctl missing), else C(null).
          type: str
          sample: null
        smartctl_path:
          description: The smartctl that was run.
          type: str
          sample: /usr/sbin/smartctl
        smartctl_version:
          description: smartctl's version.
          type: str
          sample: "7.3"
        collected_epoch_s:
          description: When the drives were read (seconds since the epoch); rates use the difference to O(previous).
          type: int
          sample: 1764115200
        as_root:
          description: Whether the module ran as root.
          type: bool
          sample: true
        pysmart_present:
          description: Whether pySMART could be imported; when not, drives are read from C(smartctl --json) only.
          type: bool
          sample: true
        devices:
          description:
            - One record per drive. Keys are always present, C(null) when not reported.
            - C(wear_pct_used) is NVMe Percentage Used, or 100 minus the normalised value of the vendor's
              life attribute (Percent_Lifetime_Remain, Media_Wearout_Indicator, Wear_Leveling_Count,
              SSD_Life_Left); C(wear_source) says which.
            - C(state) is C(active), C(standby), C(unsupported), C(garbled) or C(unreadable) (nothing could be
              read - C(reason) says why and what to do; its C(smart_read) check is C(unknown)). A C(garbled) drive
              (pySMART could not parse the text) keeps what C(smartctl --json) gave and is judged on it; its
              C(smart_read) check names the fields neither gave.
            - The drive's own verdicts are the worse of the text and the JSON - C(smart_status.passed=false) or
              smartctl's "disk failing" exit bit make C(smart_health) C(crit), a non-zero NVMe C(critical_warning)
              makes C(critical_warning) C(crit); NVMe C(media_errors) above zero are a warning, and critical when
              they grew since O(previous).
            - C(self_tests) holds the last C(short) and C(long) test (status, passed, lifetime_hours,
              age_hours in power-on hours) and the log's C(count); C(self_test_supported) whether the drive can run
              them at all (C(false) for Apple's internal NVMe drives, whose C(self_test) is then C(ok), nothing to schedule).
          type: list
          elements: dict
          sample:
            - name: /dev/nvme0
              model: Samsung SSD 970 EVO Plus 1TB
              serial: S4EWNX0N123456
              firmware: 2B2QEXM7
              interface: nvme
              smartctl_type: nvme
              smart_supported: true
              state: active
              reason: null
              rotational: false
              capacity_bytes: 1000204886016
              logical_block_size: 512
              health_passed: true
              temperature_c: 41
              power_on_hours: 8760
              power_cycles: 412
              unsafe_shutdowns: 17
              critical_warning: 0
              media_errors: 0
              error_log_entries: 0
              percentage_used: 12
              available_spare_pct: 100
              available_spare_threshold_pct: 10
              data_written_bytes: 98304000000000
              data_written_reason: null
              wear_pct_used: 12
              wear_source: NVMe Percentage Used
              reallocated_sectors: null
              pending_sectors: null
              crc_errors: null
              nand_type: tlc
              nand_source: "Samsung 970 EVO / EVO Plus: Samsung 970 EVO Plus data sheet"
              rated_tbw: 600
              tbw_used_pct: 16.38
              write_rate_bytes_per_day: 250000000000
              projected_days_to_rated_tbw: 2006
              rate_reason: null
              backs_paths: [/var/lib/docker]
              self_tests: {short: {status: Completed without error, passed: true, lifetime_hours: 8700, age_hours: 60}, long: null, count: 3}
              exit_status: 0
              exit_status_words: []
              messages: []
              checks: []
              status: ok
        thresholds:
          description: The thresholds in force.
          type: dict
          sample: {wear_warn_pct: 70, wear_crit_pct: 85}
        checks:
          description:
            - All checks of all drives (each with C(device)), plus C(smartctl_present) or C(smart_access), and
              C(pysmart_present) when pySMART is missing.
            - C(smart_health), C(critical_warning), C(self_test), C(wear), C(available_spare), C(media_errors),
              C(reallocated_sectors), C(pending_sectors), C(error_log), C(temperature), C(qlc_critical_path),
              C(tbw_projection), C(unsafe_shutdowns), C(smart_read).
          type: list
          elements: dict
          sample:
            - check: wear
              device: /dev/nvme0
              status: ok
              value: 12
              threshold: 70
              message: wear of /dev/nvme0 (Samsung SSD 970 EVO Plus 1TB) is 12 %
        status:
          description: The worst status of the checks.
          type: str
          sample: ok
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
