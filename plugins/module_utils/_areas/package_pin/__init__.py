# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``package_pin`` (fact ``gpufleet_package_pin``): the held GPU stack against its pins (drift, holds,
upgrade simulation). Set by the monthly cadence from the driver_pin role's audit (module ``package_pin``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.package_pin import checks, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area

AREA = Area(
    "package_pin", "package pins",
    summary="The held GPU stack against its pins: version drift, lost holds, packages apt-get upgrade would move",
    module="package_pin",
    checks=checks.CHECKS,
    present=present.summary_lines,
)
