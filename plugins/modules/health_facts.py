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
  - The role P(gpufleet.maintenance.host_health#role) uses this module for its areas.
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  areas:
    description: The areas to gather, in this order.
    type: list
    elements: str
    choices: [host, gpu, driver_stack, docker, maintenance, wsl, macos, proxmox, exposure, smart, images, access, model_updates]
    default: [host]
  host:
    description: Options of M(gpufleet.maintenance.host_facts) (C(paths), C(thresholds)).
    type: dict
    default: {}
  gpu:
    description:
      - Options of M(gpufleet.maintenance.gpu_facts) (C(source), C(nvidia_smi_path), C(amd_smi_path),
        C(rocm_smi_path), C(include_processes), C(timeout), C(root), C(psu_watts), C(thresholds)).
    type: dict
    default: {}
  driver_stack:
    description:
      - Options of M(gpufleet.maintenance.driver_stack_facts) (C(root), C(python_envs), C(probe_containers),
        C(hold_patterns), C(command_timeout_s)).
    type: dict
    default: {}
  docker:
    description: Options of M(gpufleet.maintenance.docker_facts) (C(docker_host), C(timeout), C(daemon_json), C(thresholds)).
    type: dict
    default: {}
  maintenance:
    description:
      - Options of M(gpufleet.maintenance.maintenance_facts) (C(collect), C(since_days) or C(since_s),
        C(log_paths), C(thresholds)); the review window is the last 7 days when neither is given.
    type: dict
    default: {}
  wsl:
    description:
      - Options of M(gpufleet.maintenance.wsl_facts) (C(root), C(proc_version_path), C(nvidia_smi_path),
        C(cuda_init_timeout_s), C(driver_package_patterns), C(state_file), C(only_on_wsl)). With C(only_on_wsl),
        a host that is not WSL gets C(gpufleet_wsl) C(null) (the daily cadence).
    type: dict
    default: {}
  macos:
    description:
      - Options of M(gpufleet.maintenance.macos_facts) (C(only_on_macos), C(check_updates), C(command_timeout_s),
        C(update_timeout_s), C(bin_dir), C(thresholds)). With C(only_on_macos), a host that is not macOS gets
        C(gpufleet_macos) C(null) (the daily and weekly cadences).
    type: dict
    default: {}
  proxmox:
    description:
      - Options of M(gpufleet.maintenance.proxmox_facts) (C(root), C(node), C(pvesh_path), C(qm_path), C(timeout),
        C(guest_expected_gpus), C(only_on_proxmox)). With C(only_on_proxmox), a host that is neither a Proxmox VE
        node nor a QEMU/KVM guest with a GPU gets C(gpufleet_proxmox) C(null) (the daily cadence).
    type: dict
    default: {}
  exposure:
    description: Options of M(gpufleet.maintenance.exposure_facts) (C(ports), C(allowed), C(timeout)).
    type: dict
    default: {}
  smart:
    description:
      - Options of M(gpufleet.maintenance.smart_facts) (C(devices), C(smartctl_path), C(timeout), C(wake),
        C(critical_paths), C(rated_tbw), C(previous), C(thresholds)). Needs root (C(become=true)) to open the drives.
    type: dict
    default: {}
  images:
    description:
      - The image pin audit (M(gpufleet.maintenance.image_digest) C(mode=audit)) - C(manifest) (default
        C(/etc/gpufleet/images.yml)), C(check_remote) (default C(false)), C(compose_files), C(docker_host),
        C(timeout) (default 60).
      - The C(gpufleet_images) fact holds C(manifest), C(manifest_present), C(check_remote), C(entries),
        C(unpinned), C(stale), C(compose_unpinned), C(problem), C(checks) and C(status). A host without the
        manifest gets an C(ok) note; a manifest that cannot be used, or a Docker that is installed but does not
        answer, is C(crit); no Docker SDK, no Docker on the host or a file that cannot be read is C(unknown)
        (could not look, with the fix). Never a failed task.
    type: dict
    default: {}
  access:
    description:
      - Options of M(gpufleet.maintenance.access_facts) (C(log_paths), C(rotated), C(since_days), C(now),
        C(known_clients), C(thresholds)) - the front door's access log over the week.
    type: dict
    default: {}
  model_updates:
    description:
      - Options of M(gpufleet.maintenance.model_updates_facts) (C(ollama_url), C(ollama_models_dir),
        C(ollama_registry), C(model_manifest), C(hf_models), C(hf_endpoint), C(hf_token_file), C(exclude), C(timeout)) -
        newer versions upstream of the models the host runs.
    type: dict
    default: {}
seealso:
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
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gather import gather_areas
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


def main():
    argument_spec = dict(areas=dict(type="list", elements="str", choices=sorted(registry.GATHERED), default=["host"]))
    argument_spec.update((area, dict(type="dict", default={})) for area in registry.GATHERED)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    options = dict((area, module.params[area]) for area in registry.GATHERED)
    try:
        facts, warnings, errors, seconds = gather_areas(module.run_command, module.params["areas"], options)
    except AreaError as exc:
        module.fail_json(msg="gathering health facts: %s" % exc)
    for warning in warnings:
        module.warn(warning)
    if errors:
        module.fail_json(msg="gathering health facts: %s" % "; ".join(errors), seconds=seconds)
    module.exit_json(changed=False, ansible_facts=facts, seconds=seconds)


if __name__ == "__main__":
    main()
