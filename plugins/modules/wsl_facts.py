#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: wsl_facts
short_description: WSL2 GPU passthrough facts (host driver libraries, linker order, Linux driver packages, cuInit)
version_added: 0.1.0
description:
  - Tells whether the host is a WSL distribution (WSL1 or WSL2, from C(/proc/version)) and, on WSL,
    whether GPU passthrough works end to end, as one fact, C(gpufleet_wsl), with health checks.
  - On WSL2 the NVIDIA driver lives on the Windows host and C(/usr/lib/wsl/lib) carries its
    C(libcuda.so.1) and C(nvidia-smi). A Linux NVIDIA driver installed inside the distribution
    shadows them; C(nvidia-smi) can then still work while CUDA does not.
  - Reports the host driver's libraries, which C(libcuda.so.1) the dynamic linker loads (from the
    C(ldconfig -p) cache, or from the C(/etc/ld.so.conf.d) order when there is no cache), the Linux
    NVIDIA driver packages installed, what C(nvidia-smi) says, and the result of C(cuInit(0)) called
    through ctypes on the resolved library.
  - C(cuInit) runs in a child Python process under a timeout, so a library that crashes or hangs
    gives a verdict (C(crashed), C(timeout)) instead of stalling or killing the play.
  - On hosts that are not WSL the module only says so (one C(ok) check) and runs nothing.
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  root:
    description:
      - Directory that stands for C(/) when reading files (C(/proc/version), C(/etc/wsl.conf),
        C(/etc/ld.so.conf), C(/etc/ld.so.cache), C(/usr/lib/wsl/lib), the dpkg database, the
        state file). Tools found under it (C(/usr/lib/wsl/lib/nvidia-smi)) are run from there.
      - For tests and for inspecting a mounted image; the default reads the host itself.
    type: path
    default: /
  proc_version_path:
    description:
      - File read for the kernel string, relative to O(root).
      - Tests and containers dressed as WSL point it at a saved WSL C(/proc/version), since a
        container shares the kernel of its host and C(/proc/version) cannot be faked there.
    type: path
    default: /proc/version
  nvidia_smi_path:
    description:
      - C(nvidia-smi) to run. Default is C(/usr/lib/wsl/lib/nvidia-smi) below O(root), then
        C(nvidia-smi) on C(PATH) when O(root) is C(/).
    type: path
  cuda_init_timeout_s:
    description:
      - Seconds the C(cuInit(0)) child process may run before it is killed (C(outcome=timeout)).
      - At least 1.
    type: int
    default: 15
  driver_package_patterns:
    description:
      - Globs (as in APT preferences) naming the packages of a Linux NVIDIA driver, which must not
        be installed inside WSL.
      - When not given, the collection's list of a Linux NVIDIA driver's packages (C(nvidia-driver-*),
        C(libnvidia-compute-*), C(nvidia-utils-*), C(nvidia-dkms-*), C(libcuda1), C(cuda-drivers) and their
        relatives); the CUDA toolkit and the container toolkit are not in it. The fact's
        C(driver_package_patterns) shows the list in force (the P(gpufleet.maintenance.wsl_guard#role)
        role pins it away).
    type: list
    elements: str
  state_file:
    description:
      - JSON snapshot written by the P(gpufleet.maintenance.wsl_guard#role) role (host driver
        version, WSL kernel release), relative to O(root). When given, a change since that snapshot
        gives a C(wsl_host_changed) warning. The module itself never writes it.
    type: path
  only_on_wsl:
    description:
      - On a host that is not WSL, set C(gpufleet_wsl) to C(null) (not reported) instead of a fact with the
        C(ok) check "not a WSL host". The daily cadence uses it, so that hosts that are not WSL pay one read
        of C(/proc/version) and their report has no C(wsl) column.
      - A host whose kernel string cannot be read still gets the fact, with its C(unknown) check.
    type: bool
    default: false
seealso:
  - name: WSL2 GPU passthrough
    description: docs/wsl.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/wsl.md
  - name: Checks and thresholds
    description: docs/checks.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/checks.md
"""

EXAMPLES = r"""
- name: Gather WSL GPU passthrough facts
  gpufleet.maintenance.wsl_facts:

- name: Compare with the snapshot of the last run
  gpufleet.maintenance.wsl_facts:
    state_file: /var/lib/gpufleet/wsl_guard.json

- name: Fail when CUDA is broken although nvidia-smi works
  ansible.builtin.assert:
    that: "'nvidia_smi_ok_cuda_broken' not in (ansible_facts.gpufleet_wsl.checks | selectattr('status', 'eq', 'crit')
           | map(attribute='check'))"
    fail_msg: "{{ ansible_facts.gpufleet_wsl.checks | selectattr('status', 'eq', 'crit') | map(attribute='message') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_wsl:
      description:
        - WSL detection, GPU passthrough state, checks and the worst status.
        - C(null) on a host that is not WSL when O(only_on_wsl=true).
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this fact's layout.
          type: int
          sample: 1
        is_wsl:
          description: Whether the kernel is a WSL kernel.
          type: bool
          sample: true
        wsl_version:
          description: C(1) or C(2); C(null) when not WSL.
          type: int
          sample: 2
        kernel_release:
          description: Kernel release from C(/proc/version).
          type: str
          sample: 5.15.153.1-microsoft-standard-WSL2
        distro_name:
          description: C(WSL_DISTRO_NAME) when the module sees it (local runs inside WSL), else C(null).
          type: str
          sample: Ubuntu-22.04
        dxg_present:
          description: Whether C(/dev/dxg), the GPU paravirtualisation device, exists.
          type: bool
          sample: true
        systemd_enabled:
          description: C([boot] systemd) of C(/etc/wsl.conf); C(null) when not set.
          type: bool
          sample: true
        wsl_lib_dir:
          description: Directory of the host driver's libraries.
          type: str
          sample: /usr/lib/wsl/lib
        wsl_lib_dir_present:
          description: Whether it exists.
          type: bool
          sample: true
        wsl_libraries:
          description: C(libcuda.so*), C(libnvidia-ml.so*) and C(libdxcore.so) found in it.
          type: list
          elements: str
          sample: [libcuda.so, libcuda.so.1, libcuda.so.1.1, libdxcore.so, libnvidia-ml.so.1]
        ld_search_dirs:
          description: Directories in the order the dynamic linker's cache is built from.
          type: list
          elements: str
          sample: [/usr/lib/wsl/lib, /usr/local/lib, /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu]
        libcuda_candidates:
          description: Every C(libcuda.so.1) in those directories, in that order.
          type: list
          elements: str
          sample: [/usr/lib/wsl/lib/libcuda.so.1, /usr/lib/x86_64-linux-gnu/libcuda.so.1]
        libcuda_path:
          description: The C(libcuda.so.1) the dynamic linker loads; C(null) when none.
          type: str
          sample: /usr/lib/wsl/lib/libcuda.so.1
        libcuda_source:
          description: C(ld.so.cache) (from C(ldconfig -p)) or C(ld.so.conf) (the configured order).
          type: str
          sample: ld.so.cache
        libcuda_resolves_to_wsl:
          description: Whether that library is the host driver's copy.
          type: bool
          sample: true
        driver_package_patterns:
          description: The globs of a Linux NVIDIA driver's packages in force (O(driver_package_patterns), or the collection's list).
          type: list
          elements: str
          sample: [nvidia-driver-*, nvidia-dkms-*, libnvidia-compute-*, libcuda1, cuda-drivers]
        linux_nvidia_driver_packages:
          description: Installed Linux NVIDIA driver packages (C(name), C(version), C(held)).
          type: list
          elements: dict
          sample: [{name: libnvidia-compute-550, version: 550.54.14-0ubuntu1, held: false}]
        nvidia_smi_path:
          description: The C(nvidia-smi) run; C(null) when none was found.
          type: str
          sample: /usr/lib/wsl/lib/nvidia-smi
        nvidia_smi_ok:
          description: Whether C(nvidia-smi) exited 0 and reported a driver version.
          type: bool
          sample: true
        nvidia_smi_error:
          description: The first error line of a failed C(nvidia-smi).
          type: str
          sample: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.
        driver_version:
          description: The Windows host's driver version as C(nvidia-smi) reports it.
          type: str
          sample: "555.99"
        nvidia_smi_version:
          description: Version of the Linux-side C(nvidia-smi)/library shipped with it.
          type: str
          sample: 555.52.01
        cuda_version:
          description: Highest CUDA version the driver supports, per C(nvidia-smi).
          type: str
          sample: "12.5"
        cuda_init:
          description:
            - Result of C(cuInit(0)) on C(libcuda_path) in a child process; C(null) when there is no
              library. C(outcome) is C(returned), C(crashed), C(timeout), C(load_failed) or C(error);
              C(result) the CUresult number and C(name) its name.
          type: dict
          sample: {library: /usr/lib/wsl/lib/libcuda.so.1, outcome: returned, result: 0, name: CUDA_SUCCESS,
                   driver_api_version: 12050, message: cuInit(0) returned CUDA_SUCCESS (0)}
        snapshot:
          description: What a Windows update changes (C(driver_version), C(kernel_release), C(nvidia_smi_version)).
          type: dict
          sample: {driver_version: "555.99", kernel_release: 5.15.153.1-microsoft-standard-WSL2, nvidia_smi_version: 555.52.01}
        previous_snapshot:
          description: The snapshot read from O(state_file); C(null) when none.
          type: dict
          sample: null
        snapshot_changes:
          description: Keys that changed since the previous snapshot, with C(before) and C(after).
          type: list
          elements: dict
          sample: [{key: driver_version, before: "555.99", after: "560.70"}]
        checks:
          description:
            - Health checks, each with its C(subject) (C({}), the host); C(wsl) (not WSL), C(wsl1), C(wsl_lib_dir),
              C(linux_driver_inside_wsl), C(libcuda_shadowed), C(nvidia_smi), C(cuda_init) or
              C(nvidia_smi_ok_cuda_broken), C(wsl_host_changed).
          type: list
          elements: dict
          sample:
            - check: libcuda_shadowed
              status: crit
              value: /usr/lib/x86_64-linux-gnu/libcuda.so.1
              threshold: /usr/lib/wsl/lib/libcuda.so.1
              message: the dynamic linker loads /usr/lib/x86_64-linux-gnu/libcuda.so.1 instead of ...
        status:
          description: The worst status of the checks.
          type: str
          sample: ok
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
