#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: alerts
short_description: Send fleet alerts on a status change, and a still-critical check once per window
version_added: 0.1.0
description:
  - Runs on the controller (action plugin). Compares the non-ok checks of this run (and the failed
    hosts) with the alert state saved in the history database and sends an alert for a new
    problem, a changed status, a problem that is resolved, and a check that is still C(crit)
    once every O(repeat_hours). Nothing else repeats.
  - C(webhook) targets get a JSON document, C(slack) targets a Slack-compatible C({"text"}),
    C(email) targets are returned in RV(emails) for M(community.general.mail) (the C(fleet_report) role sends them).
  - The state is saved only when every webhook accepted the alert, so a failed delivery is retried
    on the next run. Check mode decides but sends and saves nothing.
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  action:
    support: full
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
  delegation:
    support: none
    description: Can be used in conjunction with delegate_to and related keywords.
    details: Always runs on the controller.
options:
  targets:
    description:
      - Alert targets, each C({name, type, url, headers, validate_certs}) for C(webhook)/C(slack),
        or C({name, type=email, to, host, port, username, password, sender}) for C(email).
      - Secrets (URLs with tokens, passwords) are not logged.
    type: list
    elements: dict
    default: []
  cadence:
    description: The cadence of the run.
    type: str
    required: true
  hosts:
    description: Host name to its C(gpufleet_*) facts of this run.
    type: dict
    default: {}
  failed_hosts:
    description: Host name to the reason it failed or was unreachable.
    type: dict
    default: {}
  history_path:
    description: The history database holding the alert state (default beside the inventory).
    type: path
  repeat_hours:
    description: A check that stays C(crit) is sent again after this many hours.
    type: float
    default: 24
  report:
    description: Path of the report, named in the alerts.
    type: str
  timeout_s:
    description: Seconds to wait for a webhook.
    type: float
    default: 10
  now:
    description: Epoch seconds of the run; unset, the variable C(gpufleet_now), else C(GPUFLEET_NOW), else the controller's clock.
    type: float
"""

EXAMPLES = r"""
- name: Alert a generic webhook and Slack
  gpufleet.maintenance.alerts:
    cadence: daily
    targets: "{{ gpufleet_alert_webhooks }}"
    hosts: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'ansible_facts'))) }}"
    repeat_hours: 24
  run_once: true
  no_log: true
"""

RETURN = r"""
alerts:
  description: The alerts of this run.
  returned: always
  type: list
  elements: dict
  sample: [{host: gpu-ws-01, key: host/disk_used/path /, status: crit, previous: warn, reason: changed, message: "disk use of / is 91 %"}]
sent:
  description: One entry per webhook target posted to (C(ok), HTTP C(status), C(error)).
  returned: always
  type: list
  elements: dict
  sample: [{name: ops-hook, type: webhook, ok: true, status: 200, error: null}]
emails:
  description: Mails to send, one per email target (C(target) is its index in O(targets)).
  returned: always
  type: list
  elements: dict
  sample: [{target: 2, name: ops-mail, subject: "[gpufleet daily] CRIT: 1 alert(s)", body: "..."}]
error:
  description: Why the alert state could not be read or saved, or C(null).
  returned: always
  type: str
  sample: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import ALERTS as ARGUMENT_SPEC


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    module.fail_json(msg="gpufleet.maintenance.alerts runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
