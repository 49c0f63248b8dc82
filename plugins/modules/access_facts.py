#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: access_facts
short_description: Review the front door's access log - request volume, 4xx/5xx, 401 bursts, unknown clients
version_added: 0.1.0
description:
  - Reads nginx access logs in the C(combined) format (O(log_paths), by default Debian's
    C(/var/log/nginx/access.log), where the P(gpufleet.maintenance.runner_service#role) sites log) and,
    with O(rotated), the rotated files beside each (C(access.log.1), C(access.log.2.gz),
    C(access.log-20261120.gz)) written since the window began, line by line.
  - Over the window (the last O(since_days) days before O(now)) it counts the requests, the requests per
    hour (over the hours the log covers) and the busiest hour, the 4xx and 5xx answers, the 401 answers
    per minute and the client addresses outside O(known_clients).
  - Checks C(access_log) (per log - C(unknown) when it cannot be read or no line is in the combined
    format), C(unauthorized_burst) (C(warn) when one minute holds O(thresholds.unauthorized_burst_warn_per_min)
    401 answers), C(server_error_rate) (the share of 5xx, C(warn)/C(crit); with fewer than
    O(thresholds.server_error_min_requests) requests any 5xx is a C(warn)) and C(unknown_clients) (C(warn)
    with the addresses, their requests and how many were answered 2xx).
  - Unusual volume against the earlier weeks is judged on the controller from the history of
    C(access.requests_per_hour) (trend check C(request_volume) of M(gpufleet.maintenance.cadence_report)).
  - Sets the fact C(gpufleet_access); the same area is gathered by M(gpufleet.maintenance.health_facts)
    (its C(access) options). A log that cannot be read is never C(ok) and never fails the module.
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  log_paths:
    description: The access logs (combined format).
    type: list
    elements: path
    default: [/var/log/nginx/access.log]
  rotated:
    description: Also read the rotated files of each log written since the window began.
    type: bool
    default: true
  since_days:
    description: The window, in days before O(now) (at least 0.01).
    type: float
    default: 7
  now:
    description:
      - The end of the window, Unix seconds (the cadences pass C(gpufleet_now)); default the host's clock.
    type: int
  known_clients:
    description:
      - Addresses and networks (CIDR) of the clients the front door expects. Anything else is an unknown client.
      - The default is loopback, the private ranges (RFC 1918, RFC 4193), link-local and 100.64.0.0/10 (Tailscale).
    type: list
    elements: str
    default: [127.0.0.0/8, "::1/128", 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, "fc00::/7", 169.254.0.0/16, "fe80::/10",
              100.64.0.0/10]
  thresholds:
    description: Overrides for the default thresholds; unknown keys are refused.
    type: dict
    default: {}
    suboptions:
      unauthorized_burst_warn_per_min:
        description: 401 answers in one minute that give a warning (C(unauthorized_burst)).
        type: int
        default: 20
      server_error_warn_pct:
        description: Share of 5xx answers (percent) that gives a warning (C(server_error_rate)).
        type: float
        default: 1.0
      server_error_crit_pct:
        description: Share of 5xx answers (percent) that is critical.
        type: float
        default: 5.0
      server_error_min_requests:
        description: Requests the window needs for a rate; below it any 5xx is a warning.
        type: int
        default: 50
      unknown_clients_warn:
        description: Unknown client addresses that give a warning (C(unknown_clients)).
        type: int
        default: 1
notes:
  - Debian's nginx writes its logs as C(www-data:adm) mode 0640 - read them as root (C(become)) or a member of C(adm).
seealso:
  - module: gpufleet.maintenance.exposure_facts
  - name: Models and model runners
    description: docs/models.md in this collection (the weekly access review).
    link: https://example.invalid/gpufleet/maintenance/docs/models.md
"""

EXAMPLES = r"""
- name: Review the front door's week
  gpufleet.maintenance.access_facts:
    known_clients: [192.168.1.0/24, 100.64.0.0/10]
  become: true

- name: The last day of a second site's log, with a tighter 401 limit
  gpufleet.maintenance.access_facts:
    log_paths: [/var/log/nginx/gpufleet-llama.access.log]
    since_days: 1
    thresholds:
      unauthorized_burst_warn_per_min: 5
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_access:
      description:
        - C(window) (C(start_epoch), C(end_epoch), C(days)), C(log_paths), C(files) (each file read - C(path), C(lines),
          C(parsed), C(in_window), C(error)), C(requests), C(covered_hours), C(requests_per_hour),
          C(peak_requests_per_hour), C(peak_hour_epoch), C(hours) (C(hour_epoch), C(requests)), C(status_classes),
          C(client_errors_pct), C(server_errors), C(server_errors_pct), C(unauthorized), C(unauthorized_peak_per_min),
          C(unauthorized_minutes) (C(minute_epoch), C(count), C(top_client)), C(clients), C(unknown_clients),
          C(unknown_client_list) (C(client), C(requests), C(ok_2xx), C(unauthorized)), C(thresholds), C(checks), C(status).
      returned: always
      type: dict
      sample:
        schema_version: 1
        requests: 16872
        requests_per_hour: 100.43
        peak_requests_per_hour: 611
        status_classes: {1xx: 0, 2xx: 16204, 3xx: 0, 4xx: 651, 5xx: 17}
        server_errors_pct: 0.1
        unauthorized_peak_per_min: 43
        unknown_clients: 1
        checks:
          - check: unauthorized_burst
            status: warn
            value: 43
            threshold: 20
            subject: {}
            message: "43 answers 401 in the minute from 2026-11-19T03:12:00Z, most to 203.0.113.9 (warning at 20 per minute; ...)"
        status: warn
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.access import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
