# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for gpufleet.maintenance.alerts: decides on the controller, posts webhooks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url
from ansible.plugins.action import ActionBase

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _alerts, _history


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("targets", "cadence", "hosts", "failed_hosts", "history_path", "repeat_hours",
                             "report", "timeout_s", "now"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        _spec, args = self.validate_argument_spec(argument_spec=_alerts.ARGUMENT_SPEC)
        errors = _alerts.validate_targets(args["targets"])
        if errors:
            result.update(failed=True, msg="gpufleet_alert_webhooks: %s" % "; ".join(errors))
            return result
        if args["repeat_hours"] < 0:
            result.update(failed=True, msg="gpufleet_alert_repeat_hours must be >= 0, got %s" % args["repeat_hours"])
            return result
        now = args["now"] if args["now"] is not None else time.time()
        path = args["history_path"] or _history.default_path(task_vars.get("inventory_dir"), os.getcwd())
        problems = _alerts.current_problems(args["hosts"], args["failed_hosts"])
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
        alerts, new_state = _alerts.decide(state, problems, checked, now, args["repeat_hours"])
        sent = []
        emails = []
        if alerts and not self._task.check_mode:
            for position, target in enumerate(args["targets"]):
                kind = target.get("type", "webhook")
                name = target.get("name") or "%s %d" % (kind, position)
                body = _alerts.payload(kind, alerts, args["cadence"], args["report"])
                if kind == "email":
                    emails.append({"target": position, "name": name, "subject": body["subject"], "body": body["body"]})
                    continue
                sent.append(self._post(name, kind, target, body, args["timeout_s"]))
        if conn is not None:
            if not self._task.check_mode and not any(not s["ok"] for s in sent):
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

    @staticmethod
    def _post(name, kind, target, body, timeout):
        headers = {"Content-Type": "application/json"}
        headers.update(target.get("headers") or {})
        try:
            response = open_url(target["url"], data=json.dumps(body).encode("utf-8"), headers=headers, method="POST",
                                timeout=timeout, validate_certs=target.get("validate_certs", True))
            return {"name": name, "type": kind, "ok": True, "status": response.getcode(), "error": None}
        except HTTPError as exc:
            return {"name": name, "type": kind, "ok": False, "status": exc.code, "error": "HTTP %s %s" % (exc.code, exc.reason)}
        except (URLError, IOError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return {"name": name, "type": kind, "ok": False, "status": None, "error": str(reason)}
