# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for gpufleet.maintenance.fleet_report: writes the report files on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import FLEET_REPORT
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _clock, _report


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(FLEET_REPORT)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _spec, args = self.validate_argument_spec(argument_spec=FLEET_REPORT)
        try:
            now = _clock.of_action(self, args["now"], task_vars)
        except _clock.ClockError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        report = _report.build(args["cadence"], now, args["hosts"], args["failed_hosts"], args["history"],
                               args["charts"], args["sections"], check_mode=self._task.check_mode)
        dest = args["dest"] if os.path.isabs(args["dest"]) else os.path.join(os.getcwd(), args["dest"])
        try:
            files = _report.write(report, dest, args["formats"], now)
        except (IOError, OSError) as exc:
            result.update(failed=True, msg="writing the %s report under %s: %s: set gpufleet_report_dir to a "
                                           "writable directory" % (args["cadence"], dest, exc), files={})
            return result
        # A report is the run's output, like a log: it records, it does not manage state.
        result.update(changed=False, files=files, status=report["status"], counts=report["counts"],
                      problems=len(report["problems"]), charts=_report.drawn_charts(report))
        return result
