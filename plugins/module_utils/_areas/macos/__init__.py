# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``macos`` (fact ``gpufleet_macos``): Apple Silicon inference boxes (Mac Studio, Mac mini, MacBook)
running MLX-LM or llama.cpp Metal: chip and unified memory, memory pressure and swap, thermal pressure,
the macOS version, and (``check_updates``) the updates offered and whether major upgrades are deferred."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos import checks, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading

AREA = Area(
    "macos", "macos",
    summary="Apple Silicon hosts: chip, unified memory, memory pressure, swap, thermal pressure, macOS version, "
            "updates offered and their deferral",
    module="macos_facts",
    options=dict(
        only_on_macos=dict(type="bool", default=False),
        check_updates=dict(type="bool", default=True),
        command_timeout_s=dict(type="int", default=30),
        update_timeout_s=dict(type="int", default=300),
        bin_dir=dict(type="path"),
    ),
    check_options=collect.check_options,
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    metrics=present.metrics,
    readings=(
        Reading("memory_bytes"),
        Reading("memory_free_pct"),
        Reading("memory_pressure_level"),
        Reading("swap_total_bytes"),
        Reading("swap_used_bytes"),
        Reading("thermal_pressure_level"),
        Reading("cpu_speed_limit_pct"),
        Reading("major_upgrades_count"),
    ),
)
