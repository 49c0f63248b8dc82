"""_cuda_compat: minor version compatibility, real nvidia-smi driver/CUDA pairs, ROCm KMD/user space."""

import glob
import os
import re

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import cuda as _cuda_compat
from testlib.cuda_table import GA, min_driver

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "driver_stack")
LINUX_XML = [p for p in sorted(glob.glob(os.path.join(FIXTURES, "*.xml"))) if "windows" not in p]


@pytest.mark.parametrize("path", LINUX_XML, ids=[os.path.basename(p) for p in LINUX_XML])
def test_driver_max_cuda_agrees_with_real_nvidia_smi(path):
    """nvidia-smi prints the driver's CUDA version: the filter gives the same for every capture
    whose CUDA release is in NVIDIA's table (11.0 and later), and unknown for older ones."""
    with open(path) as handle:
        text = handle.read()
    driver = re.search(r"<driver_version>([^<]+)<", text).group(1)
    cuda = re.search(r"<cuda_version>([^<]+)<", text).group(1)
    in_table = cuda in GA
    assert _cuda_compat.driver_max_cuda(driver) == (cuda if in_table else "unknown")


def test_the_captures_cover_both_sides_of_the_table():
    """Seven captures within the table (11.6 to 13.2) and one before it (418.43, CUDA 10.1)."""
    pairs = []
    for path in LINUX_XML:
        with open(path) as handle:
            pairs.append(re.search(r"<cuda_version>([^<]+)<", handle.read()).group(1))
    assert sorted(c for c in pairs if c not in GA) == ["10.1"] and len(pairs) == 8


@pytest.mark.parametrize("cuda, driver, verdict", [
    ("12.4", "550.54.14", "supported"),
    ("12.4.1", "550.54.14", "minor_version_compatible"),   # Update 1 needs 550.54.15
    ("12.6", "550.54.14", "minor_version_compatible"),     # torch cu126 on a 12.4 driver
    ("12.6", "525.60.13", "minor_version_compatible"),     # the 12.x floor
    ("12.6", "525.60.12", "unsupported"),
    ("12.0", "520.61.05", "unsupported"),                  # an 11.x driver cannot run 12.x
    ("11.8", "470.82.01", "minor_version_compatible"),
    ("11.8", "450.80.02", "minor_version_compatible"),
    ("11.8", "450.51.06", "unsupported"),                  # below the 11.x floor
    ("11.0", "450.51.05", "supported"),
    ("11.8", "580.65.06", "supported"),                    # newer drivers run older CUDA
    ("13.0", "575.57.08", "unsupported"),
    ("13.0.2", "580.65.06", "minor_version_compatible"),
    ("13.1", "590.48.01", "supported"),
    ("13.2.2", "595.58.03", "minor_version_compatible"),  # 13.2 Update 2 wants 595.71.05
    ("13.3", "610.43.02", "unknown"),                      # beyond the data: never a guess
    ("12.4", "not-a-driver", "unknown"),
])
def test_compat_models_minor_version_compatibility(cuda, driver, verdict):
    result = _cuda_compat.compat(cuda, driver)
    assert result["verdict"] == verdict
    if verdict == "minor_version_compatible":
        assert "PTX" in result["message"] and "JIT" in result["message"]
    if verdict in ("supported", "minor_version_compatible", "unsupported"):
        assert result["min_driver"] == min_driver(cuda)  # from NVIDIA's table (tests/testlib/cuda_table.py)


@pytest.mark.parametrize("version, release", [
    ("6.2.0-66", "6.2"), ("1:6.8.5.60200-2009582.22.04", "6.2"), ("1:6.3.6.60000-1697589.22.04", "6.0"),
    ("6.2.0.60200-66~22.04", "6.2"), ("5.7.1", "5.7"), (None, None), ("garbage", None),
])
def test_rocm_release_of(version, release):
    assert _cuda_compat.rocm_release_of(version) == release


@pytest.mark.parametrize("kmd, user, answer", [
    ("6.2", "6.3", "compatible"), ("6.0", "6.3", "incompatible"), ("6.3", "6.0", "incompatible"),
    ("5.7", "6.1", "compatible"), ("7.0", "7.0", "unknown"), (None, "6.2", "unknown"),
])
def test_rocm_compat(kmd, user, answer):
    assert _cuda_compat.rocm_compat(kmd, user) == answer
