# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the driver stack is shown: its summary lines (the verdict, the driver, toolkits, ROCm). Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def summary_lines(fact):
    nvidia = fact.get("nvidia") or {}
    rocm = fact.get("rocm") or {}
    parts = []
    if nvidia.get("installed"):
        driver = nvidia.get("kernel_module_version") or nvidia.get("userspace_version") or "n/a"
        parts.append("nvidia %s (CUDA %s)" % (driver, nvidia.get("cuda_driver_version") or "n/a"))
    toolkits = [t.get("version") for t in fact.get("cuda_toolkits") or [] if t.get("version")]
    if toolkits:
        parts.append("toolkits %s" % ", ".join(toolkits))
    if rocm.get("installed"):
        parts.append("rocm %s" % (rocm.get("version") or "n/a"))
    lines = ["driver stack: %s%s" % ((fact.get("verdict") or "n/a").upper(),
                                     (": " + "; ".join(parts)) if parts else ": no GPU driver found")]
    if fact.get("verdict") not in (None, "ok"):
        lines.append("driver stack %s" % fact.get("verdict_reason"))
    return lines
