# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``wsl`` (fact ``gpufleet_wsl``): WSL2 GPU passthrough: the host driver's libraries, which
``libcuda.so.1`` the dynamic linker loads, Linux driver packages inside WSL, ``nvidia-smi`` and ``cuInit``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import checks, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area

AREA = Area(
    "wsl", "wsl",
    summary="WSL2 GPU passthrough: host driver libraries, which libcuda wins, Linux driver packages inside WSL, "
            "nvidia-smi and cuInit",
    module="wsl_facts",
    options=dict(
        root=dict(type="path", default="/"),
        proc_version_path=dict(type="path", default="/proc/version"),
        nvidia_smi_path=dict(type="path"),
        cuda_init_timeout_s=dict(type="int", default=15),
        driver_package_patterns=dict(type="list", elements="str"),
        state_file=dict(type="path"),
        only_on_wsl=dict(type="bool", default=False),
    ),
    check_options=collect.check_options,
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    # No numeric reading with a unit suffix, and no check judges a number: nothing to record.
    readings=(),
)
