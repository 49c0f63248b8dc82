# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Debian package names of the GPU stacks, in one place: shell globs as dpkg, apt-mark and APT
preferences match them (Ubuntu's, Debian's and NVIDIA's/AMD's repository naming).

Each consumer takes a group or a union below, never a list of its own:

* ``driver_stack_facts`` reports :data:`NVIDIA_DRIVER` + :data:`NVIDIA_CONTAINER`, :data:`NVIDIA_CUDA` and
  :data:`AMD` and warns about the packages of :data:`HOLD` that are not held;
* ``wsl_facts`` (and the ``wsl_guard`` role through its fact) finds and pins away :data:`NVIDIA_DRIVER`;
* the ``driver_pin`` role holds :data:`NVIDIA_PIN` and :data:`AMD` and bumps :data:`NVIDIA_DRIVER_VERSIONED` and
  :data:`AMD_DRIVER_VERSIONED` (its defaults must equal these; a unit test compares them).

Data only, no logic, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The NVIDIA driver's own packages that carry its version (Ubuntu's naming): a bump moves them together.
NVIDIA_DRIVER_VERSIONED = (
    "nvidia-driver-*", "nvidia-dkms-*", "nvidia-kernel-common-*", "nvidia-kernel-source-*", "nvidia-utils-*",
    "nvidia-compute-utils-*", "nvidia-firmware-*", "libnvidia-compute-*", "libnvidia-decode-*", "libnvidia-encode-*",
    "libnvidia-extra-*", "libnvidia-fbc1-*", "libnvidia-gl-*", "libnvidia-cfg1-*",
)
# The rest of the NVIDIA driver: metapackages, Debian's names (nvidia-driver, libcuda1, nvidia-kernel-dkms...),
# NVIDIA's repository (cuda-drivers, nvidia-open), the X driver, the fabric manager, the GSP firmware.
NVIDIA_DRIVER_OTHER = (
    "nvidia-driver", "nvidia-kernel-*", "nvidia-headless-*", "nvidia-open", "nvidia-open-*", "nvidia-smi",
    "nvidia-fabricmanager-*", "libnvidia-common-*", "libnvidia-ml1", "libcuda1", "cuda-drivers", "cuda-drivers-*",
    "xserver-xorg-video-nvidia*", "firmware-nvidia-gsp",
)
# The packages whose version is the userspace driver's (libnvidia-ml), in order of preference.
NVIDIA_USERSPACE = ("libnvidia-compute-*", "nvidia-utils-*", "libnvidia-ml1", "nvidia-driver-*")
# Kernel modules Ubuntu builds for each kernel: they move with the kernel, so they are never held.
NVIDIA_KERNEL_BUILT = ("linux-modules-nvidia-*", "linux-objects-nvidia-*")
# A Linux NVIDIA driver, all of it (none of it belongs inside WSL, where the driver is the Windows host's).
NVIDIA_DRIVER = NVIDIA_DRIVER_VERSIONED + NVIDIA_DRIVER_OTHER + NVIDIA_KERNEL_BUILT

# CUDA toolkit and libraries (not cuda-keyring, not the driver's cuda-drivers).
NVIDIA_CUDA = (
    "cuda", "cuda-[0-9]*", "cuda-toolkit*", "cuda-runtime-*", "cuda-libraries-*", "cuda-compat-*", "nvidia-cuda-toolkit",
    "libcudnn*", "cudnn*", "libnccl*", "tensorrt*", "libnvinfer*",
)
# The container toolkit.
NVIDIA_CONTAINER = ("nvidia-container-toolkit*", "libnvidia-container*", "nvidia-container-runtime", "nvidia-docker2")
# What holds the NVIDIA stack still: the driver (but not the kernel-built modules), CUDA and the container toolkit.
NVIDIA_PIN = NVIDIA_DRIVER_VERSIONED + NVIDIA_DRIVER_OTHER + NVIDIA_CUDA + NVIDIA_CONTAINER

# AMD: the amdgpu DKMS driver and ROCm. AMD_DRIVER_VERSIONED moves together in a bump.
AMD_DRIVER_VERSIONED = ("amdgpu-dkms", "amdgpu-dkms-firmware")
AMD = ("amdgpu-dkms*", "amdgpu-core", "amdgpu-install", "rocm*", "hip-*", "hipcc*", "hsa-rocr*", "comgr", "rocminfo")

# Packages that build a driver with DKMS (a host with one installed is expected to have DKMS state).
DKMS_DRIVERS = ("nvidia-dkms-*", "nvidia-kernel-dkms", "nvidia-open-dkms*", "amdgpu-dkms")

# The packages an unattended upgrade must not move without a planned reboot (driver_packages_not_held).
HOLD = NVIDIA_PIN + AMD
