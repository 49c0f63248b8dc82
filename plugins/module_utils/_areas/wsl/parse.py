# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WSL2 GPU passthrough, the parsers: ``/proc/version``, ``/etc/wsl.conf``, the Linux driver
packages among the installed ones, plain ``nvidia-smi`` output, the cuInit probe's answer and the
snapshot ``wsl_guard`` keeps.

On WSL2 the NVIDIA driver lives on the Windows host; ``/usr/lib/wsl/lib`` carries its ``libcuda``
and ``nvidia-smi``. A Linux NVIDIA driver installed inside the distribution shadows that copy and
breaks CUDA while ``nvidia-smi`` may still work. Text in, plain dicts out; no I/O, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import re
import signal

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import wsl_gate
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import gpu_packages

WSL_LIB_DIR = "/usr/lib/wsl/lib"
LIBCUDA = "libcuda.so.1"

# CUresult values from cuda.h (driver API) that cuInit can return or that explain a failure.
CURESULT_NAMES = {
    0: "CUDA_SUCCESS",
    1: "CUDA_ERROR_INVALID_VALUE",
    2: "CUDA_ERROR_OUT_OF_MEMORY",
    3: "CUDA_ERROR_NOT_INITIALIZED",
    4: "CUDA_ERROR_DEINITIALIZED",
    34: "CUDA_ERROR_STUB_LIBRARY",
    35: "CUDA_ERROR_INSUFFICIENT_DRIVER",
    36: "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER",
    46: "CUDA_ERROR_DEVICE_UNAVAILABLE",
    100: "CUDA_ERROR_NO_DEVICE",
    101: "CUDA_ERROR_INVALID_DEVICE",
    102: "CUDA_ERROR_DEVICE_NOT_LICENSED",
    304: "CUDA_ERROR_OPERATING_SYSTEM",
    801: "CUDA_ERROR_NOT_SUPPORTED",
    802: "CUDA_ERROR_SYSTEM_NOT_READY",
    803: "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
    804: "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
    999: "CUDA_ERROR_UNKNOWN",
}


# --- /proc/version -------------------------------------------------------------------------------

def parse_proc_version(text):
    """``/proc/version`` → ``{is_wsl, wsl_version, kernel_release}``.

    WSL2 kernels are ``*-microsoft-standard[-WSL2]``; WSL1 reports a fake ``*-Microsoft`` kernel
    built by ``Microsoft@Microsoft.com`` (no real kernel, hence no GPU).
    """
    text = (text or "").strip()
    match = re.match(r"Linux version (\S+)", text)
    release = match.group(1) if match else None
    if not wsl_gate.wsl_kernel(text):  # the gate's test (only_on_wsl): one place says what WSL is
        return {"is_wsl": False, "wsl_version": None, "kernel_release": release}
    if release and ("wsl2" in release.lower() or "microsoft-standard" in release.lower()):
        version = 2
    elif release and release.endswith("-Microsoft") or "Microsoft@Microsoft.com" in text:
        version = 1
    else:
        version = 2
    return {"is_wsl": True, "wsl_version": version, "kernel_release": release}


# --- /etc/wsl.conf -------------------------------------------------------------------------------

def parse_wsl_conf(text):
    """``/etc/wsl.conf`` (INI) → ``{section: {key: value}}``, lenient like WSL itself.

    Comments start with ``#`` or ``;``; keys are case-insensitive; later values win.
    """
    sections = {}
    current = None
    for raw in (text or "").splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip().lower(), {})
            continue
        if "=" not in line or current is None:
            continue
        key, _sep, value = line.partition("=")
        current[key.strip().lower()] = value.strip().strip('"')
    return sections


def systemd_enabled(sections):
    """``[boot] systemd=true`` → True; ``false`` → False; absent or unreadable → None."""
    value = (sections or {}).get("boot", {}).get("systemd")
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    return None


# --- Linux driver packages --------------------------------------------------------------------
# The dpkg database below ``root`` is read with the collection's shared reader (_tools/dpkg.py): no command.

def linux_driver_packages(packages, globs=gpu_packages.NVIDIA_DRIVER):
    """Installed packages (from ``_tools/dpkg.py``) whose name matches one of ``globs`` (by default the
    packages of a Linux NVIDIA driver, ``_tools/gpu_packages.py``), one entry per name."""
    found = []
    for package in sorted(packages, key=lambda p: (p["name"], p.get("arch") or "")):
        if any(f["name"] == package["name"] for f in found):
            continue  # the same package for a second architecture (multiarch)
        if package["installed"] and any(fnmatch.fnmatchcase(package["name"], pattern) for pattern in globs):
            found.append({"name": package["name"], "version": package["version"], "held": package["held"]})
    return sorted(found, key=lambda item: item["name"])


# --- nvidia-smi ----------------------------------------------------------------------------------

def parse_nvidia_smi(text, rc=0):
    """Plain ``nvidia-smi`` (or ``-q``) output → ``{ok, driver_version, nvidia_smi_version, cuda_version, error}``.

    On WSL2 ``Driver Version`` is the Windows host's driver and ``NVIDIA-SMI`` the version of the
    Linux-side library shipped with it.
    """
    text = text or ""
    result = {"ok": False, "driver_version": None, "nvidia_smi_version": None, "cuda_version": None,
              "error": None}
    match = re.search(r"Driver Version\s*:?\s*([0-9][0-9.]*)", text)
    if match:
        result["driver_version"] = match.group(1)
    match = re.search(r"NVIDIA-SMI\s+([0-9][0-9.]*)", text)
    if match:
        result["nvidia_smi_version"] = match.group(1)
    match = re.search(r"CUDA Version\s*:?\s*([0-9][0-9.]*)", text)
    if match:
        result["cuda_version"] = match.group(1)
    if rc == 0 and result["driver_version"]:
        result["ok"] = True
        return result
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    failure = [line for line in lines if "failed" in line.lower() or "error" in line.lower()
               or "not found" in line.lower()]
    result["error"] = (failure or lines or ["exit status %s and no driver version" % rc])[0]
    return result


# --- cuInit in a child process -------------------------------------------------------------------

def curesult_name(number):
    return CURESULT_NAMES.get(number, "CUresult %s" % number)


def interpret_cuinit(rc, stdout, stderr, library, timed_out=False, timeout=None):
    """The child's exit status and output → the ``cuda_init`` fact.

    ``outcome`` is ``returned`` (cuInit returned ``result``), ``crashed`` (the child died from a
    signal), ``timeout`` (killed after ``timeout`` seconds), ``load_failed`` or ``error``.
    """
    fact = {"library": library, "outcome": "error", "result": None, "name": None,
            "driver_api_version": None, "message": None}
    if timed_out:
        fact.update(outcome="timeout", message="cuInit(0) did not return within %s s and was killed" % timeout)
        return fact
    signal_number = -rc if rc is not None and rc < 0 else (rc - 128 if rc is not None and 128 < rc < 160 else None)
    if signal_number:
        try:
            signame = signal.Signals(signal_number).name
        except ValueError:
            signame = "signal %s" % signal_number
        fact.update(outcome="crashed", message="cuInit(0) crashed the process (%s)" % signame)
        return fact
    data = None
    for line in reversed((stdout or "").splitlines()):
        try:
            data = json.loads(line)
            break
        except ValueError:
            continue
    if not isinstance(data, dict):
        tail = (stderr or stdout or "").strip().splitlines()
        fact["message"] = "the cuInit probe exited %s without a result%s" % (
            rc, (": " + tail[-1]) if tail else "")
        return fact
    if "load_error" in data:
        fact.update(outcome="load_failed", message="could not load %s: %s" % (library, data["load_error"]))
        return fact
    number = data.get("result")
    fact.update(outcome="returned", result=number, name=curesult_name(number),
                driver_api_version=data.get("driver_api_version"),
                message="cuInit(0) returned %s (%s)" % (curesult_name(number), number))
    return fact


# --- snapshot of what a Windows update changes ---------------------------------------------------

SNAPSHOT_KEYS = ("driver_version", "kernel_release")


def parse_snapshot(text):
    """The state file written by wsl_guard (JSON) → dict, or None when absent/unreadable."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def snapshot_changes(previous, current):
    """Keys of ``SNAPSHOT_KEYS`` whose value changed between two snapshots (known values only)."""
    if not previous:
        return []
    changes = []
    for key in SNAPSHOT_KEYS:
        before, after = previous.get(key), current.get(key)
        if before is not None and after is not None and before != after:
            changes.append({"key": key, "before": before, "after": after})
    return changes
