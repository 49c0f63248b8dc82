# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``driver_stack`` (fact ``gpufleet_driver_stack``): every link of the GPU driver chain and
whether they agree, with a one-word verdict (``ok``, ``reboot_pending``, ``broken``).

Kernel → DKMS module (running and newest kernel) → loaded kernel module → userspace libraries →
NVML → container toolkit → images and Python wheels; CUDA, cuDNN, NCCL, TensorRT and ROCm versions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import checks, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area


class ChainArea(Area):
    """An area whose fact also carries the verdict of the chain, worked out from its checks."""

    def gather(self, run_command, params):
        fact, warnings = super(ChainArea, self).gather(run_command, params)
        fact.update(checks.verdict(fact))
        return fact, warnings


AREA = ChainArea(
    "driver_stack", "driver stack",
    summary="kernel, DKMS, NVIDIA/CUDA/cuDNN/NCCL/TensorRT, ROCm, container toolkit and wheel versions, "
            "with a compatibility verdict",
    module="driver_stack_facts",
    options=dict(
        root=dict(type="path", default="/"),
        python_envs=dict(type="list", elements="path", default=[]),
        probe_containers=dict(type="bool", default=False),
        hold_patterns=dict(type="list", elements="str"),  # None: _tools/gpu_packages.HOLD
        command_timeout_s=dict(type="int", default=30),
    ),
    check_options=collect.check_options,
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    # No numeric reading with a unit suffix (the rule the history used before), and the checks
    # judge versions, not numbers: nothing to record.
    readings=(),
)
