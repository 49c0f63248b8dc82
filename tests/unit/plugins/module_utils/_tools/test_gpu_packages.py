"""_tools/gpu_packages: one list of the GPU stacks' package names, and every user of it reads it from there."""

import fnmatch
import os

import pytest
import yaml

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import gpu_packages

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..")


def matched(name, patterns):
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


# Package names as Ubuntu 22.04/24.04 (nvidia-driver-535 and its dependencies), Debian 12 (non-free
# nvidia-driver 535), NVIDIA's CUDA repository and AMD's ROCm repository name them, and what each is.
@pytest.mark.parametrize("name, driver, versioned, pinned", [
    ("nvidia-driver-535", True, True, True),
    ("nvidia-dkms-535", True, True, True),
    ("nvidia-kernel-common-535", True, True, True),
    ("libnvidia-compute-535", True, True, True),
    ("libnvidia-gl-535", True, True, True),
    ("libnvidia-common-535", True, False, True),             # Architecture: all, pulled by libnvidia-gl
    ("xserver-xorg-video-nvidia-535", True, False, True),
    ("nvidia-fabricmanager-535", True, False, True),
    ("nvidia-driver-575-open", True, True, True),
    ("nvidia-open", True, False, True),                      # NVIDIA's repository metapackage
    ("cuda-drivers-575", True, False, True),
    ("nvidia-driver", True, False, True),                    # Debian 12
    ("libcuda1", True, False, True),
    ("nvidia-kernel-dkms", True, False, True),
    ("firmware-nvidia-gsp", True, False, True),
    ("linux-modules-nvidia-535-6.8.0-45-generic", True, False, False),   # moves with the kernel
    ("linux-modules-nvidia-535-generic-hwe-22.04", True, False, False),
    ("cuda-toolkit-12-4", False, False, True),
    ("cuda-12-4", False, False, True),
    ("libcudnn9-cuda-12", False, False, True),
    ("libnccl2", False, False, True),
    ("tensorrt-libs", False, False, True),
    ("nvidia-container-toolkit", False, False, True),
    ("libnvidia-container1", False, False, True),             # the container toolkit, fine inside WSL
    ("cuda-keyring", False, False, False),
    ("nvidia-opencl-icd", False, False, False),              # not matched by nvidia-open*
])
def test_the_groups(name, driver, versioned, pinned):
    assert matched(name, gpu_packages.NVIDIA_DRIVER) is driver
    assert matched(name, gpu_packages.NVIDIA_DRIVER_VERSIONED) is versioned
    assert matched(name, gpu_packages.NVIDIA_PIN) is pinned


@pytest.mark.parametrize("name, pinned, versioned", [
    ("amdgpu-dkms", True, True), ("amdgpu-dkms-firmware", True, True), ("rocm-core", True, False),
    ("hip-runtime-amd", True, False), ("rocminfo", True, False), ("amdgpu-install", True, False),
])
def test_amd(name, pinned, versioned):
    assert matched(name, gpu_packages.AMD) is pinned
    assert matched(name, gpu_packages.AMD_DRIVER_VERSIONED) is versioned


def test_what_is_held_is_what_driver_pin_pins():
    assert gpu_packages.HOLD == gpu_packages.NVIDIA_PIN + gpu_packages.AMD


@pytest.mark.parametrize("path", ["defaults/main.yml", "meta/argument_specs.yml"])
def test_driver_pin_defaults_are_the_collections_lists(path):
    """The role's defaults are its documented contract (ansible-doc shows them), so they stay literal YAML;
    this keeps them equal to the one list."""
    with open(os.path.join(ROOT, "roles", "driver_pin", path)) as handle:
        data = yaml.safe_load(handle)
    if path.startswith("meta"):
        data = dict((k, v["default"]) for k, v in data["argument_specs"]["main"]["options"].items())
    assert data["driver_pin_nvidia_patterns"] == list(gpu_packages.NVIDIA_PIN)
    assert data["driver_pin_amd_patterns"] == list(gpu_packages.AMD)
    assert data["driver_pin_nvidia_bump_patterns"] == list(gpu_packages.NVIDIA_DRIVER_VERSIONED)
    assert data["driver_pin_amd_bump_patterns"] == list(gpu_packages.AMD_DRIVER_VERSIONED)


def test_no_other_list_of_nvidia_package_patterns_in_the_code():
    """Issue 17 found seven lists; the collection's Python and role tasks name the patterns only through this module."""
    found = []
    for top in ("plugins", "roles"):
        for folder, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                path = os.path.join(folder, name)
                if name == "gpu_packages.py" or not name.endswith((".py", ".yml", ".j2")) or "/modules/" in path:
                    continue
                if os.path.basename(folder) in ("defaults", "meta") and "driver_pin" in folder:
                    continue  # compared above
                with open(path) as handle:
                    text = handle.read()
                if '"libnvidia-compute-*"' in text or "- libnvidia-compute-*" in text or '"nvidia-dkms-*"' in text:
                    found.append(os.path.relpath(path, ROOT))
    assert found == []
