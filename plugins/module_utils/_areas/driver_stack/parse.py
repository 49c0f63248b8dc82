# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The driver stack's parsers: text (or bytes) a host's files and tools print, in; plain values out.

``/proc/driver/nvidia/version``, ``/proc/modules``, the SecureBoot EFI variable,
``torch/version.py``, wheel ``METADATA``, C headers (``cuda.h``, ``cudnn_version.h``, ``nccl.h``,
``NvInferVersion.h``), CUDA ``version.json``/``version.txt``, ``.hipVersion``, KFD topology,
``docker inspect`` JSON and ``nvidia-smi -L``. Pure functions, no I/O, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import cuda

_NVRM = re.compile(r"NVRM version:\s*(?P<desc>.*?Kernel Module(?: for \S+)?)\s+(?P<version>\d+\.\d+(?:\.\d+)?)\b")
LIBNVML = re.compile(r"^libnvidia-ml\.so\.(\d+\.\d+(?:\.\d+)?)$")
_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(\S+)", re.M)
_MODULE_SIG = b"~Module signature appended~\n"


def parse_nvrm_version(text):
    """``/proc/driver/nvidia/version`` → ``{version, flavor}`` (flavor ``open``/``proprietary``), or None."""
    for line in (text or "").splitlines():
        match = _NVRM.search(line)
        if match:
            return {"version": match.group("version"),
                    "flavor": "open" if "Open Kernel Module" in match.group("desc") else "proprietary"}
    return None


def parse_module_list(text):
    """``/proc/modules`` → set of loaded module names."""
    return set(line.split()[0] for line in (text or "").splitlines() if line.strip())


def parse_reboot_required_pkgs(text):
    return sorted(set(line.strip() for line in (text or "").splitlines() if line.strip()))


def parse_secure_boot(data):
    """The SecureBoot EFI variable (4 attribute bytes, then one value byte) → enabled/disabled/unknown."""
    if not data or len(data) < 5:
        return "unknown"
    return "enabled" if bytearray(data)[4] == 1 else "disabled"


def parse_torch_version_py(text):
    """``torch/version.py`` → ``{torch_version, torch_cuda, torch_hip}`` (no import of torch)."""
    result = {"torch_version": None, "torch_cuda": None, "torch_hip": None}
    names = {"__version__": "torch_version", "cuda": "torch_cuda", "hip": "torch_hip"}
    for line in (text or "").splitlines():
        match = re.match(r"^(__version__|cuda|hip)\s*(?::[^=]*)?=\s*(?:'([^']*)'|\"([^\"]*)\"|None)\s*$", line.strip())
        if match:
            value = match.group(2) if match.group(2) is not None else match.group(3)
            result[names[match.group(1)]] = value or None
    return result


def parse_metadata(text):
    """A dist-info ``METADATA`` → ``(name, version)`` from its header (None where absent)."""
    name = version = None
    for line in (text or "").splitlines():
        if not line.strip():
            break  # the body (long description) follows the first blank line
        if line.startswith("Name:") and name is None:
            name = line.split(":", 1)[1].strip()
        elif line.startswith("Version:") and version is None:
            version = line.split(":", 1)[1].strip()
    return name, version


def parse_defines(text):
    """``#define NAME VALUE`` lines of a C header → dict, one level of macro indirection resolved."""
    values = dict(_DEFINE.findall(text or ""))
    return dict((key, values.get(value, value)) for key, value in values.items())


def header_version(text, names):
    """Version from a header's ``#define`` lines (``names`` = major, minor, patch macro names)."""
    defines = parse_defines(text)
    parts = []
    for name in names:
        value = defines.get(name)
        if value is None or not value.isdigit():
            break
        parts.append(value)
    return ".".join(parts) if len(parts) >= 2 else None


def parse_cuda_version_file(text, json_file=False):
    """``version.json`` (``{"cuda": {"version": "12.4.1"}}``) or ``version.txt`` (``CUDA Version 11.0.228``)."""
    if json_file:
        try:
            data = json.loads(text)
        except ValueError:
            return None
        value = (data.get("cuda") or {}).get("version") if isinstance(data, dict) else None
        return value if cuda.version_key(value) else None
    match = re.search(r"CUDA Version\s+(\d+\.\d+(?:\.\d+)?)", text or "")
    return match.group(1) if match else None


def parse_cuda_h(text):
    """``cuda.h``'s ``#define CUDA_VERSION 12040`` → ``12.4``."""
    value = parse_defines(text).get("CUDA_VERSION")
    if not value or not value.isdigit():
        return None
    number = int(value)
    return "%d.%d" % (number // 1000, (number % 1000) // 10)


def parse_hip_version(text):
    """``/opt/rocm/bin/.hipVersion`` (``HIP_VERSION_MAJOR=6`` lines) → ``6.2.41133``."""
    values = dict(line.split("=", 1) for line in (text or "").splitlines() if "=" in line)
    parts = [values.get(k, "").strip() for k in ("HIP_VERSION_MAJOR", "HIP_VERSION_MINOR", "HIP_VERSION_PATCH")]
    parts = [re.match(r"\d*", p).group(0) for p in parts]
    if not parts[0] or not parts[1]:
        return None
    return ".".join(p for p in parts if p)


def gfx_target(value):
    """KFD ``gfx_target_version`` (``90010``) → ``gfx90a``; 0 (a CPU node) → None."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if number <= 0:
        return None
    return "gfx%d%x%x" % (number // 10000, (number // 100) % 100, number % 100)


def parse_kfd_properties(text):
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "gfx_target_version":
            return gfx_target(parts[1])
    return None


def parse_require_cuda(value):
    """``NVIDIA_REQUIRE_CUDA`` (``cuda>=12.4 brand=tesla,driver>=470,driver<471 ...``) → ``12.4`` or None."""
    match = re.search(r"(?:^|\s)cuda>=(\d+\.\d+(?:\.\d+)?)", value or "")
    return match.group(1) if match else None


def containers_from_inspect(data):
    """``docker inspect`` JSON (a list) → containers that request GPUs, with their CUDA requirements."""
    containers = []
    for item in data if isinstance(data, list) else []:
        config = item.get("Config") or {}
        host = item.get("HostConfig") or {}
        env = dict(entry.split("=", 1) for entry in (config.get("Env") or []) if "=" in entry)
        requests = host.get("DeviceRequests") or []
        by_request = any(any("gpu" in caps for caps in (req.get("Capabilities") or []))
                         or req.get("Driver") == "nvidia" for req in requests)
        visible = env.get("NVIDIA_VISIBLE_DEVICES")
        by_env = visible is not None and visible.strip() not in ("", "void", "none")
        if not (by_request or host.get("Runtime") == "nvidia" or by_env):
            continue
        containers.append({
            "id": (item.get("Id") or "")[:12],
            "name": (item.get("Name") or "").lstrip("/"),
            "image": config.get("Image"),
            "require_cuda": env.get("NVIDIA_REQUIRE_CUDA"),
            "required_cuda": parse_require_cuda(env.get("NVIDIA_REQUIRE_CUDA")),
            "cuda_version": env.get("CUDA_VERSION"),
            "require_disabled": env.get("NVIDIA_DISABLE_REQUIRE", "").lower() in ("1", "true", "yes"),
            "nvml_ok": None,
            "nvml_message": None,
        })
    return containers


def nvml_probe_result(rc, out, err):
    """``nvidia-smi -L`` result → ``(ok, message)``; ok None when nvidia-smi is not there to ask."""
    text = ("%s\n%s" % (out or "", err or "")).strip()
    if rc == 0 and re.search(r"^GPU \d+:", out or "", re.M):
        return True, text.splitlines()[0]
    if "Failed to initialize NVML" in text or "couldn't communicate with the NVIDIA driver" in text or rc == 0:
        return False, text.splitlines()[0] if text else "nvidia-smi listed no GPU"
    if rc in (126, 127) or "executable file not found" in text or "no such file" in text.lower():
        return None, "nvidia-smi is not available: %s" % (text.splitlines()[0] if text else "rc %s" % rc)
    return False, text.splitlines()[0] if text else "nvidia-smi exited %s" % rc


def kernel_sort_key(release):
    return tuple(int(n) for n in re.findall(r"\d+", release or ""))


def module_signed(data):
    """Whether a kernel module image (uncompressed bytes) carries an appended signature."""
    return data.endswith(_MODULE_SIG)
