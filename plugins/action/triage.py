# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for gpufleet.maintenance.triage: the runbook's rules run on the controller, over the
results the triage play registered (no round trip to the host); the rules are in plugin_utils/_triage.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import TRIAGE
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import build_fact
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _triage

# argument -> the fact it is
_FACTS = (("gpu", "gpufleet_gpu"), ("driver_stack", "gpufleet_driver_stack"), ("maintenance", "gpufleet_maintenance"),
          ("models", "gpufleet_models"))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(TRIAGE)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _spec, args = self.validate_argument_spec(argument_spec=TRIAGE)
        facts = dict((fact, args[name]) for name, fact in _FACTS if args[name])
        try:
            if args["probe"]:
                facts["gpufleet_benchmark"] = build_fact("health", args["probe"])
            if args["models_error"]:
                facts["models_error"] = args["models_error"]
            if args["runner"]:
                facts["runner"] = args["runner"]
            diagnosis = _triage.diagnose(facts, args["settings"])
        except (TypeError, ValueError) as exc:
            result.update(failed=True, msg="triage: %s" % exc)
            return result
        diagnosis["fixes"] = _triage.plan_fixes(diagnosis, apply=args["fix"], check_mode=bool(self._task.check_mode))
        result.update(changed=False, triage=diagnosis)
        return result
