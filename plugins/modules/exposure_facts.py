#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: exposure_facts
short_description: Audit which inference APIs listen beyond loopback without a front door, and the host firewall
version_added: 0.1.0
description:
  - Lists the listening TCP sockets (C(ss -ltnp)) and flags every inference port (Ollama 11434, vLLM 8000,
    llama.cpp/Open WebUI 8080, 5000, Gradio 7860, or O(ports)) that listens on a non-loopback address and
    is not served by a front door (nginx, Caddy, Traefik, HAProxy, Envoy, tailscaled) as C(crit).
  - Reports whether ufw or an nftables input chain with policy drop is active (C(warn) when neither is).
  - Sets the fact C(gpufleet_exposure).
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  ports:
    description: Ports to audit and what serves them; replaces the defaults.
    type: dict
  allowed:
    description: C(address:port) listeners you accept open to the network (C(*:port) for any address).
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds each command may take.
    type: int
    default: 20
notes:
  - Process names need root (C(become)); without them a front door cannot be recognised.
"""

EXAMPLES = r"""
- name: Audit exposure
  gpufleet.maintenance.exposure_facts:
  become: true

- name: Accept Open WebUI on the LAN address
  gpufleet.maintenance.exposure_facts:
    allowed: ["192.168.1.10:8080"]
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_exposure:
      description: C(listeners), C(exposed), C(firewall), C(checks), C(status).
      returned: always
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._exposure import ExposureError, gather


def main():
    module = AnsibleModule(
        argument_spec=dict(
            ports=dict(type="dict"),
            allowed=dict(type="list", elements="str", default=[]),
            timeout=dict(type="int", default=20),
        ),
        supports_check_mode=True,
    )
    ports = None
    if module.params["ports"] is not None:
        try:
            ports = dict((int(k), str(v)) for k, v in module.params["ports"].items())
        except ValueError:
            module.fail_json(msg="ports: keys must be port numbers, got %s" % list(module.params["ports"]))
    try:
        fact, warnings = gather(module.run_command, ports=ports, allowed=module.params["allowed"], timeout=module.params["timeout"])
    except ExposureError as exc:
        module.fail_json(msg=str(exc))
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, ansible_facts={"gpufleet_exposure": fact})


if __name__ == "__main__":
    main()
