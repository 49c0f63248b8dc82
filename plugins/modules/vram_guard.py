#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vram_guard
short_description: Restart the inference service when GPU memory stays exhausted
version_added: 0.1.0
description:
  - Reads the VRAM use of every GPU (the same readers as M(gpufleet.maintenance.gpu_facts)), or takes
    O(first_reading), a C(gpufleet_gpu) fact already gathered. When a GPU is at or above
    O(threshold_pct), it waits O(recheck_s) seconds and reads again; only a GPU still at or above the
    threshold the second time counts as exhausted, so a runner that is busy for a moment is left alone.
    With O(first_reading) and no GPU at the threshold, the GPUs are not read at all.
  - When VRAM stayed exhausted it restarts the configured O(services) (systemd units or Docker
    containers) in order, and reports a C(warn) check saying so; a restart that fails, or
    exhausted VRAM with no service configured, is C(crit).
  - Sets the fact C(gpufleet_vram_guard) with the readings, the restarts and the checks.
  - The daily cadence runs it, with the day's GPU reading as O(first_reading), when
    C(gpufleet_restart_on_vram_exhaustion) is true.
author:
  - gpufleet maintainers (@gpufleet)
requirements:
  - nvidia-ml-py (C(pynvml)) or C(nvidia-smi), or C(amd-smi)/C(rocm-smi), on the target.
  - docker (the Docker SDK for Python) on the target for services of C(kind=container).
attributes:
  check_mode:
    support: full
    description: Reads and decides; the services are not restarted and C(changed) says one would be.
  diff_mode:
    support: none
    description: Nothing is written, so there is nothing to diff.
options:
  threshold_pct:
    description: VRAM use, in percent of the GPU's memory, at or above which a GPU counts as exhausted.
    type: float
    default: 95
  recheck_s:
    description:
      - Seconds to wait before the second reading. V(0) restarts on one reading (not recommended).
      - The wait happens only when a GPU is at or above the threshold.
    type: int
    default: 60
  services:
    description: What to restart, in order, when VRAM stayed exhausted.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The systemd unit (C(ollama) or C(ollama.service)) or the container name.
        type: str
        required: true
      kind:
        description: How to restart it.
        type: str
        choices: [systemd, container]
        default: systemd
  first_reading:
    description:
      - A C(gpufleet_gpu) fact (from M(gpufleet.maintenance.gpu_facts) or M(gpufleet.maintenance.health_facts))
        taken as the first reading instead of reading the GPUs now.
    type: dict
  restart_timeout_s:
    description: Seconds a restart may take (for a container, the stop grace period plus the start).
    type: int
    default: 120
  source:
    description: Where NVIDIA readings come from (see M(gpufleet.maintenance.gpu_facts)).
    type: str
    choices: [auto, nvml, nvidia_smi]
    default: auto
  nvidia_smi_path:
    description: Path of C(nvidia-smi); default is found on PATH.
    type: path
  amd_smi_path:
    description: Path of C(amd-smi); default is found on PATH.
    type: path
  rocm_smi_path:
    description: Path of C(rocm-smi); default is found on PATH.
    type: path
  timeout:
    description: Seconds after which a GPU tool that hangs is killed.
    type: int
    default: 20
  docker_host:
    description: The Docker daemon for container services; default C(DOCKER_HOST) or the local socket.
    type: str
seealso:
  - module: gpufleet.maintenance.gpu_facts
  - name: Cadence playbooks
    description: docs/cadence.md in this collection (the daily run and its settings).
    link: https://example.invalid/gpufleet/maintenance/docs/cadence.md
"""

EXAMPLES = r"""
- name: Restart Ollama when a GPU stays above 95 % VRAM for a minute
  gpufleet.maintenance.vram_guard:
    threshold_pct: 95
    recheck_s: 60
    services:
      - name: ollama

- name: Use the reading the play already took (no second GPU read unless VRAM is high)
  gpufleet.maintenance.vram_guard:
    first_reading: "{{ ansible_facts.gpufleet_gpu }}"
    services:
      - name: ollama

- name: A vLLM container instead
  gpufleet.maintenance.vram_guard:
    services:
      - name: vllm
        kind: container
  register: guard

- name: Show what happened
  ansible.builtin.debug:
    msg: "{{ guard.ansible_facts.gpufleet_vram_guard.checks | map(attribute='message') }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by this module.
  returned: always
  type: complex
  contains:
    gpufleet_vram_guard:
      description:
        - C(schema_version), C(threshold_pct), C(recheck_s); C(gpus) (the first reading of every GPU,
          C(vendor), C(gpu), C(name), C(used_pct)); C(stayed) and C(fell) (GPUs exhausted at first
          that stayed or fell, with C(first_pct) and C(second_pct)); C(restarts) (C(name), C(kind),
          C(restarted), C(error)); C(checks) (check C(vram_exhaustion)) and C(status).
      returned: always
      type: dict
      sample:
        schema_version: 1
        threshold_pct: 95.0
        recheck_s: 60
        gpus: [{vendor: nvidia, gpu: 0, name: NVIDIA A100-SXM4-80GB, used_pct: 97.5}]
        stayed: [{vendor: nvidia, gpu: 0, name: NVIDIA A100-SXM4-80GB, used_pct: 98.1, first_pct: 97.5, second_pct: 98.1}]
        fell: []
        restarts: [{name: ollama, kind: systemd, restarted: true, error: null}]
        checks:
          - {check: vram_exhaustion, status: warn, gpu: 0, vendor: nvidia, value: 98.1, threshold: 95.0,
             message: "NVIDIA GPU 0 VRAM stayed at or above 95 % for 60 s (97.5 %, then 98.1 %): restarted ollama (systemd); ..."}
        status: warn
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.vram_guard import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops.vram_guard import run


def main():
    run(AnsibleModule(argument_spec=AREA.argument_spec(), supports_check_mode=True))


if __name__ == "__main__":
    main()
