# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``exposure`` (fact ``gpufleet_exposure``): inference APIs listening beyond loopback with no
front door in between, and the host firewall."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure import checks, collect, parse, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.options import out_of_range


def check_options(params):
    problems = out_of_range(params, {"timeout": (1, None)})
    try:
        parse.inference_ports(params.get("ports"))
    except (TypeError, ValueError):
        problems.append("ports: keys must be port numbers, got %s" % list(params["ports"]))
    return problems


AREA = Area(
    "exposure", "exposure",
    summary="inference ports open to the network without a front door, and the host firewall",
    module="exposure_facts",
    options=dict(
        ports=dict(type="dict"),
        allowed=dict(type="list", elements="str", default=[]),
        timeout=dict(type="int", default=20),
    ),
    check_options=check_options,
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    # No numeric reading: the fact holds listeners (addresses, ports, processes) and the firewall state.
    readings=(),
)
