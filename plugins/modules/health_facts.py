#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: health_facts
short_description: Gather several health fact areas of a host in one module run
version_added: 0.1.0
description:
  - Runs the gathering of the single-area fact modules (M(gpufleet.maintenance.host_facts),
    M(gpufleet.maintenance.gpu_facts), M(gpufleet.maintenance.driver_stack_facts),
    M(gpufleet.maintenance.docker_facts), M(gpufleet.maintenance.maintenance_facts),
    M(gpufleet.maintenance.wsl_facts), M(gpufleet.maintenance.macos_facts), M(gpufleet.maintenance.proxmox_facts),
    M(gpufleet.maintenance.exposure_facts), M(gpufleet.maintenance.smart_facts), M(gpufleet.maintenance.access_facts),
    M(gpufleet.maintenance.model_updates_facts)) and the audit of
    M(gpufleet.maintenance.image_digest) in one process, so a
    cadence costs one round trip per host instead of one per area. The facts are the same as theirs
    (C(gpufleet_host), C(gpufleet_gpu), and so on), set side by side. The C(images) area sets
    C(gpufleet_images).
  - Each area takes the options of its module as a dict, for example O(gpu) with C(source=nvml).
    Unknown options or thresholds fail before anything is gathered.
  - An area limited to its platform (C(only_on_wsl), C(only_on_macos) or C(only_on_proxmox) set to C(true) in
    its dict) is first asked whether this host can be that platform; on a host that is certainly not (the
    kernel string of C(/proc/version) not WSL's, the kernel name not C(Darwin), neither C(/etc/pve) nor QEMU/KVM
    DMI strings) it reads nothing more, its fact is C(null) and its other options are not checked on that host.
  - The role P(gpufleet.maintenance.host_health#role) gathers the same areas with
    M(gpufleet.maintenance.health_upkeep), which can rotate logs in the same run.
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
  - gpufleet.maintenance.health_areas
seealso:
  - module: gpufleet.maintenance.health_upkeep
  - module: gpufleet.maintenance.host_facts
  - module: gpufleet.maintenance.gpu_facts
  - module: gpufleet.maintenance.driver_stack_facts
  - module: gpufleet.maintenance.docker_facts
  - module: gpufleet.maintenance.smart_facts
  - module: gpufleet.maintenance.macos_facts
  - module: gpufleet.maintenance.image_digest
"""

EXAMPLES = r"""
- name: The daily glance in one round trip
  gpufleet.maintenance.health_facts:
    areas: [host, gpu, driver_stack, docker]
    host:
      paths: [/, /var/lib/ollama, /var/lib/docker]
    gpu:
      thresholds:
        memory_temperature_warn_c: 90

- name: Monthly - are the pinned images current, and has the registry moved their tags?
  gpufleet.maintenance.health_facts:
    areas: [images]
    images:
      manifest: /etc/gpufleet/images.yml
      check_remote: true
"""

RETURN = r"""
ansible_facts:
  description: One fact per area, as the single-area modules set them.
  returned: always
  type: dict
  sample: {gpufleet_host: {status: ok}, gpufleet_gpu: {status: ok}}
seconds:
  description: Time each area took on the host.
  returned: always
  type: dict
  sample: {host: 0.004, gpu: 0.112, driver_stack: 0.051, docker: 0.083}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gather import argument_spec, gather_areas
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    options = dict((area, module.params[area]) for area in registry.GATHERED)
    try:
        facts, warnings, errors, seconds = gather_areas(module.run_command, module.params["areas"], options)
    except AreaError as exc:
        module.fail_json(msg="gathering health facts: %s" % exc)
    for warning in warnings:
        module.warn(warning)
    if errors:
        # the areas that worked are in the result: a cadence's rescue keeps them for the report
        module.fail_json(msg="gathering health facts: %s" % "; ".join(errors), seconds=seconds, ansible_facts=facts)
    module.exit_json(changed=False, ansible_facts=facts, seconds=seconds)


if __name__ == "__main__":
    main()
