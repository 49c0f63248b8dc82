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
    is not served by a front door (nginx, Caddy, Traefik, HAProxy, Envoy, tailscaled) as C(crit) in the check
    C(inference_port_exposed) (subject C(address) and C(port)).
  - Reports whether ufw or an nftables input chain with policy drop is active (check C(firewall); C(warn) when
    neither is; C(unknown) with the reason when neither is active and ufw or nft could not be read, as
    happens without root).
  - Never fails for a missing tool; when the listening sockets cannot be read (no C(ss), C(ss) failing)
    the check C(listening_sockets) is C(unknown) with the reason and the fix, and C(listeners) is C(null).
  - Sets the fact C(gpufleet_exposure); the same area is gathered by M(gpufleet.maintenance.health_facts).
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  ports:
    description: Ports to audit (keys, port numbers) and what serves them; replaces the defaults.
    type: dict
  allowed:
    description: C(address:port) listeners you accept open to the network (C(*:port) for any address).
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds each command may take (at least 1).
    type: int
    default: 20
notes:
  - Process names and the firewall state need root (C(become)); without them a front door cannot be
    recognised (the C(crit) message says so) and C(firewall) is C(unknown).
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
      description:
        - C(listeners) (C(null) when not read, with C(listeners_reason)), C(exposed), C(firewall) (C(ufw) and
          C(nftables), each with a C(reason) when the tool failed), C(checks), C(status).
      returned: always
      type: dict
      sample:
        schema_version: 1
        listeners: [{address: 0.0.0.0, port: 11434, process: ollama, pid: 812}]
        listeners_reason: null
        exposed: [{address: 0.0.0.0, port: 11434, process: ollama, pid: 812}]
        firewall: {ufw: {present: false, active: null}, nftables: {present: true, tables: [], input_policy: null}}
        checks:
          - check: inference_port_exposed
            status: crit
            value: 0.0.0.0:11434
            threshold: loopback
            subject: {address: 0.0.0.0, port: 11434}
            address: 0.0.0.0
            port: 11434
            process: ollama
            message: 0.0.0.0:11434 (ollama, Ollama) listens on all addresses with no front door ...
        status: crit
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
