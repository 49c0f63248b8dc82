# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for gpufleet.maintenance.cadence_report: the end of a cadence in one pass."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.common.validation import check_type_path
from ansible.plugins.action import ActionBase

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import CADENCE_REPORT
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import (
    _cadence_report, _clock, _history, _role_arguments, _trends)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(CADENCE_REPORT)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        # First, before this task's own options (built from the role's variables) and before anything is
        # recorded, written or sent: the role's arguments, as validate_argument_spec checks them (check mode too).
        failure = self._role_arguments_failure(task_vars)
        if failure:
            result.update(failure)
            return result
        _spec, args = self.validate_argument_spec(argument_spec=CADENCE_REPORT)
        if args["alert_repeat_hours"] < 0:
            result.update(failed=True, msg="alert_repeat_hours must be >= 0, got %s" % args["alert_repeat_hours"])
            return result
        try:
            _trends.patterns(args["trend_checks"])
            _trends.thresholds(args["trend_thresholds"])
        except (_trends.TrendError, TypeError, ValueError) as exc:
            result.update(failed=True, msg="trend checks: %s" % exc)
            return result
        if args["trend_check_days"] < 1:
            result.update(failed=True, msg="trend_check_days must be at least 1, got %s" % args["trend_check_days"])
            return result
        base = task_vars.get("inventory_dir") or os.getcwd()
        history_path = args["history_path"] or _history.default_path(base, os.getcwd())
        if not os.path.isabs(args["dest"]):
            args["dest"] = os.path.join(os.getcwd(), args["dest"])
        try:
            now = _clock.of_action(self, args["now"], task_vars)
        except _clock.ClockError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        outcome = _cadence_report.run(args, now, history_path, check_mode=self._task.check_mode)
        if outcome["history"].get("error"):
            self._display.warning("gpufleet history: %s" % outcome["history"]["error"])
        for failure in [s for s in outcome["sent"] if not s["ok"]]:
            self._display.warning("gpufleet alerts: %s: %s" % (failure["name"], failure["error"]))
        if outcome["alert_error"]:
            self._display.warning("gpufleet alerts: %s" % outcome["alert_error"])
        result.update(changed=False, **outcome)
        if outcome["report_error"]:
            result.update(failed=True, msg=outcome["report_error"])
        return result

    def _role_arguments_failure(self, task_vars):
        """The failed result of the check_role_arguments check, or None (also when the option is not given)."""
        spec_path = self._task.args.get("check_role_arguments")
        if spec_path in (None, ""):
            return None
        try:
            spec_path = check_type_path(spec_path)
        except TypeError as exc:
            return dict(failed=True, msg="check_role_arguments must be a path: %s" % exc)
        failure = _role_arguments.failure(self._loader, self._templar, spec_path, task_vars)
        if failure and self._task.no_log:
            # no_log (the role sets it when there are alert targets) hides msg: say which arguments are wrong
            self._display.warning("gpufleet report arguments (the task's result is hidden by no_log): %s"
                                  % failure["msg"])
        return failure
