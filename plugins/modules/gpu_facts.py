#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: gpu_facts
short_description: NVIDIA (NVML, nvidia-smi) and AMD (amd-smi, rocm-smi) GPU facts with health checks
version_added: 0.1.0
description:
  - Reads every NVIDIA GPU through NVML (nvidia-ml-py, C(import pynvml)) or C(nvidia-smi -q -x), and
    every AMD GPU through C(amd-smi ... --json) or C(rocm-smi ... --json), and returns them as one
    fact, C(gpufleet_gpu), with health checks (temperatures, memory junction, VRAM use, ECC,
    remapped rows, retired pages, throttling, stopped fans).
  - It also reads the PCI bus (C(/sys/bus/pci/devices)). An NVIDIA or AMD GPU there that no driver or tool
    reports is a C(crit) check C(gpu_present), "GPU present, driver not loaded" (typically a kernel update
    whose DKMS build failed), not "no GPU". A GPU tool that is there but fails (C(nvidia-smi) exiting 9,
    "couldn't communicate with the NVIDIA driver", or NVML "Driver Not Loaded") with no GPU on the bus is
    C(unknown), naming what failed; so is a GPU whose driver is loaded but that no tool could read.
  - A host with no NVIDIA/AMD GPU on the PCI bus and no GPU tooling gets C(present=false) and status
    C(ok); a CPU-only box is normal in a fleet.
  - An NVML "Driver/library version mismatch" (a driver update without a reboot) gives a C(crit)
    check C(driver_library_mismatch); a lost GPU gives C(state=lost) and a C(crit) check while the
    other GPUs still report.
  - Readings a GPU does not support are C(null), never C(0) and never a string like C(N/A).
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
requirements:
  - nvidia-ml-py (C(pynvml)) on the target for O(source=nvml); otherwise C(nvidia-smi).
options:
  source:
    description:
      - Where NVIDIA facts come from. V(auto) tries NVML, then C(nvidia-smi -q -x) when NVML is not
        usable (no nvidia-ml-py or no C(libnvidia-ml.so.1)).
      - V(none) gathers nothing (NVIDIA and AMD), for hosts known to have no GPU.
    type: str
    choices: [auto, nvml, nvidia_smi, none]
    default: auto
  nvidia_smi_path:
    description: Path of C(nvidia-smi); default is found on PATH and in the usual sbin/bin directories.
    type: path
  amd_smi_path:
    description: Path of C(amd-smi); default is found on PATH.
    type: path
  rocm_smi_path:
    description: Path of C(rocm-smi), used when C(amd-smi) is absent; default is found on PATH.
    type: path
  include_processes:
    description: Report the processes running on each NVIDIA GPU (pid, name, memory).
    type: bool
    default: false
  timeout:
    description:
      - Seconds after which a GPU tool that hangs (for example on a lost GPU) is killed; at least 1.
      - A tool that ignores SIGTERM is killed 5 seconds later; either way the warning and the C(tool_output)
        check say it timed out.
    type: int
    default: 20
  root:
    description:
      - Directory the host's C(/sys) is read under, for the GPUs on the PCI bus (C(<root>/sys/bus/pci/devices)).
        Tests and chroots point it elsewhere.
    type: path
    default: /
  psu_watts:
    description:
      - The rating of the host's power supply in watts. When set, the check C(psu_load) compares the power all GPUs
        draw with it (warning at 80 %, critical at 100 %) and warns when the GPUs' power limits add up to more than
        the PSU can give ("PSU capacitors drift - intermittent shutdowns under 600 W+ transients"). Unset, there is
        no C(psu_load) check.
    type: int
  thresholds:
    description: Overrides for the default thresholds; unknown keys are refused.
    type: dict
    default: {}
    suboptions:
      temperature_warn_c:
        description: Core (NVIDIA) or edge (AMD) temperature that gives a warning.
        type: float
        default: 85
      temperature_crit_c:
        description: Core or edge temperature that is critical.
        type: float
        default: 90
      memory_temperature_warn_c:
        description: Memory junction temperature that gives a warning.
        type: float
        default: 95
      memory_temperature_crit_c:
        description: Memory junction temperature that is critical.
        type: float
        default: 105
      vram_used_warn_pct:
        description: VRAM use (percent) that gives a warning.
        type: float
        default: 95
      fan_stopped_above_c:
        description: A fan at 0 % while the GPU is hotter than this gives a warning.
        type: float
        default: 60
      psu_draw_warn_pct:
        description: GPU power draw, as a share of O(psu_watts), that gives a warning.
        type: float
        default: 80
      psu_draw_crit_pct:
        description: GPU power draw, as a share of O(psu_watts), that is critical.
        type: float
        default: 100
seealso:
  - name: GPU facts and checks
    description: docs/gpu.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/gpu.md
"""

EXAMPLES = r"""
- name: Gather GPU facts (NVML first, then nvidia-smi; AMD through amd-smi or rocm-smi)
  gpufleet.maintenance.gpu_facts:

- name: Use nvidia-smi only, with a tighter memory junction limit and the process list
  gpufleet.maintenance.gpu_facts:
    source: nvidia_smi
    include_processes: true
    thresholds:
      memory_temperature_warn_c: 90

- name: Fail when a GPU is critical
  ansible.builtin.assert:
    that: ansible_facts.gpufleet_gpu.status != 'crit'
    fail_msg: "{{ ansible_facts.gpufleet_gpu.checks | selectattr('status', 'eq', 'crit') | map(attribute='message') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_gpu:
      description: GPU facts, checks and the worst status.
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this fact's layout.
          type: int
          sample: 1
        nvidia:
          description:
            - NVIDIA GPUs. C(present), C(source) (C(nvml) or C(nvidia_smi)), C(driver_version),
              C(cuda_driver_version), C(nvml_version), C(gpu_count), C(gpus), and C(reason) when absent.
            - Each GPU has C(index), C(state) (C(ok) or C(lost)), C(error), C(name), C(uuid), C(serial),
              C(pci_bus_id), C(vbios_version), C(temperature_c), C(memory_temperature_c),
              C(temperature_slowdown_c), C(temperature_shutdown_c), C(power_draw_w), C(power_limit_w),
              C(power_default_limit_w), C(power_max_limit_w), C(fan_speed_pct), C(memory_total_mib),
              C(memory_used_mib), C(memory_used_pct), C(utilization_gpu_pct), C(clocks_sm_mhz),
              C(clocks_mem_mhz), C(throttle_reasons), C(ecc), C(retired_pages), C(remapped_rows), C(pcie),
              C(persistence_mode), C(compute_mode), C(processes).
          type: dict
          sample:
            present: true
            source: nvml
            driver_version: "550.54.15"
            cuda_driver_version: "12.4"
            nvml_version: "12.550.54.15"
            gpu_count: 1
            gpus:
              - index: 0
                state: ok
                name: NVIDIA H100 80GB HBM3
                temperature_c: 34
                memory_temperature_c: 42
                power_draw_w: 71.2
                memory_used_pct: 0.5
                throttle_reasons: [gpu_idle]
        amd:
          description:
            - AMD GPUs. C(present), C(source) (C(amd_smi) or C(rocm_smi)), C(rocm_version),
              C(driver_version), C(gpus) with C(index), C(name), C(gfx_target), C(vbios_version),
              C(temperature_edge_c), C(temperature_junction_c), C(temperature_memory_c), C(power_w),
              C(power_cap_w), C(fan_speed_pct), C(vram_total_mib), C(vram_used_mib), C(vram_used_pct),
              C(ecc_correctable), C(ecc_uncorrectable).
          type: dict
          sample: {present: false, reason: neither amd-smi nor rocm-smi found, gpus: []}
        pci:
          description:
            - The NVIDIA (vendor C(0x10de)) and AMD (C(0x1002)) GPUs on the PCI bus, whatever the drivers say.
              C(path) read, C(error) when it could not be read, and C(gpus) with C(address), C(vendor), C(class),
              C(driver) (the kernel driver bound, or null) and C(state) (C(driver), C(no_driver), C(passthrough)
              for vfio-pci).
            - Absent with O(source=none).
          type: dict
          sample:
            path: /sys/bus/pci/devices
            error: null
            gpus: [{address: "0000:3b:00.0", vendor: nvidia, class: "0x030200", driver: null, state: no_driver}]
        thresholds:
          description: The thresholds in force.
          type: dict
          sample: {temperature_warn_c: 85, temperature_crit_c: 90}
        checks:
          description:
            - "Health checks, each with its C(subject) (C({gpu: 0}) for a check of one GPU, C({}) for the host), and
              C(gpu) and C(vendor) where they concern one GPU."
            - Per GPU C(gpu_temperature), C(memory_temperature), C(vram_used), C(ecc_uncorrectable), C(remapped_rows),
              C(retired_pages_pending), C(throttle) (heat), C(power_brake) (the PSU's brake signal, NVIDIA), C(fan_stopped), or
              C(gpu_lost) for a GPU the driver lost;
              per host C(driver_library_mismatch), C(tool_output), C(gpu_present) and, with O(psu_watts), C(psu_load).
          type: list
          elements: dict
          sample:
            - gpu: 0
              vendor: nvidia
              check: gpu_temperature
              status: ok
              value: 34
              threshold: 85
              message: GPU 0 (NVIDIA H100 80GB HBM3) core temperature is 34 C
              subject: {gpu: 0}
        status:
          description: The worst status of the checks.
          type: str
          sample: ok
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
