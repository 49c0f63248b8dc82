# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for gpufleet.maintenance.history: the run history lives on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import HISTORY
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _clock, _history


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(HISTORY)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        _spec, args = self.validate_argument_spec(argument_spec=HISTORY)
        path = args["path"] or _history.default_path(task_vars.get("inventory_dir"), os.getcwd())
        try:
            now = _clock.of_action(self, args["now"], task_vars)
        except _clock.ClockError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        record = args["record"] and not self._task.check_mode
        answer = {"path": path, "run_id": None, "error": None, "recorded": False,
                  "schema_version": _history.SCHEMA_VERSION, "now": now, "trends": [], "maxima": {},
                  "incidents": {}, "energy": {}, "last": {}}
        conn = None
        try:
            conn = _history.connect(path, timeout=args["timeout_s"], readonly=not record)
            if record:
                answer["run_id"] = _history.record_run(conn, args["cadence"], now, args["hosts"], args["failed_hosts"])
                answer["recorded"] = True
            answer.update(_history.query(
                conn, set(args["hosts"]) | set(args["failed_hosts"]), now, trend_metrics=args["trend_metrics"],
                trend_days=args["trend_days"], maxima_days=args["maxima_days"],
                maxima_metric_like=args["maxima_metric_like"], incidents_days=args["incidents_days"],
                energy_days=args["energy_days"], energy_metric_like=args["energy_metric_like"],
                energy_price_per_kwh=args["energy_price_per_kwh"], last_metric_like=args["last_metric_like"]))
        except _history.HistoryError as exc:
            answer["error"] = str(exc)
            self._display.warning("gpufleet history: %s" % exc)
        finally:
            if conn is not None:
                conn.close()
        result.update(changed=False, history=answer)
        return result
