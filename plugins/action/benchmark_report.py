# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for gpufleet.maintenance.benchmark_report: the fact is shaped on the controller,
from results the controller already holds (no round trip to the host)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import BENCHMARK_REPORT
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import build_fact


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(BENCHMARK_REPORT)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _spec, args = self.validate_argument_spec(argument_spec=BENCHMARK_REPORT)
        try:
            fact = build_fact(args["mode"], args["probe"], args["baseline"], args["candidates"])
        except (TypeError, ValueError) as exc:
            result.update(failed=True, msg="benchmark_report: %s" % exc)
            return result
        result.update(changed=False, ansible_facts=dict(gpufleet_benchmark=fact))
        return result
