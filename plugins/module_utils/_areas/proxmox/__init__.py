# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``proxmox`` (fact ``gpufleet_proxmox``): GPU passthrough on Proxmox VE. On a node, which VM
holds which PCI device through vfio (``pvesh``, ``qm config``), the bound drivers and IOMMU groups;
inside a QEMU/KVM guest, whether the passed-through GPUs are on its bus with a driver."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.proxmox import checks, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area

AREA = Area(
    "proxmox", "proxmox",
    summary="GPU passthrough on Proxmox VE: which VM holds which GPU through vfio-pci, drivers and IOMMU groups on "
            "the node; the passed-through GPUs inside a guest",
    module="proxmox_facts",
    options=dict(
        root=dict(type="path", default="/"),
        node=dict(type="str"),
        pvesh_path=dict(type="path"),
        qm_path=dict(type="path"),
        timeout=dict(type="int", default=30),
        guest_expected_gpus=dict(type="int"),
        only_on_proxmox=dict(type="bool", default=False),
    ),
    ranges={"timeout": (1, None), "guest_expected_gpus": (0, None)},
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    metrics=present.metrics,
    # No check judges a number the history could trend: the fact holds devices, drivers and VMs.
    readings=(),
)
