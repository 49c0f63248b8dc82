# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Questions answered from ``cuda_data``: minimum driver of a CUDA release, newest CUDA of a
driver, whether a driver runs code built for a CUDA release, ROCm KMD/user-space agreement.

Nothing here guesses: a version outside the data gives ``unknown``. Pure functions, no Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack.cuda_data import (
    CUDA_MINOR_COMPAT_FLOOR,
    CUDA_RELEASES,
    ROCM_KMD_USERSPACE,
    TABLES,
)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import make_check

UNKNOWN = "unknown"
DATA_MAX_AGE_MONTHS = 6
FIX_STALE_DATA = ("update the collection (ansible-galaxy collection install --upgrade gpufleet.maintenance): "
                  "its compatibility tables are older than the releases since")
_VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)*)\s*$")


def version_key(version):
    """``'550.54.14'`` → ``(550, 54, 14)``; None when it is not a dotted number."""
    if version is None:
        return None
    match = _VERSION.match(str(version))
    if not match:
        return None
    return tuple(int(part) for part in match.group(1).split("."))


def _cmp_key(key, width=3):
    return tuple(key) + (0,) * (width - len(key))


def cuda_release(version):
    """The data row of a CUDA version, or None.

    ``12.4`` (major.minor) is that minor's first release (GA);
    ``12.4.1`` is exactly "12.4 Update 1"; a third number that is no release (``12.4.127``, a
    component version) is not in the data.
    """
    key = version_key(version)
    if key is None or len(key) < 2:
        return None
    if len(key) == 2:
        for row in CUDA_RELEASES:
            if version_key(row[0])[:2] == key:
                return row
        return None
    for row in CUDA_RELEASES:
        if version_key(row[0]) == key[:3]:
            return row
    return None


def cuda_min_driver(version):
    """Minimum Linux x86_64 driver of a CUDA release (``'12.4'`` → ``'550.54.14'``), or ``unknown``."""
    row = cuda_release(version)
    return row[2] if row else UNKNOWN


def _driver_branch(key):
    return key[0]


def driver_max_cuda(driver):
    """Newest CUDA release (``major.minor``) a driver supports, or ``unknown``.

    Only driver branches that appear in the data are answered: a branch newer than the data
    (for example a future release) or one that no listed toolkit shipped with may support a CUDA
    release the data does not know, so it is ``unknown`` rather than a guess.
    """
    key = version_key(driver)
    if key is None:
        return UNKNOWN
    branches = set(_driver_branch(version_key(row[2])) for row in CUDA_RELEASES)
    if _driver_branch(key) not in branches:
        return UNKNOWN
    best = None
    for row in CUDA_RELEASES:
        if _cmp_key(version_key(row[2])) <= _cmp_key(key):
            best = row
    if best is None:
        return UNKNOWN
    return "%d.%d" % version_key(best[0])[:2]


def cuda_major_minor(version):
    """``'12.4.127'`` → ``'12.4'``; None when not a version."""
    key = version_key(version)
    if key is None or len(key) < 2:
        return None
    return "%d.%d" % key[:2]


def compat(cuda, driver):
    """Can a driver run code built for a CUDA release? Returns ``{verdict, min_driver, floor, message}``.

    verdicts:

    * ``supported``: driver >= the release's minimum; everything works.
    * ``minor_version_compatible``: older than the release's minimum but at or above its major
      family's minimum: code with SASS (cubins) for the GPU runs with a limited feature set;
      PTX built by the newer toolkit needs JIT compilation, which this driver cannot do
      (CUDA_ERROR_UNSUPPORTED_PTX_VERSION), and APIs newer than the driver fail.
    * ``unsupported``: below the family minimum, or an older major: fails to initialise
      ("CUDA driver version is insufficient for CUDA runtime version").
    * ``unknown``: the CUDA release or the driver version is not in the data / not a version.
    """
    result = {"cuda": cuda, "driver": driver, "verdict": UNKNOWN, "min_driver": None, "floor": None, "message": ""}
    driver_key = version_key(driver)
    row = cuda_release(cuda)
    if row is None:
        result["message"] = "CUDA %s is not in the compatibility data (%s to %s)" % (
            cuda, CUDA_RELEASES[0][0], CUDA_RELEASES[-1][0])
        return result
    if driver_key is None:
        result["message"] = "driver version %r is not a version" % (driver,)
        return result
    minimum = row[2]
    major = version_key(row[0])[0]
    floor = CUDA_MINOR_COMPAT_FLOOR.get(major)
    result.update(min_driver=minimum, floor=floor)
    if _cmp_key(driver_key) >= _cmp_key(version_key(minimum)):
        result.update(verdict="supported", message="driver %s supports %s (needs >= %s)" % (driver, row[1], minimum))
    elif floor and _cmp_key(driver_key) >= _cmp_key(version_key(floor)):
        result.update(verdict="minor_version_compatible", message=(
            "driver %s is older than %s needs (>= %s) but within CUDA %d.x minor version compatibility "
            "(>= %s): code with SASS for this GPU runs with a limited feature set; PTX from the newer "
            "toolkit cannot be JIT-compiled (CUDA_ERROR_UNSUPPORTED_PTX_VERSION) and newer APIs fail"
            % (driver, row[1], minimum, major, floor)))
    else:
        result.update(verdict="unsupported", message=(
            "driver %s is too old for %s (needs >= %s%s): CUDA fails to initialise "
            "(driver version is insufficient for CUDA runtime version)"
            % (driver, row[1], minimum, ", or >= %s through minor version compatibility" % floor if floor else "")))
    return result


def rocm_release_of(version):
    """ROCm release (``major.minor``) in a version string: ``6.2.0-66`` → ``6.2``;
    amdgpu-dkms' ``1:6.8.5.60200-2009582.22.04`` → ``6.2`` (its ROCm build number 60200)."""
    if not version:
        return None
    text = re.sub(r"^\d+:", "", str(version))
    match = re.search(r"\.(\d)(\d{2})(\d{2})(?:-|$)", text)
    if match:
        return "%d.%d" % (int(match.group(1)), int(match.group(2)))
    match = re.match(r"^(\d+)\.(\d+)", text)
    if match:
        return "%d.%d" % (int(match.group(1)), int(match.group(2)))
    return None


def rocm_compat(kmd_release, userspace_release):
    """``compatible`` / ``incompatible`` / ``unknown`` for a ROCm KMD (amdgpu-dkms) and user space."""
    kmd = cuda_major_minor(kmd_release) if kmd_release else None
    user = cuda_major_minor(userspace_release) if userspace_release else None
    if not kmd or not user or kmd not in ROCM_KMD_USERSPACE:
        return UNKNOWN
    return "compatible" if user in ROCM_KMD_USERSPACE[kmd] else "incompatible"


def data_age_checks(today, tables=TABLES, max_age_months=DATA_MAX_AGE_MONTHS):
    """``compatibility_data_age`` per compatibility table (subject ``table``), on ``today`` (a date).

    The value is the year-month the table was last checked against its source; older than
    ``max_age_months`` whole months is ``warn`` (new CUDA and ROCm releases are ``unknown`` to the
    filters until the table has them), with the fix "update the collection".
    """
    results = []
    for table, what, source, checked in tables:
        year, month = (int(part) for part in checked.split("-")[:2])
        age = (today.year * 12 + today.month) - (year * 12 + month)
        message = "the collection's %s table was checked against its source in %s, %d month(s) ago (%s)" % (
            what, checked, age, source)
        if age > max_age_months:
            results.append(make_check("compatibility_data_age", "warn", checked, "%d months" % max_age_months,
                                      "%s: %s" % (message, FIX_STALE_DATA), subject={"table": table}))
        else:
            results.append(make_check("compatibility_data_age", "ok", checked, "%d months" % max_age_months, message,
                                      subject={"table": table}))
    return results
