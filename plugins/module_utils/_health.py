# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How ``health_facts`` gathers the areas not yet moved into ``_areas/<name>/`` (issue 17).

Each function takes ``(run_command, validated options)`` and returns ``(fact, warnings)``; the
registry (``_areas/registry.py``) uses them as those areas' ``collect``. Deleted once every area
has its own package. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


def _thresholds(defaults, overrides, area):
    unknown = sorted(set(overrides or {}) - set(defaults))
    if unknown:
        raise AreaError("%s: unknown threshold(s) %s (known: %s)" % (area, ", ".join(unknown), ", ".join(sorted(defaults))))
    merged = dict(defaults)
    merged.update(dict((k, v) for k, v in (overrides or {}).items() if v is not None))
    return merged




def _maintenance(run_command, opts):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _maintenance as maint
    thresholds = _thresholds(maint.DEFAULT_THRESHOLDS, opts["thresholds"], "maintenance")
    warnings = []

    def run(argv, timeout):
        try:
            return _runner.run(run_command, argv, timeout=timeout)
        except _runner.ToolError as exc:
            warnings.append(str(exc))
            return None

    since = int(time.time() - float(opts["since_days"]) * 86400)
    fact, more = maint.gather(list(opts["collect"] or maint.COLLECT), thresholds, run, _runner.find_tool,
                              since=since, log_paths=opts["log_paths"])
    return fact, warnings + list(more)


def _exposure(run_command, opts):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _exposure as exposure
    ports = None
    if opts["ports"] is not None:
        try:
            ports = dict((int(k), str(v)) for k, v in opts["ports"].items())
        except (TypeError, ValueError):
            raise AreaError("exposure: ports: keys must be port numbers, got %s" % list(opts["ports"]))
    try:
        return exposure.gather(run_command, ports=ports, allowed=opts["allowed"], timeout=int(opts["timeout"]))
    except exposure.ExposureError as exc:
        raise AreaError(str(exc))
