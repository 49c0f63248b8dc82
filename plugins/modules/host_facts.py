#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_facts
short_description: Host basics for the health summary (kernel, uptime, load, memory, disk use)
version_added: 0.1.0
description:
  - Reads the kernel release, uptime, load, available memory and the disk use of the given paths
    (the root filesystem, model stores, the Docker root) and returns them as one fact,
    C(gpufleet_host), with health checks.
  - Paths that do not exist on a host are reported with C(present=false) and an C(ok) check;
    a CPU-only box without a model store is normal in a fleet.
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  paths:
    description:
      - Paths whose filesystem use is reported and checked. C(~) is expanded on the host.
    type: list
    elements: path
    default: ["/"]
  thresholds:
    description:
      - Overrides for the default thresholds; unknown keys are refused.
    type: dict
    default: {}
    suboptions:
      disk_used_warn_pct:
        description: Disk use (percent of the space users can get) that gives a warning.
        type: float
        default: 80
      disk_used_crit_pct:
        description: Disk use that is critical.
        type: float
        default: 85
      memory_available_warn_pct:
        description: Available RAM (percent of total) at or under which a warning is given.
        type: float
        default: 10
      memory_available_crit_pct:
        description: Available RAM at or under which the check is critical.
        type: float
        default: 5
seealso:
  - name: Checks and thresholds
    description: docs/checks.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/checks.md
"""

EXAMPLES = r"""
- name: Gather host basics, including the model store and the Docker root
  gpufleet.maintenance.host_facts:
    paths:
      - /
      - /var/lib/ollama
      - /var/lib/docker

- name: Stricter disk thresholds for a box that writes checkpoints
  gpufleet.maintenance.host_facts:
    thresholds:
      disk_used_warn_pct: 70
      disk_used_crit_pct: 80

- name: Fail the play when a disk is critical
  ansible.builtin.assert:
    that: gpufleet_host.status != 'crit'
    fail_msg: "{{ gpufleet_host.checks | selectattr('status', 'eq', 'crit') | map(attribute='message') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_host:
      description: Host basics, checks and the worst status.
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this fact's layout.
          type: int
          sample: 1
        hostname:
          description: The host name as the host reports it.
          type: str
          sample: gpu-ws-01
        kernel_release:
          description: Running kernel release.
          type: str
          sample: 6.1.0-28-amd64
        architecture:
          description: Machine architecture.
          type: str
          sample: x86_64
        uptime_s:
          description: Seconds since boot, C(null) when not readable.
          type: int
          sample: 86400
        cpu_count:
          description: Logical CPUs.
          type: int
          sample: 16
        load_1m:
          description: One-minute load average.
          type: float
          sample: 0.42
        load_5m:
          description: Five-minute load average.
          type: float
          sample: 0.40
        load_15m:
          description: Fifteen-minute load average.
          type: float
          sample: 0.35
        memory_total_bytes:
          description: Total RAM.
          type: int
          sample: 67108864000
        memory_available_bytes:
          description: RAM available to new processes (MemAvailable).
          type: int
          sample: 52428800000
        memory_available_pct:
          description: Available RAM in percent of total.
          type: float
          sample: 78.1
        disks:
          description: One entry per requested path.
          type: list
          elements: dict
          sample:
            - path: /
              present: true
              mount: /
              device: /dev/nvme0n1p2
              fstype: ext4
              size_bytes: 1000000000000
              used_bytes: 420000000000
              free_bytes: 530000000000
              used_pct: 44.2
        thresholds:
          description: The thresholds in force.
          type: dict
          sample: {disk_used_warn_pct: 80, disk_used_crit_pct: 85}
        checks:
          description: Health checks (C(disk_used) per path, C(memory_available)).
          type: list
          elements: dict
          sample:
            - check: disk_used
              path: /
              status: ok
              value: 44.2
              threshold: 80
              message: disk use of / (/) is 44.2 %
        status:
          description: The worst status of the checks.
          type: str
          sample: ok
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.host import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
