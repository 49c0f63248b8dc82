#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fleet_report
short_description: Write the fleet report of a cadence run (HTML with inline SVG charts, JSON, Markdown)
version_added: 0.1.0
description:
  - Runs on the controller (action plugin) and writes C(<dest>/<cadence>-<timestamp>.{html,json,md}).
  - The fleet table lists host by area, worst status first; every non-ok check follows with its
    message and fix; trends from M(gpufleet.maintenance.history) become inline SVG line charts,
    so the HTML is one self-contained file; a chart without data is a "no data yet" panel that says
    why. The JSON layout is docs/report-schema.json.
  - A report is the run's output, like a log, so the task reports C(changed=false); it is also
    written in check mode (marked C(check_mode=true)) because it is the only output of a dry run.
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
  cadence:
    description: The cadence of the run (first part of the file names).
    type: str
    required: true
  hosts:
    description: Host name to its C(gpufleet_*) facts of this run.
    type: dict
    default: {}
  failed_hosts:
    description: Host name to the reason it failed or was unreachable.
    type: dict
    default: {}
  history:
    description: The RV(gpufleet.maintenance.history#module:history) answer (trends, error, run id).
    type: dict
    default: {}
  charts:
    description:
      - Charts to draw, each C({title, metric_like, unit, limit}); C(metric_like) is a LIKE pattern
        matched against the trends, C(limit) draws a dashed line and projects the date a rising
        trend reaches it (SSD wear at 100 %).
    type: list
    elements: dict
    default: []
  sections:
    description: Extra sections, each C({title, lines}) (maxima, energy, checklist, upgrade decision).
    type: list
    elements: dict
    default: []
  dest:
    description: Directory of the reports; relative paths are taken from the working directory.
    type: path
    default: reports
  formats:
    description: Files to write.
    type: list
    elements: str
    choices: [html, json, md]
    default: [html, json, md]
  now:
    description: Epoch seconds of the run; unset, the variable C(gpufleet_now), else C(GPUFLEET_NOW), else the controller's clock.
    type: float
"""

EXAMPLES = r"""
- name: Write the daily report
  gpufleet.maintenance.fleet_report:
    cadence: daily
    hosts: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'ansible_facts'))) }}"
    history: "{{ history.history }}"
    charts:
      - {title: GPU temperature, metric_like: 'gpu.%temperature\_c', unit: °C}
  run_once: true
"""

RETURN = r"""
files:
  description: Format to the path written.
  returned: always
  type: dict
  sample: {html: reports/daily-20261126T030000Z.html, json: reports/daily-20261126T030000Z.json, md: reports/daily-20261126T030000Z.md}
status:
  description: The worst status of the fleet.
  returned: success
  type: str
  sample: warn
counts:
  description: Hosts per status.
  returned: success
  type: dict
  sample: {ok: 7, warn: 1, crit: 0}
problems:
  description: Number of non-ok checks listed.
  returned: success
  type: int
  sample: 1
charts:
  description: Number of charts drawn.
  returned: success
  type: int
  sample: 2
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import FLEET_REPORT as ARGUMENT_SPEC


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    module.fail_json(msg="gpufleet.maintenance.fleet_report runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
