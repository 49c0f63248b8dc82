#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: macos_facts
short_description: Apple Silicon inference box facts (unified memory, memory pressure, thermal pressure, macOS updates)
version_added: 0.1.0
description:
  - Reads a Mac that serves models (Mac Studio, Mac mini, MacBook running MLX-LM or llama.cpp Metal) with
    the tools macOS ships, and sets one fact, C(gpufleet_macos), with health checks.
  - The chip (C(sysctl machdep.cpu.brand_string)), model, unified memory and the share of it the kernel
    counts as free (C(memory_pressure)), the kernel's memory-pressure level
    (C(sysctl kern.memorystatus_vm_pressure_level)), swap (C(sysctl vm.swapusage)), the thermal pressure
    level (C(notifyutil -g com.apple.system.thermalpressurelevel), the level C(powermetrics) reports, without
    root), what C(pmset -g therm) records (on Intel Macs the CPU speed limit; Apple Silicon records nothing
    there, even while it throttles) and the macOS version (C(sw_vers)).
  - With O(check_updates), also what C(softwareupdate --list) offers (a new major version is a major
    upgrade) and the update settings (C(defaults read) of C(/Library/Preferences/com.apple.SoftwareUpdate),
    the same domain under C(/Library/Managed Preferences), and the managed restrictions that defer major
    upgrades).
  - Runs with macOS's C(/usr/bin/python3) (Python 3.9) and the standard library; where macOS has no
    coreutils C(timeout), the module's Python puts each tool under its timeout. On hosts that are not macOS
    the module only says so (one C(ok) check).
  - Disk SMART on macOS is the C(smart) area (M(gpufleet.maintenance.smart_facts)), with C(smartctl) from
    Homebrew.
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  only_on_macos:
    description:
      - On a host that is not macOS, set C(gpufleet_macos) to C(null) (not reported) instead of a fact with the
        C(ok) check "not a macOS host". The cadences use it, so that Linux hosts only read their kernel name (the
        C(uname(2)) call, no command) and their report has no C(macos) column.
    type: bool
    default: false
  check_updates:
    description:
      - Run C(softwareupdate --list) (it asks Apple's update servers, 10 s to a few minutes) and read the update
        settings, for the C(major_upgrade_pending) and C(update_deferral) checks. The daily cadence leaves it
        off; the weekly turns it on.
    type: bool
    default: true
  command_timeout_s:
    description: Seconds each tool but C(softwareupdate) may run before it is killed (at least 1).
    type: int
    default: 30
  update_timeout_s:
    description: Seconds C(softwareupdate --list) may run before it is killed (at least 1).
    type: int
    default: 300
  bin_dir:
    description:
      - A directory holding the tools to run instead of the system's (C(uname), C(sw_vers), C(sysctl),
        C(memory_pressure), C(notifyutil), C(pmset), C(softwareupdate), C(defaults)); only that directory is
        searched.
      - For tests with stand-ins that replay captured macOS output. Leave unset on a real Mac.
    type: path
  thresholds:
    description:
      - Overrides for the default thresholds; unknown keys are refused.
    type: dict
    default: {}
    suboptions:
      thermal_pressure_warn_level:
        description:
          - Thermal pressure level (0 nominal, 1 moderate, 2 heavy, 3 trapping, 4 sleeping) at or above which
            the C(thermal_pressure) check warns.
          - A fanless MacBook Air reaches 2 (heavy) under all-core load by design; set 3 for it.
        type: int
        default: 2
      thermal_pressure_crit_level:
        description: Thermal pressure level at or above which the check is critical.
        type: int
        default: 3
      cpu_speed_limit_warn_pct:
        description: CPU speed limit (percent, C(pmset -g therm)) at or under which C(cpu_speed_limit) warns.
        type: float
        default: 80
      cpu_speed_limit_crit_pct:
        description: CPU speed limit at or under which the check is critical.
        type: float
        default: 50
      memory_free_warn_pct:
        description: Free unified memory (percent, C(memory_pressure)) at or under which C(memory_free) warns.
        type: float
        default: 20
      memory_free_crit_pct:
        description: Free unified memory at or under which the check is critical.
        type: float
        default: 10
notes:
  - No Mac is available to the collection's tests; they replay macOS output captured from public sources
    (tests/unit/fixtures/macos/PROVENANCE.md) through stand-in tools.
seealso:
  - name: Apple Silicon hosts
    description: docs/macos.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/macos.md
  - name: Checks and thresholds
    description: docs/checks.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/checks.md
  - module: gpufleet.maintenance.smart_facts
"""

EXAMPLES = r"""
- name: Read the Mac (thermal and memory pressure), without asking Apple for updates
  gpufleet.maintenance.macos_facts:
    check_updates: false
  vars:
    ansible_python_interpreter: /usr/bin/python3

- name: Weekly, with the updates offered; a fanless MacBook Air warns only from "trapping"
  gpufleet.maintenance.macos_facts:
    only_on_macos: true
    thresholds:
      thermal_pressure_warn_level: 3
      thermal_pressure_crit_level: 4
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_macos:
      description:
        - The Mac's readings, checks and the worst status.
        - C(null) on a host that is not macOS when O(only_on_macos=true).
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this fact's layout.
          type: int
          sample: 1
        is_macos:
          description: Whether the kernel is Darwin.
          type: bool
          sample: true
        kernel_name:
          description: The kernel name, what C(uname -s) prints (read with C(uname(2)); with O(bin_dir), the stand-in C(uname -s)).
          type: str
          sample: Darwin
        product_name:
          description: C(ProductName) of C(sw_vers).
          type: str
          sample: macOS
        os_version:
          description: C(ProductVersion).
          type: str
          sample: "13.5"
        os_version_extra:
          description: C(ProductVersionExtra), the Rapid Security Response installed; C(null) when none.
          type: str
          sample: (a)
        os_build:
          description: C(BuildVersion).
          type: str
          sample: 22G74
        os_major:
          description: The major version.
          type: int
          sample: 13
        os_name:
          description: The release's name (macOS 11 and later).
          type: str
          sample: Ventura
        model:
          description: C(hw.model).
          type: str
          sample: Mac16,13
        chip:
          description: C(machdep.cpu.brand_string).
          type: str
          sample: Apple M1 Pro
        apple_silicon:
          description: Whether the chip is Apple's.
          type: bool
          sample: true
        unified_memory:
          description: Whether CPU and GPU share the memory (Apple Silicon).
          type: bool
          sample: true
        memory_bytes:
          description: Physical (unified) memory.
          type: int
          sample: 34359738368
        page_size_bytes:
          description: The kernel's page size (16384 on Apple Silicon).
          type: int
          sample: 16384
        memory_free_pct:
          description: C(System-wide memory free percentage) of C(memory_pressure).
          type: int
          sample: 88
        memory_pressure:
          description: The kernel's memory-pressure level by name (C(normal), C(warn), C(critical)).
          type: str
          sample: normal
        memory_pressure_level:
          description: The same as a number (1, 2, 4).
          type: int
          sample: 1
        swap_total_bytes:
          description: Swap allocated (macOS grows it on demand).
          type: int
          sample: 4294967296
        swap_used_bytes:
          description: Swap in use.
          type: int
          sample: 2876768256
        swap_free_bytes:
          description: Swap allocated and free.
          type: int
          sample: 1418199040
        swap_used_pct:
          description: Used share of the allocated swap.
          type: float
          sample: 67.0
        swap_encrypted:
          description: Whether swap is encrypted.
          type: bool
          sample: true
        swapins:
          description: Pages swapped in since boot (C(memory_pressure)).
          type: int
          sample: 0
        swapouts:
          description: Pages swapped out since boot.
          type: int
          sample: 0
        thermal_pressure:
          description: Thermal pressure by name (C(nominal), C(moderate), C(heavy), C(trapping), C(sleeping)).
          type: str
          sample: moderate
        thermal_pressure_level:
          description: The same as a number (0-4).
          type: int
          sample: 1
        pmset_recorded:
          description: Whether C(pmset -g therm) recorded anything (Apple Silicon records nothing).
          type: bool
          sample: false
        thermal_warning_level:
          description: C(Thermal Warning Level) of C(pmset); C(null) when none was recorded.
          type: int
          sample: null
        performance_warning_level:
          description: C(Performance Warning Level) of C(pmset); C(null) when none was recorded.
          type: int
          sample: null
        cpu_speed_limit_pct:
          description: C(CPU_Speed_Limit) of C(pmset) (Intel Macs).
          type: int
          sample: null
        cpu_scheduler_limit_pct:
          description: C(CPU_Scheduler_Limit) of C(pmset) (Intel Macs).
          type: int
          sample: null
        cpu_available_cpus:
          description: C(CPU_Available_CPUs) of C(pmset) (Intel Macs).
          type: int
          sample: null
        updates_checked:
          description: Whether C(softwareupdate --list) ran (O(check_updates)).
          type: bool
          sample: true
        updates:
          description:
            - The updates offered, each with C(label), C(title), C(version), C(size_kib), C(recommended),
              C(restart), C(macos) (macOS itself) and C(major) (a newer major version than the running one).
          type: list
          elements: dict
          sample: [{label: macOS Sonoma 14.0-23A344, title: macOS Sonoma 14.0, version: "14.0", size_kib: 4404034,
                    recommended: true, restart: true, macos: true, major: true}]
        major_upgrades:
          description: Titles of the major upgrades offered.
          type: list
          elements: str
          sample: [macOS Sonoma 14.0]
        major_upgrades_count:
          description: How many; C(null) when the updates were not checked.
          type: int
          sample: 1
        auto_check_enabled:
          description: C(AutomaticCheckEnabled) (managed value first); C(null) when not set.
          type: bool
          sample: true
        auto_download:
          description: C(AutomaticDownload).
          type: bool
          sample: true
        auto_install_macos_updates:
          description: C(AutomaticallyInstallMacOSUpdates), whether macOS installs its updates by itself.
          type: bool
          sample: false
        critical_update_install:
          description: C(CriticalUpdateInstall) (security responses and system files).
          type: bool
          sample: false
        config_data_install:
          description: C(ConfigDataInstall) (XProtect and other data files).
          type: bool
          sample: false
        update_settings_managed:
          description: Which of those settings a configuration profile sets.
          type: list
          elements: str
          sample: []
        major_upgrade_deferred:
          description: Whether a profile defers major upgrades (C(forceDelayedMajorSoftwareUpdates)).
          type: bool
          sample: false
        major_upgrade_deferral_days:
          description: C(enforcedSoftwareUpdateMajorOSDeferredInstallDelay); C(null) when not set.
          type: int
          sample: null
        checks:
          description:
            - Health checks, each with its C(subject) (C({}), the host); C(macos) (not macOS),
              C(thermal_pressure), C(cpu_speed_limit), C(memory_pressure), C(memory_free), and with
              O(check_updates) C(major_upgrade_pending) and C(update_deferral).
          type: list
          elements: dict
          sample:
            - check: major_upgrade_pending
              status: warn
              value: [macOS Sonoma 14.0]
              threshold: []
              message: "macOS Sonoma 14.0 (version 14.0) is offered; this Mac runs macOS 13.5: defer it until ..."
        status:
          description: The worst status of the checks.
          type: str
          sample: warn
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
