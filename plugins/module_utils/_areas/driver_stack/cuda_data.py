# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compatibility data: CUDA toolkit releases → minimum Linux x86_64 driver, and ROCm KMD ↔ user space.

Data only (no logic): ``cuda.py`` answers questions from it (the cuda filters ask through it).
Extend it by appending rows; ``tests/unit/plugins/filter/test_cuda.py`` walks every row and each
release's boundaries.

Sources (facts carried over, checked 2026-11):

* NVIDIA, *CUDA Toolkit Release Notes*, table "CUDA Toolkit and Corresponding Driver Versions"
  (Linux x86_64 column), https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html
  and the archived release notes of each version under https://docs.nvidia.com/cuda/archive/;
  every row from 11.0 to 13.2 Update 2 was compared with the table of the 13.2 Update 2 notes
  (https://docs.nvidia.com/cuda/archive/13.2.2/cuda-toolkit-release-notes/index.html). CUDA 13.3
  and later exist but their minimum drivers could not be confirmed, so they are not here: the
  filters answer ``unknown`` for them rather than a guess.
* NVIDIA, *CUDA Compatibility*, "Minor Version Compatibility" (minimum driver of each CUDA
  major family), https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html
* AMD, *ROCm installation for Linux*, "User and kernel-space support matrix" (docs-6.3.0),
  https://rocm.docs.amd.com/projects/install-on-linux/en/docs-6.3.0/reference/user-kernel-space-compat-matrix.html
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

CUDA_SOURCE = ("NVIDIA CUDA Toolkit Release Notes, table 'CUDA Toolkit and Corresponding Driver Versions' "
               "(Linux x86_64), https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html")
ROCM_SOURCE = ("AMD ROCm 'User and kernel-space support matrix', "
               "https://rocm.docs.amd.com/projects/install-on-linux/en/docs-6.3.0/reference/"
               "user-kernel-space-compat-matrix.html")
# When each table was last compared with its source (year-month): data that goes stale (issue 20).
# The annual cadence warns when a table is older than ``cuda.DATA_MAX_AGE_MONTHS``; whoever updates
# a table from its source sets its date here.
CUDA_CHECKED = "2026-11"
ROCM_CHECKED = "2026-11"
# (table, what it holds, source, checked): what the annual report shows and judges.
TABLES = (
    ("cuda", "CUDA toolkit to minimum NVIDIA driver", CUDA_SOURCE, CUDA_CHECKED),
    ("rocm", "ROCm kernel driver to user space", ROCM_SOURCE, ROCM_CHECKED),
)

# (toolkit release, release name, minimum Linux x86_64 driver), oldest first.
# The release version is what /usr/local/cuda/version.json and the cuda-toolkit-X-Y package carry
# (12.4.1 = "12.4 Update 1"). 11.0 began at 11.0.2 (GA); 11.0.1 was a release candidate.
# There was no CUDA 12.7 release.
CUDA_RELEASES = (
    ("11.0.2", "CUDA 11.0 GA", "450.51.05"),
    ("11.0.3", "CUDA 11.0 Update 1", "450.51.06"),
    ("11.1.0", "CUDA 11.1 GA", "455.23"),
    ("11.1.1", "CUDA 11.1 Update 1", "455.32"),
    ("11.2.0", "CUDA 11.2 GA", "460.27.03"),
    ("11.2.1", "CUDA 11.2 Update 1", "460.32.03"),
    ("11.2.2", "CUDA 11.2 Update 2", "460.32.03"),
    ("11.3.0", "CUDA 11.3 GA", "465.19.01"),
    ("11.3.1", "CUDA 11.3 Update 1", "465.19.01"),
    ("11.4.0", "CUDA 11.4 GA", "470.42.01"),
    ("11.4.1", "CUDA 11.4 Update 1", "470.57.02"),
    ("11.4.2", "CUDA 11.4 Update 2", "470.57.02"),
    ("11.4.3", "CUDA 11.4 Update 3", "470.82.01"),
    ("11.4.4", "CUDA 11.4 Update 4", "470.82.01"),
    ("11.5.0", "CUDA 11.5 GA", "495.29.05"),
    ("11.5.1", "CUDA 11.5 Update 1", "495.29.05"),
    ("11.5.2", "CUDA 11.5 Update 2", "495.29.05"),
    ("11.6.0", "CUDA 11.6 GA", "510.39.01"),
    ("11.6.1", "CUDA 11.6 Update 1", "510.47.03"),
    ("11.6.2", "CUDA 11.6 Update 2", "510.47.03"),
    ("11.7.0", "CUDA 11.7 GA", "515.43.04"),
    ("11.7.1", "CUDA 11.7 Update 1", "515.48.07"),
    ("11.8.0", "CUDA 11.8 GA", "520.61.05"),
    ("12.0.0", "CUDA 12.0 GA", "525.60.13"),
    ("12.0.1", "CUDA 12.0 Update 1", "525.85.12"),
    ("12.1.0", "CUDA 12.1 GA", "530.30.02"),
    ("12.1.1", "CUDA 12.1 Update 1", "530.30.02"),
    ("12.2.0", "CUDA 12.2 GA", "535.54.03"),
    ("12.2.1", "CUDA 12.2 Update 1", "535.86.09"),
    ("12.2.2", "CUDA 12.2 Update 2", "535.104.05"),
    ("12.3.0", "CUDA 12.3 GA", "545.23.06"),
    ("12.3.1", "CUDA 12.3 Update 1", "545.23.08"),
    ("12.3.2", "CUDA 12.3 Update 2", "545.23.08"),   # not in NVIDIA's table: Update 1's driver
    ("12.4.0", "CUDA 12.4 GA", "550.54.14"),
    ("12.4.1", "CUDA 12.4 Update 1", "550.54.15"),
    ("12.5.0", "CUDA 12.5 GA", "555.42.02"),
    ("12.5.1", "CUDA 12.5 Update 1", "555.42.06"),
    ("12.6.0", "CUDA 12.6 GA", "560.28.03"),
    ("12.6.1", "CUDA 12.6 Update 1", "560.35.03"),
    ("12.6.2", "CUDA 12.6 Update 2", "560.35.03"),
    ("12.6.3", "CUDA 12.6 Update 3", "560.35.05"),
    ("12.8.0", "CUDA 12.8 GA", "570.26"),
    ("12.8.1", "CUDA 12.8 Update 1", "570.124.06"),
    ("12.9.0", "CUDA 12.9 GA", "575.51.03"),
    ("12.9.1", "CUDA 12.9 Update 1", "575.57.08"),
    ("13.0.0", "CUDA 13.0 GA", "580.65.06"),
    ("13.0.1", "CUDA 13.0 Update 1", "580.82.07"),
    ("13.0.2", "CUDA 13.0 Update 2", "580.95.05"),
    ("13.1.0", "CUDA 13.1 GA", "590.44.01"),
    ("13.1.1", "CUDA 13.1 Update 1", "590.48.01"),
    ("13.2.0", "CUDA 13.2 GA", "595.45.04"),
    ("13.2.1", "CUDA 13.2 Update 1", "595.58.03"),
    ("13.2.2", "CUDA 13.2 Update 2", "595.71.05"),
)

# Minor version compatibility (CUDA 11 and later): an application built with any toolkit of a
# major family runs, with a limited feature set, on a driver at or above the family's minimum,
# even when that driver is older than the toolkit's own minimum. Not covered: PTX produced by the
# newer toolkit (the older driver cannot JIT-compile it) and APIs the older driver lacks.
# CUDA 11.0 shipped with an earlier driver; 450.80.02 is the minimum for the whole 11.x family.
CUDA_MINOR_COMPAT_FLOOR = {
    11: "450.80.02",
    12: "525.60.13",
    13: "580.65.06",
}

# ROCm: the amdgpu kernel-mode driver (KMD, amdgpu-dkms) of ROCm release X.Y is tested with these
# ROCm user-space releases (the +/- 2 releases rule). Keys and values are "major.minor".
ROCM_KMD_USERSPACE = {
    "5.3": ("5.1", "5.2", "5.3", "5.4", "5.5"),
    "5.4": ("5.2", "5.3", "5.4", "5.5", "5.6"),
    "5.5": ("5.3", "5.4", "5.5", "5.6", "5.7"),
    "5.6": ("5.4", "5.5", "5.6", "5.7", "6.0"),
    "5.7": ("5.5", "5.6", "5.7", "6.0", "6.1"),
    "6.0": ("5.6", "5.7", "6.0", "6.1", "6.2"),
    "6.1": ("5.7", "6.0", "6.1", "6.2", "6.3"),
    "6.2": ("6.0", "6.1", "6.2", "6.3"),
    "6.3": ("6.1", "6.2", "6.3"),
}
