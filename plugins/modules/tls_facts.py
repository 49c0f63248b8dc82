#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tls_facts
short_description: TLS certificate expiry checks of front-door endpoints, as the gpufleet_tls fact
version_added: 0.1.0
description:
  - Takes the loop results of M(community.crypto.get_certificate) (each with C(item) =
    C({name, host, port})) and returns the C(gpufleet_tls) fact with a C(tls_days_left) check per
    endpoint (C(warn) at O(warn_days) days left, C(crit) at O(crit_days)); an endpoint that did
    not answer is C(crit).
  - Usually run with C(delegate_to=localhost) right after the certificates were read from the
    controller; the fact lands on the host being checked.
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  results:
    description: The C(results) list of the C(community.crypto.get_certificate) loop.
    type: list
    elements: dict
    required: true
  warn_days:
    description: Days left that give a warning.
    type: float
    default: 21
  crit_days:
    description: Days left that are critical.
    type: float
    default: 7
  now:
    description:
      - The time the days left count from, in Unix seconds. Default the controller's clock; the cadences pass
        C(gpufleet_now) when a replay of a simulated timeline sets it.
    type: int
"""

EXAMPLES = r"""
- name: Read the front door's certificate
  community.crypto.get_certificate:
    host: "{{ item.host }}"
    port: "{{ item.port }}"
  loop: [{name: caddy, host: box.tailnet.ts.net, port: 443}]
  delegate_to: localhost
  failed_when: false
  register: certs

- name: Expiry checks
  gpufleet.maintenance.tls_facts:
    results: "{{ certs.results }}"
  delegate_to: localhost
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_tls:
      description: Endpoints, checks and the worst status.
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this fact's layout.
          type: int
          sample: 1
        endpoints:
          description: One entry per endpoint.
          type: list
          elements: dict
          sample: [{endpoint: caddy, not_after: "2027-01-01T00:00:00Z", days_left: 36.0, subject: box.tailnet.ts.net, error: null}]
        checks:
          description: C(tls_days_left) or C(tls_expiry) per endpoint.
          type: list
          elements: dict
          sample: [{check: tls_days_left, endpoint: caddy, status: ok, value: 36.0, threshold: 21, message: "TLS certificate of caddy: days left is 36 days"}]
        status:
          description: The worst status of the checks.
          type: str
          sample: ok
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.tls import AREA, build
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


def main():
    module = AnsibleModule(argument_spec=AREA.argument_spec(), supports_check_mode=True)
    try:
        params = AREA.checked(module.params)
    except AreaError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, ansible_facts={AREA.fact: build(params)})


if __name__ == "__main__":
    main()
