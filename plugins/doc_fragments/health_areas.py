# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The area options of the modules that gather several health areas in one run
    (``health_facts``, ``health_upkeep``); the same table as ``_areas/gather.py``'s argument spec."""

    DOCUMENTATION = r"""
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
"""
