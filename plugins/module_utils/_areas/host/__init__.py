# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``host`` (fact ``gpufleet_host``): kernel, uptime, load, memory and the disk use of watched paths."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.host import checks, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading

AREA = Area(
    "host", "host",
    summary="kernel, uptime, load, memory and disk use of given paths",
    module="host_facts",
    options=dict(paths=dict(type="list", elements="path", default=["/"])),
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    metrics=present.metrics,
    readings=(
        Reading("uptime_s"),
        Reading("load_1m"),
        Reading("memory_total_bytes"),
        Reading("memory_available_bytes"),
        Reading("memory_available_pct"),
        Reading("disks[].size_bytes", subject=("path", "path")),
        Reading("disks[].used_bytes", subject=("path", "path")),
        Reading("disks[].free_bytes", subject=("path", "path")),
        Reading("disks[].used_pct", subject=("path", "path")),
    ),
)
