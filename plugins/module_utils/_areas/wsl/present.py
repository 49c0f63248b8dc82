# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the wsl area is shown: its summary lines. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def summary_lines(fact):
    if not fact.get("is_wsl"):
        return ["wsl: not a WSL host"]
    if fact.get("wsl_version") == 1:
        return ["wsl: WSL1 (kernel %s), no GPU access" % fact.get("kernel_release")]
    cuda = fact.get("cuda_init") or {}
    libcuda = fact.get("libcuda_path")
    lines = ["wsl: WSL2 kernel %s, host driver %s, libcuda %s%s, cuInit %s" % (
        fact.get("kernel_release"), fact.get("driver_version") or "n/a", libcuda or "none",
        "" if libcuda is None else (" (host copy)" if fact.get("libcuda_resolves_to_wsl") else " (NOT the host copy)"),
        cuda.get("name") or cuda.get("outcome") or "not run")]
    packages = fact.get("linux_nvidia_driver_packages") or []
    if packages:
        lines.append("wsl: Linux NVIDIA driver packages inside WSL: %s" % ", ".join(
            "%s%s" % (p["name"], " (held)" if p.get("held") else "") for p in packages))
    return lines
