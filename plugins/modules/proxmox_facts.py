#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: proxmox_facts
short_description: GPU passthrough facts on Proxmox VE nodes and inside their guests
version_added: 0.1.0
description:
  - On a Proxmox VE node (a host with C(/etc/pve)) - which VM holds which PCI device through vfio-pci, as
    one fact, C(gpufleet_proxmox), with health checks. The VMs come from
    C(pvesh get /nodes/<node>/qemu --output-format json), their C(hostpciN) entries from C(qm config <vmid>)
    (templates are left out); cluster mappings (C(mapping=<id>)) are resolved for this node with
    C(pvesh get /cluster/mapping/pci). The PCI bus is read from sysfs - vendor, device and class, the bound
    driver (the C(driver) link), the IOMMU group - and every GPU on it (NVIDIA or AMD, display class) is
    reported with the VMs configured to hold it.
  - Proxmox binds a passed-through device, and every other endpoint of its IOMMU group, to vfio-pci when the
    VM starts. Tearing a GPU away from a host driver (nvidia, nouveau, amdgpu) at that moment is what fails.
    So a GPU a VM passes through must be bound to vfio-pci when the host boots - C(gpu_host_driver), crit
    when the VM runs or starts on boot; the same for the other functions passed through - C(hostpci_not_vfio);
    every configured device must be on the bus - C(hostpci_missing); the IOMMU must be on - C(iommu); and a
    passed-through device should not share its IOMMU group with devices the VM does not get - C(iommu_group_shared).
    C(pve_api) says whether the VMs could be read. Mediated devices (C(mdev), NVIDIA vGPU) keep their host
    driver and are not judged.
  - Inside a QEMU/KVM guest (its DMI strings say QEMU or KVM) - the GPUs on the guest's PCI bus and whether
    their vendor's driver is bound - C(guest_gpu), crit when fewer than O(guest_expected_gpus) are there.
  - On a host that is neither, one C(ok) check, C(proxmox), says so (or no fact at all with O(only_on_proxmox)).
author:
  - gpufleet maintainers (@gpufleet)
extends_documentation_fragment:
  - gpufleet.maintenance.facts
options:
  root:
    description:
      - Directory that stands for C(/) when reading files (C(/etc/pve), C(/sys/bus/pci/devices),
        C(/sys/kernel/iommu_groups), C(/sys/class/dmi/id)). C(pvesh) and C(qm) still run on the host.
      - For tests and for inspecting a captured tree; the default reads the host itself.
    type: path
    default: /
  node:
    description:
      - The Proxmox VE node name whose VMs are read. Default is the short host name, which is the node name
        on a standard installation.
    type: str
  pvesh_path:
    description: C(pvesh) to run; default C(pvesh) on C(PATH) or in C(/usr/bin).
    type: path
  qm_path:
    description: C(qm) to run; default C(qm) on C(PATH) or in C(/usr/sbin).
    type: path
  timeout:
    description:
      - Seconds each C(pvesh)/C(qm) command may run before it is killed. At least 1.
    type: int
    default: 30
  guest_expected_gpus:
    description:
      - Inside a guest, the number of GPUs passed through to it. Fewer on its PCI bus is C(crit) (C(guest_gpu)) - the
        VM runs without its GPU, which the gpu area would call a CPU-only host.
      - Not given - no expectation; GPUs found are still checked for a driver.
    type: int
  only_on_proxmox:
    description:
      - On a host that is neither a Proxmox VE node nor a QEMU/KVM guest with a GPU (or an expected one), set
        C(gpufleet_proxmox) to C(null) (not reported) instead of a fact with the C(ok) check "not a Proxmox node".
        The daily cadence uses it, so that other hosts read a few files and their report has no C(proxmox) column.
    type: bool
    default: false
seealso:
  - name: Proxmox VE and GPU passthrough
    description: docs/proxmox.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/proxmox.md
  - name: Checks and thresholds
    description: docs/checks.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/checks.md
  - name: Proxmox VE PCI(e) passthrough
    description: The Proxmox VE documentation on passthrough, vfio-pci and IOMMU groups.
    link: https://pve.proxmox.com/wiki/PCI(e)_Passthrough
"""

EXAMPLES = r"""
- name: Which VM holds which GPU, and is it bound to vfio-pci?
  gpufleet.maintenance.proxmox_facts:
  become: true

- name: Inside a VM that must have its GPU
  gpufleet.maintenance.proxmox_facts:
    guest_expected_gpus: 1

- name: Fail when a VM that starts on boot would have to tear its GPU from a host driver
  ansible.builtin.assert:
    that: "'gpu_host_driver' not in (ansible_facts.gpufleet_proxmox.checks | selectattr('status', 'eq', 'crit')
           | map(attribute='check'))"
    fail_msg: "{{ ansible_facts.gpufleet_proxmox.checks | selectattr('status', 'eq', 'crit') | map(attribute='message') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    gpufleet_proxmox:
      description:
        - The node's passthrough VMs and GPUs, or the guest's GPUs, with checks and the worst status.
        - C(null) on a host that is neither a node nor a QEMU/KVM guest with a GPU when O(only_on_proxmox=true).
      returned: always
      type: dict
      contains:
        schema_version:
          description: Version of this fact's layout.
          type: int
          sample: 1
        role:
          description: C(host) (a Proxmox VE node), C(guest) (a QEMU/KVM guest) or C(none).
          type: str
          sample: host
        node:
          description: The node name whose VMs were read; C(null) off a node.
          type: str
          sample: pve
        dmi:
          description: The DMI strings read (C(sys_vendor), C(product_name), C(bios_vendor), C(board_vendor)).
          type: dict
          sample: {sys_vendor: QEMU, product_name: "Standard PC (Q35 + ICH9, 2009)", bios_vendor: null, board_vendor: null}
        iommu_enabled:
          description: Whether the node has IOMMU groups; C(null) off a node.
          type: bool
          sample: true
        pci_error:
          description: Why the PCI bus (or some of its devices) could not be read; C(null) when it was.
          type: str
          sample: null
        api_error:
          description: Why the VMs could not be listed (C(pvesh) missing or failing); C(null) when they were.
          type: str
          sample: null
        vm_count:
          description: VMs on the node (templates left out); C(null) when they could not be listed.
          type: int
          sample: 4
        vms:
          description:
            - The VMs with C(hostpciN) entries (and those whose configuration could not be read) - C(vmid), C(name),
              C(status), C(onboot), C(config_error) and C(hostpci), one item per entry - C(key), C(value), the parsed
              C(ids), C(mapping), C(mdev), C(pcie), C(x_vga), C(error), the PCI C(functions) it names on this node
              (C(address), C(vendor_id), C(device_id), C(class), C(driver), C(iommu_group), C(gpu)) and what it
              names that is C(missing) or C(unresolved).
          type: list
          elements: dict
          sample:
            - vmid: 100
              name: wintest
              status: running
              onboot: false
              config_error: null
              hostpci:
                - key: hostpci0
                  value: 0000:01:00.0,pcie=1
                  mapping: null
                  mdev: null
                  functions: [{address: "0000:01:00.0", vendor_id: "0x10de", device_id: "0x21c4", class: "0x030000",
                               driver: vfio-pci, iommu_group: "1", gpu: nvidia}]
                  missing: []
        gpus:
          description:
            - The NVIDIA and AMD GPUs on the PCI bus (C(address), C(vendor_id), C(device_id), C(class), C(driver),
              C(iommu_group), C(gpu) the vendor, C(state) - C(driver), C(passthrough) or C(no_driver) - and on a node
              C(held_by), the VMs configured to hold it).
          type: list
          elements: dict
          sample: [{address: "0000:01:00.0", gpu: nvidia, driver: vfio-pci, state: passthrough, held_by: [100]}]
        guest_expected_gpus:
          description: O(guest_expected_gpus) on a guest; C(null) elsewhere.
          type: int
          sample: 1
        checks:
          description:
            - Health checks, each with its C(subject) (C(vm) and C(device) or C(iommu_group), or C({}) for the host) -
              C(proxmox) (neither a node nor a guest), C(pve_api), C(iommu), C(gpu_host_driver), C(hostpci_not_vfio),
              C(hostpci_missing), C(iommu_group_shared), C(guest_gpu).
          type: list
          elements: dict
          sample:
            - check: gpu_host_driver
              subject: {vm: 100, device: "0000:01:00.0"}
              status: crit
              value: nvidia
              threshold: vfio-pci
              message: "0000:01:00.0 [10de:21c4] of VM 100 (hostpci0) is bound to nvidia, not vfio-pci: ..."
        status:
          description: The worst status of the checks.
          type: str
          sample: ok
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.proxmox import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.facts_module import run_facts_module


def main():
    run_facts_module(AREA)


if __name__ == "__main__":
    main()
