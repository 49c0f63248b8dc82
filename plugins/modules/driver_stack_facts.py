#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: driver_stack_facts
short_description: Driver, CUDA, cuDNN/NCCL/TensorRT, ROCm and DKMS facts with a compatibility verdict
version_added: 0.1.0
description:
  - Reads every link of the GPU driver chain of a host, kernel, DKMS module (for the running and the
    newest kernel), loaded kernel module, userspace driver libraries, NVML, container toolkit,
    running images and Python wheels, and tells whether they agree before a user hits a cryptic
    loader error. Returns one fact, C(gpufleet_driver_stack), with checks and a one-word
    C(verdict) (C(ok), C(reboot_pending) or C(broken)) plus the reason and the link.
  - CUDA compatibility comes from NVIDIA's CUDA Toolkit Release Notes table (minimum driver per
    toolkit release, CUDA 11.0 through 13.0) and models minor version compatibility; ROCm from
    AMD's user and kernel-space support matrix. Versions beyond the data are C(unknown).
  - Missing files or tools (C(dkms), C(dpkg-query)) give C(null) facts and a warning; garbled
    lines are skipped with a warning.
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  root:
    description:
      - Directory every file is read relative to (a mounted image, a chroot, a test tree).
      - When it is not C(/), only files below it are read; no command runs (C(dkms status) is
        replaced by the C(/var/lib/dkms) tree, C(dpkg-query) by C(/var/lib/dpkg/status), and
        NVML and containers are not probed). The fact's C(sources.commands) says so.
      - A C(root) that does not exist fails the module (in C(health_facts), that area's error).
    type: path
    default: /
  python_envs:
    description:
      - Virtualenv or conda prefixes (below O(root)) whose installed wheels are read from their
        metadata, without importing anything (C(torch/version.py), C(*.dist-info/METADATA)).
    type: list
    elements: path
    default: []
  probe_containers:
    description:
      - On the live host, list running Docker containers that request GPUs, run
        C(nvidia-smi -L) inside each (C(docker exec)) and check their image's C(NVIDIA_REQUIRE_CUDA)
        against the driver.
    type: bool
    default: false
  hold_patterns:
    description:
      - Shell patterns of the packages that must be held (C(apt-mark hold)); installed ones that
        are not give the C(driver_packages_not_held) warning.
      - When not given, the collection's list of the GPU stack's packages (NVIDIA driver, CUDA,
        cuDNN, NCCL, TensorRT, container toolkit, amdgpu-dkms and ROCm), the same list the
        P(gpufleet.maintenance.driver_pin#role) role holds; the fact's C(hold_patterns) shows it.
    type: list
    elements: str
  command_timeout_s:
    description:
      - Seconds each command (C(dkms), C(dpkg-query), C(nvidia-smi), C(docker)) may run before it is killed.
      - At least 1.
    type: int
    default: 30
seealso:
  - name: The driver stack verdict chain
    description: docs/driver_stack.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/driver_stack.md
"""

EXAMPLES = r"""
- name: Read the driver stack, including the wheels of the team's venv
  gpufleet.maintenance.driver_stack_facts:
    python_envs:
      - /opt/venvs/train

- name: Inspect a mounted image instead of the live host (files only)
  gpufleet.maintenance.driver_stack_facts:
    root: /mnt/golden-image

- name: Also check the GPU containers (NVML inside each, NVIDIA_REQUIRE_CUDA of each image)
  gpufleet.maintenance.driver_stack_facts:
    probe_containers: true

- name: Stop before rebooting into a kernel without the nvidia module
  ansible.builtin.assert:
    that: ansible_facts.gpufleet_driver_stack.verdict != 'broken'
    fail_msg: "{{ ansible_facts.gpufleet_driver_stack.verdict_reason }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_driver_stack:
      description: The driver stack, its checks, the worst status and the verdict.
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this fact's layout.
          type: int
          sample: 1
        root:
          description: The directory files were read below.
          type: str
          sample: /
        live:
          description: Whether C(root) is the live host (commands were run).
          type: bool
          sample: true
        sources:
          description: Where packages and DKMS state came from, and whether commands ran.
          type: dict
          sample: {packages: dpkg-query, dkms: dkms status, commands: run}
        kernel:
          description: C(running_release), C(installed_releases), C(newest_release), C(reboot_required),
            C(reboot_required_packages), C(secure_boot) (C(enabled), C(disabled), C(unknown)).
          type: dict
          sample: {running_release: 6.8.0-45-generic, installed_releases: [6.8.0-45-generic, 6.8.0-48-generic],
                   newest_release: 6.8.0-48-generic, reboot_required: true, reboot_required_packages: [linux-image-6.8.0-48-generic],
                   secure_boot: disabled}
        dkms:
          description: Every DKMS entry (C(module), C(version), C(kernel), C(arch), C(status), C(note)); C(null) when not readable.
          type: list
          elements: dict
          sample: [{module: nvidia, version: 550.120, kernel: 6.8.0-45-generic, arch: x86_64, status: installed, note: null}]
        nvidia:
          description: C(installed), C(kernel_module_version), C(kernel_module_flavor) (C(open)/C(proprietary)),
            C(kernel_module_loaded), C(userspace_version), C(userspace_source), C(nouveau_loaded), C(packages)
            (name, arch, version, upstream_version, status, installed, held), C(dkms), C(cuda_driver_version)
            (newest CUDA the driver supports, or C(unknown)), C(nvml_ok), C(nvml_message).
          type: dict
          sample: {kernel_module_version: 550.120, userspace_version: 550.120, cuda_driver_version: "12.4"}
        cuda_toolkits:
          description: Toolkits under C(/usr/local/cuda*) and from C(cuda-toolkit-X-Y) packages (C(version), C(path), C(package), C(source)).
          type: list
          elements: dict
          sample: [{version: 12.4.1, path: /usr/local/cuda-12.4, package: cuda-toolkit-12-4, source: version file}]
        cuda_default_path:
          description: The toolkit C(/usr/local/cuda) points to.
          type: str
          sample: /usr/local/cuda-12.4
        cuda_packages:
          description: Installed CUDA, cuDNN, NCCL and TensorRT packages.
          type: list
          elements: dict
        cudnn_version:
          description: cuDNN version from packages or C(cudnn_version.h).
          type: str
          sample: 9.1.0.70
        nccl_version:
          description: NCCL version from packages or C(nccl.h).
          type: str
          sample: 2.21.5
        tensorrt_version:
          description: TensorRT version from packages or C(NvInferVersion.h).
          type: str
          sample: 10.0.1.6
        python_envs:
          description: Per prefix, C(present), C(site_packages), C(torch_version), C(torch_cuda), C(torch_hip),
            C(wheels) (name and version of CUDA-related wheels), C(cuda_runtime_wheel).
          type: list
          elements: dict
          sample: [{prefix: /opt/venvs/train, torch_version: 2.5.1+cu126, torch_cuda: "12.6", torch_hip: null,
                    wheels: [{name: nvidia-cudnn-cu12, version: 9.5.1.17}]}]
        rocm:
          description: C(installed), C(version), C(release), C(amdgpu_dkms_version), C(amdgpu_dkms_release),
            C(amdgpu_kernel_module_version), C(hip_version), C(gfx_targets), C(packages).
          type: dict
          sample: {version: 6.2.0-66, release: "6.2", amdgpu_dkms_release: "6.2", gfx_targets: [gfx90a]}
        container_toolkit:
          description: C(version), C(docker_nvidia_runtime), C(containerd_nvidia_runtime), C(cdi_spec) and, with
            O(probe_containers), C(containers) (name, image, required_cuda, nvml_ok, nvml_message).
          type: dict
        held_packages:
          description: Installed packages on hold.
          type: list
          elements: str
        hold_patterns:
          description: The patterns of the packages that must be held (O(hold_patterns), or the collection's list).
          type: list
          elements: str
          sample: [nvidia-driver-*, nvidia-dkms-*, libnvidia-compute-*, cuda-toolkit*, libcudnn*, rocm*]
        unheld_driver_packages:
          description: Installed packages matching O(hold_patterns) that are not held.
          type: list
          elements: str
        checks:
          description:
            - Health checks (see docs/checks.md), each with its C(subject), in the order of the chain;
              C(reboot_required), C(dkms_missing_for_kernel) and C(secure_boot_unsigned_module) (per module
              and kernel), C(nvidia_module_not_loaded), C(driver_library_mismatch), C(nouveau_loaded_with_nvidia),
              C(nvml_init), C(container_lost_gpu) and C(image_cuda_newer_than_driver) (per container),
              C(toolkit_newer_than_driver) (per toolkit), C(wheel_cuda_newer_than_driver) (per Python env),
              C(driver_packages_not_held), C(rocm_userspace_dkms_mismatch).
          type: list
          elements: dict
          sample:
            - check: dkms_missing_for_kernel
              status: crit
              value: null
              threshold: null
              subject: {module: nvidia, kernel: 6.8.0-48-generic}
              module: nvidia
              kernel: 6.8.0-48-generic
              message: no nvidia DKMS module is built for the newest kernel 6.8.0-48-generic, so booting it comes up ...
        status:
          description: The worst status of the checks.
          type: str
          sample: ok
        verdict:
          description: C(ok), C(reboot_pending) (a reboot realigns the chain) or C(broken) (a link is wrong; the fix is in C(verdict_reason)).
          type: str
          sample: reboot_pending
        verdict_reason:
          description: Which link and why, with the fix.
          type: str
        verdict_link:
          description: The first link that disagrees (C(kernel), C(dkms), C(kernel_module), C(userspace), C(nvml),
            C(container_toolkit), C(images_and_wheels)), or C(null).
          type: str
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
