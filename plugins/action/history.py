# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for gpufleet.maintenance.history: the run history lives on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible.plugins.action import ActionBase

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _history
from ansible_collections.gpufleet.maintenance.plugins.module_utils._report import energy_kwh


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("path", "cadence", "hosts", "failed_hosts", "record", "trend_metrics", "trend_days",
                             "maxima_metric_like", "maxima_days", "incidents_days", "energy_metric_like",
                             "energy_days", "energy_price_per_kwh", "last_metric_like", "timeout_s", "now"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        _spec, args = self.validate_argument_spec(argument_spec=_history.ARGUMENT_SPEC)
        path = args["path"] or _history.default_path(task_vars.get("inventory_dir"), os.getcwd())
        now = args["now"] if args["now"] is not None else time.time()
        record = args["record"] and not self._task.check_mode
        answer = {"path": path, "run_id": None, "error": None, "recorded": False,
                  "schema_version": _history.SCHEMA_VERSION, "now": now, "trends": [], "maxima": {},
                  "incidents": {}, "energy": {}, "last": {}}
        hosts = args["hosts"]
        conn = None
        try:
            conn = _history.connect(path, timeout=args["timeout_s"], readonly=not record)
            if record:
                answer["run_id"] = _history.record_run(conn, args["cadence"], now, hosts, args["failed_hosts"])
                answer["recorded"] = True
            names = sorted(set(hosts) | set(args["failed_hosts"]))
            if args["trend_metrics"]:
                answer["trends"] = _history.trends(conn, names, args["trend_metrics"], now, args["trend_days"])
            if args["maxima_days"]:
                answer["maxima"] = _history.maxima(conn, now - args["maxima_days"] * 86400.0, args["maxima_metric_like"])
            if args["incidents_days"]:
                answer["incidents"] = _history.incidents(conn, now - args["incidents_days"] * 86400.0)
            for pattern in args["last_metric_like"]:
                # Values from before this run: what smart_facts and friends call "previous".
                for host, metrics in _history.last_values(conn, names, pattern, before=now).items():
                    answer["last"].setdefault(host, {}).update(metrics)
            if args["energy_days"]:
                answer["energy"] = self._energy(conn, names, now, args)
        except _history.HistoryError as exc:
            answer["error"] = str(exc)
            self._display.warning("gpufleet history: %s" % exc)
        finally:
            if conn is not None:
                conn.close()
        result.update(changed=False, history=answer)
        return result

    @staticmethod
    def _energy(conn, names, now, args):
        since = now - args["energy_days"] * 86400.0
        energy = {}
        for host in names:
            kwh = 0.0
            rows = conn.execute("SELECT DISTINCT metric, subject FROM metrics WHERE host = ? AND metric LIKE ? ESCAPE '\\' AND ts >= ?",
                                (host, args["energy_metric_like"], since)).fetchall()
            for metric, subject in rows:
                kwh += energy_kwh(_history.series(conn, host, metric, subject, since))
            if rows:
                energy[host] = {"kwh": round(kwh, 3), "cost": round(kwh * args["energy_price_per_kwh"], 2),
                                "days": args["energy_days"], "series": len(rows)}
        return energy
