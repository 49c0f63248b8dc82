# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The package_pin area's checks (the table; the verdicts are made by the package_pin op as it plans)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable

CHECKS = CheckTable(
    Check("package_pin_drift", "Whether each pinned package is installed at its pinned version.", subject=("package",),
          fix="install the pinned version or bump it on purpose with a new version"),
    Check("package_pin_hold", "Whether each pinned package is held (apt-mark hold).", subject=("package",),
          fix="run package_pin (or the driver_pin role) in enforce mode"),
    Check("package_pin_upgrade_moves", "Whether apt-get upgrade/dist-upgrade (simulated) would move a pinned package.",
          subject=("package",), fix="check the hold (apt-mark showhold) and the preferences file"),
    Check("package_pin_newer_candidate", "Whether apt knows a newer version of a held package than the installed "
          "one (apt-cache policy's version table: a preferences pin keeps the candidate at the pinned version).",
          subject=("package",),
          fix="read the release notes and bump the pin in a planned window (playbooks/driver_bump.yml)"),
    Check("package_pin_match", "Whether the names and patterns to hold match any installed package; reported when none does.",
          fix="fix the names or patterns (dpkg-query -W 'nvidia-*' lists what is installed), or install the stack first"),
)
