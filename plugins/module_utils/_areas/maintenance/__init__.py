# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``maintenance`` (fact ``gpufleet_maintenance``): journal and runner-log review, BIOS and
microcode, the OS auto-update window."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance import checks, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.options import exclusive, out_of_range
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading


def check_options(params):
    """``since_s`` (the module's name) and ``since_days`` (health_facts' name) say the same thing: one of them."""
    return exclusive(params, "since_s", "since_days") + out_of_range(params, {"since_s": (0, None), "since_days": (0, None)})


AREA = Area(
    "maintenance", "maintenance",
    summary="journal and runner-log review, BIOS and microcode, the OS auto-update window",
    module="maintenance_facts",
    options=dict(
        collect=dict(type="list", elements="str", choices=list(collect.COLLECT), default=list(collect.COLLECT)),
        since_s=dict(type="int"),
        since_days=dict(type="float"),
        log_paths=dict(type="list", elements="path", default=[]),
    ),
    check_options=check_options,
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    readings=(
        Reading("since_s"),
        Reading("firmware.bios_age_days"),
        Reading("reboots.unexpected"),
    ) + tuple(Reading("%s.%s" % (part, name)) for part in ("journal", "runner_logs") for name in checks.COUNTS),
)
