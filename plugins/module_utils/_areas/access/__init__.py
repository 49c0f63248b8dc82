# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``access`` (fact ``gpufleet_access``): the weekly request-volume and access review of the nginx
front door's access log - requests per hour, 4xx/5xx, bursts of 401, clients outside the known networks.
Unusual volume against the earlier weeks is judged on the controller (``trends/request_volume``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.access import checks, collect, parse, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading

# Debian's nginx.conf: `access_log /var/log/nginx/access.log;` (combined), which the runner_service
# sites inherit (they set no access_log of their own).
DEFAULT_LOG = "/var/log/nginx/access.log"


def check_options(params):
    try:
        parse.networks(params.get("known_clients") or ())
    except ValueError as exc:
        return ["known_clients: %s" % exc]
    return []


AREA = Area(
    "access", "access",
    summary="the front door's access log over the week: requests per hour, 4xx/5xx, 401 bursts, unknown clients",
    module="access_facts",
    options=dict(
        log_paths=dict(type="list", elements="path", default=[DEFAULT_LOG]),
        rotated=dict(type="bool", default=True),
        since_days=dict(type="float", default=7),
        now=dict(type="int"),
        known_clients=dict(type="list", elements="str", default=list(parse.DEFAULT_KNOWN)),
    ),
    ranges={"since_days": (0.01, None)},
    check_options=check_options,
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    metrics=present.metrics,
    readings=(
        Reading("requests", summary="requests in the window"),
        Reading("requests_per_hour", summary="requests per hour over the hours the log covers (trends/request_volume)"),
        Reading("peak_requests_per_hour", summary="the busiest hour's requests"),
        Reading("server_errors_pct", summary="share of 5xx answers"),
        Reading("client_errors_pct", summary="share of 4xx answers"),
        Reading("unauthorized", summary="401 answers in the window"),
        Reading("unauthorized_peak_per_min", summary="the most 401 answers in one minute"),
        Reading("unknown_clients", summary="client addresses outside the known networks"),
    ),
)
