# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for gpufleet.maintenance.fleet_report: writes the report files on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

from ansible.plugins.action import ActionBase

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _report


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("cadence", "hosts", "failed_hosts", "history", "charts", "sections", "dest", "formats", "now"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _spec, args = self.validate_argument_spec(argument_spec=_report.ARGUMENT_SPEC)
        now = args["now"] if args["now"] is not None else time.time()
        report = _report.build(args["cadence"], now, args["hosts"], args["failed_hosts"], args["history"],
                               args["charts"], args["sections"], check_mode=self._task.check_mode)
        dest = args["dest"] if os.path.isabs(args["dest"]) else os.path.join(os.getcwd(), args["dest"])
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        base = os.path.join(dest, "%s-%s" % (args["cadence"], stamp))
        renderers = {"html": _report.render_html, "md": _report.render_markdown,
                     "json": lambda r: json.dumps(r, indent=2, sort_keys=True) + "\n"}
        files = {}
        try:
            if not os.path.isdir(dest):
                os.makedirs(dest)
            for fmt in args["formats"]:
                path = "%s.%s" % (base, fmt)
                tmp_path = path + ".tmp"
                with open(tmp_path, "w") as handle:
                    handle.write(renderers[fmt](report))
                os.rename(tmp_path, path)
                files[fmt] = path
        except (IOError, OSError) as exc:
            result.update(failed=True, msg="writing the %s report under %s: %s: set gpufleet_report_dir to a "
                                           "writable directory" % (args["cadence"], dest, exc), files=files)
            return result
        # A report is the run's output, like a log: it records, it does not manage state.
        result.update(changed=False, files=files, status=report["status"], counts=report["counts"],
                      problems=len(report["problems"]), charts=len(report["charts"]))
        return result
