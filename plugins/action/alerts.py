# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for gpufleet.maintenance.alerts: decides on the controller, posts webhooks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import ALERTS
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _alerts, _clock, _history, _report


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(ALERTS)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        _spec, args = self.validate_argument_spec(argument_spec=ALERTS)
        errors = _alerts.validate_targets(args["targets"])
        if errors:
            result.update(failed=True, msg="gpufleet_alert_webhooks: %s" % "; ".join(errors))
            return result
        if args["repeat_hours"] < 0:
            result.update(failed=True, msg="gpufleet_alert_repeat_hours must be >= 0, got %s" % args["repeat_hours"])
            return result
        try:
            now = _clock.of_action(self, args["now"], task_vars)
        except _clock.ClockError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        path = args["history_path"] or _history.default_path(task_vars.get("inventory_dir"), os.getcwd())
        _areas, _rows, problems = _report.host_rows(args["hosts"], args["failed_hosts"])
        checked = set(args["hosts"]) | set(args["failed_hosts"])
        conn = None
        state = {}
        error = None
        try:
            conn = _history.connect(path, readonly=self._task.check_mode)
            state = _history.alert_state(conn)
        except _history.HistoryError as exc:
            error = "alert state not available, every problem counts as new: %s" % exc
            self._display.warning("gpufleet alerts: %s" % error)
        alerts, new_state = _alerts.decide(state, _alerts.keyed(problems), checked, now, args["repeat_hours"])
        sent, emails = [], []
        if alerts and not self._task.check_mode:
            sent, emails = _alerts.send(args["targets"], alerts, args["cadence"], args["report"], args["timeout_s"])
        if conn is not None:
            if not self._task.check_mode and all(s["ok"] for s in sent):
                try:
                    _history.save_alert_state(conn, new_state)
                except _history.HistoryError as exc:
                    error = "alert state not saved: %s" % exc
            conn.close()
        failed_sends = [s for s in sent if not s["ok"]]
        for failure in failed_sends:
            self._display.warning("gpufleet alerts: %s: %s" % (failure["name"], failure["error"]))
        result.update(changed=bool(sent and not failed_sends), alerts=alerts, sent=sent, emails=emails, error=error)
        return result
