# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``tls`` (fact ``gpufleet_tls``): certificate expiry of the front doors, read from the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.tls import checks, parse, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading

AREA = Area(
    "tls", "tls",
    summary="TLS certificate expiry of the front doors (Caddy, nginx, Tailscale)",
    module="tls_facts",
    options=dict(results=dict(type="list", elements="dict", required=True), now=dict(type="int")),
    flat_thresholds=True,
    checks=checks.CHECKS,
    present=present.summary_lines,
    metrics=present.metrics,
    readings=(Reading("endpoints[].days_left", subject=("endpoint", "endpoint")),),
)


def build(params, now=None):
    """The ``gpufleet_tls`` fact from validated options (``results`` of get_certificate)."""
    if now is None and params.get("now") is not None:
        now = datetime.datetime.fromtimestamp(params["now"], datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    data = {"endpoints": parse.endpoints(params["results"], now)}
    found = checks.evaluate(data, params)
    fact = dict(schema_version=AREA.schema_version, endpoints=data["endpoints"], checks=found,
                status=worst_status(found))
    return fact
