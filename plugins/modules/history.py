#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: history
short_description: Record a cadence run in the controller's SQLite history and answer trend queries
version_added: 0.1.0
description:
  - Runs on the controller (action plugin). Writes one run (one row per host, metric and check) to
    a SQLite database in one transaction, then answers the queries asked for (trends with series,
    last value, maximum and slope per 30 days, maxima over a window, incidents per host, energy).
  - Metrics are the numeric keys of the C(gpufleet_*) facts whose names end in a unit
    (C(_c), C(_w), C(_pct), C(_bytes), C(_s)...), named C(<area>.<key>) or C(<area>.<list>.<key>)
    with the GPU index, device or path as subject.
  - The schema is versioned (C(PRAGMA user_version)) and migrated on open. A locked or corrupt
    database does not fail the task; RV(history.error) says what is wrong and how to fix it.
  - In check mode nothing is written; queries still run.
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  action:
    support: full
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
  delegation:
    support: none
    description: Can be used in conjunction with delegate_to and related keywords.
    details: Always runs on the controller.
options:
  path:
    description: The database file. Default C(.cache/gpufleet/history.db) beside the inventory.
    type: path
  cadence:
    description: The cadence of the run.
    type: str
    required: true
    choices: [daily, weekly, monthly, quarterly, annual, adhoc]
  hosts:
    description: Host name to its C(gpufleet_*) facts of this run.
    type: dict
    default: {}
  failed_hosts:
    description: Host name to the reason it failed or was unreachable in this run.
    type: dict
    default: {}
  record:
    description: Write this run; C(false) only queries.
    type: bool
    default: true
  trend_metrics:
    description: SQL LIKE patterns (C(\) escapes) of metrics to return as trends.
    type: list
    elements: str
    default: []
  trend_days:
    description: Days of history in each trend.
    type: int
    default: 90
  maxima_metric_like:
    description: Pattern of the metrics whose maxima are returned.
    type: str
    default: '%temperature\_c'
  maxima_days:
    description: Window of the maxima in days; C(0) skips them.
    type: int
    default: 0
  incidents_days:
    description: Window of the incident counts in days; C(0) skips them.
    type: int
    default: 0
  energy_metric_like:
    description: Pattern of the power metrics (watts) integrated into energy.
    type: str
    default: '%power\_draw\_w'
  energy_days:
    description: Window of the energy sum in days; C(0) skips it.
    type: int
    default: 0
  energy_price_per_kwh:
    description: Price of a kWh, for the cost.
    type: float
    default: 0.0
  last_metric_like:
    description:
      - Patterns of metrics whose newest value from before this run is returned in RV(history.last)
        (the C(previous) value of a counter such as SSD wear or data written).
    type: list
    elements: str
    default: []
  timeout_s:
    description: Seconds to wait for a database locked by another run.
    type: float
    default: 5.0
  now:
    description: Epoch seconds of the run; unset, the variable C(gpufleet_now), else C(GPUFLEET_NOW), else the controller's clock.
    type: float
seealso:
  - name: Cadence playbooks and history schema
    description: docs/cadence.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/cadence.md
"""

EXAMPLES = r"""
- name: Record the daily run and return the temperature trends
  gpufleet.maintenance.history:
    cadence: daily
    hosts: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'ansible_facts'))) }}"
    trend_metrics: ['gpu.%temperature%']
  run_once: true
  register: history
"""

RETURN = r"""
history:
  description: The answer.
  returned: always
  type: dict
  contains:
    path:
      description: The database file.
      type: str
      sample: /srv/fleet/.cache/gpufleet/history.db
    run_id:
      description: Id of the recorded run, C(null) when not recorded.
      type: int
      sample: 42
    recorded:
      description: Whether the run was written.
      type: bool
      sample: true
    error:
      description: Why the database could not be used, with the fix; C(null) when it could.
      type: str
      sample: null
    trends:
      description: One entry per host, metric and subject.
      type: list
      elements: dict
      sample:
        - host: gpu-ws-01
          metric: gpu.gpus.memory_temperature_c
          subject: "0"
          points: [[1764000000, 78.0], [1766592000, 92.0]]
          last: 92.0
          max: 92.0
          slope_per_30d: 14.0
    maxima:
      description: Host to metric to subject to the maximum over the window.
      type: dict
      sample: {gpu-ws-01: {gpu.gpus.temperature_c: {"0": 83.0}}}
    incidents:
      description: Host to the number of runs with a crit check, a warn check, or a failure.
      type: dict
      sample: {gpu-ws-01: {crit_runs: 2, warn_runs: 9, failed_runs: 1}}
    last:
      description: Host to metric to subject to C([ts, value]), the newest value before this run (O(last_metric_like)).
      type: dict
      sample: {gpu-ws-01: {smart.devices.data_units_written: {/dev/nvme0: [1764000000, 123456.0]}}}
    energy:
      description: Host to kWh and cost over the window.
      type: dict
      sample: {gpu-ws-01: {kwh: 212.4, cost: 63.72, days: 30, series: 2}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import HISTORY as ARGUMENT_SPEC


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    module.fail_json(msg="gpufleet.maintenance.history runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
