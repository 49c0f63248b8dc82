#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: benchmark_report
short_description: Set the gpufleet_benchmark fact from llm_probe and benchmark_baseline results
version_added: 0.1.0
description:
  - Combines the registered result of M(gpufleet.maintenance.llm_probe) and, in suite and gate
    modes, of M(gpufleet.maintenance.benchmark_baseline) (or, in compare mode, the probe results of
    every candidate model) into one fact, C(gpufleet_benchmark), with all their checks and the
    worst status, for the summary. The benchmark role calls it; it reads nothing on the host.
  - Runs on the controller (action plugin); the results are not sent to the host and back. The
    same shaping is the filter P(gpufleet.maintenance.benchmark_fact#filter).
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
  facts:
    support: full
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
options:
  mode:
    description: The benchmark mode the results come from.
    type: str
    choices: [health, suite, compare, gate]
    required: true
  probe:
    description: The llm_probe result (health, suite, gate).
    type: dict
  baseline:
    description: The benchmark_baseline result (suite, gate).
    type: dict
  candidates:
    description: The llm_probe results of the candidate models (compare).
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Set the benchmark fact
  gpufleet.maintenance.benchmark_report:
    mode: suite
    probe: "{{ probe }}"
    baseline: "{{ baseline }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_benchmark:
      description: The benchmark's results, checks and worst status (see docs/facts.md).
      returned: always
      type: dict
      sample:
        schema_version: 1
        mode: suite
        probe: {model: gemma3:1b, runner: ollama, runner_version: 0.12.6, results: []}
        baseline: {action: kept, comparison: []}
        checks: []
        status: ok
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import BENCHMARK_REPORT as ARGUMENT_SPEC


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="gpufleet.maintenance.benchmark_report runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
