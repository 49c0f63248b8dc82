# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WSL2 GPU passthrough: detection, linker order, Linux driver packages, nvidia-smi and cuInit.

On WSL2 the NVIDIA driver lives on the Windows host; ``/usr/lib/wsl/lib`` carries its ``libcuda``
and ``nvidia-smi``. A Linux NVIDIA driver installed inside the distribution shadows that copy and
breaks CUDA while ``nvidia-smi`` may still work. The parsers here take text and return plain dicts;
``gather()`` reads files below ``root`` and runs the tools through ``_runner``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import glob
import json
import os
import re
import signal

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _dpkg, _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import make_check, worst_status

SCHEMA_VERSION = 1
WSL_LIB_DIR = "/usr/lib/wsl/lib"
LIBCUDA = "libcuda.so.1"
WSL_LIBRARY_GLOBS = ("libcuda.so*", "libnvidia-ml.so*", "libdxcore.so*")

# Packages of a Linux NVIDIA driver: none of them belongs inside WSL, where the driver is the
# Windows host's. The CUDA toolkit, cuDNN and the container toolkit are fine and not listed.
# Globs in APT preferences syntax too (the wsl_guard role pins the same list away).
LINUX_DRIVER_PACKAGE_GLOBS = (
    "nvidia-driver", "nvidia-driver-*", "nvidia-dkms-*", "nvidia-kernel-*", "nvidia-utils-*",
    "nvidia-compute-utils-*", "nvidia-headless-*", "nvidia-open", "nvidia-open-*",
    "nvidia-firmware-*", "nvidia-smi", "libnvidia-compute-*", "libnvidia-gl-*",
    "libnvidia-decode-*", "libnvidia-encode-*", "libnvidia-extra-*", "libnvidia-fbc1-*",
    "libnvidia-cfg1-*", "libnvidia-ml1", "libcuda1", "cuda-drivers", "cuda-drivers-*",
    "linux-modules-nvidia-*", "linux-objects-nvidia-*", "xserver-xorg-video-nvidia*",
    "firmware-nvidia-gsp",
)

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

# Directories the dynamic linker trusts after those of ld.so.conf (glibc's slibdir/libdir).
TRUSTED_DIRS = ("/lib/{multiarch}", "/usr/lib/{multiarch}", "/lib", "/usr/lib", "/lib64", "/usr/lib64")
_MULTIARCH = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu", "arm64": "aarch64-linux-gnu"}
_LDCONFIG_ARCH = {"x86_64": "x86-64", "aarch64": "AArch64", "arm64": "AArch64"}

FIX_BROKEN = ("update the WSL kernel with 'wsl --update' on the Windows host (then 'wsl --shutdown'), "
              "remove Linux NVIDIA driver packages from the distribution (wsl_guard), and check the "
              "host's NVIDIA driver")

# Run in a child process: a libcuda that crashes or hangs in cuInit takes only the child down.
CUINIT_CHILD = r"""
import ctypes, json, sys
try:
    lib = ctypes.CDLL(sys.argv[1])
except OSError as exc:
    print(json.dumps({"load_error": str(exc)})); sys.exit(0)
try:
    cu_init = lib.cuInit
except AttributeError:
    print(json.dumps({"load_error": "the library has no cuInit symbol"})); sys.exit(0)
cu_init.argtypes = [ctypes.c_uint]
cu_init.restype = ctypes.c_int
result = cu_init(0)
version = None
try:
    get_version = lib.cuDriverGetVersion
    number = ctypes.c_int(0)
    if get_version(ctypes.byref(number)) == 0:
        version = number.value
except AttributeError:
    pass
print(json.dumps({"result": result, "driver_api_version": version}))
"""


# --- /proc/version -------------------------------------------------------------------------------

def parse_proc_version(text):
    """``/proc/version`` → ``{is_wsl, wsl_version, kernel_release}``.

    WSL2 kernels are ``*-microsoft-standard[-WSL2]``; WSL1 reports a fake ``*-Microsoft`` kernel
    built by ``Microsoft@Microsoft.com`` (no real kernel, hence no GPU).
    """
    text = (text or "").strip()
    match = re.match(r"Linux version (\S+)", text)
    release = match.group(1) if match else None
    lowered = text.lower()
    if "microsoft" not in lowered:
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


# --- linker: ldconfig -p and ld.so.conf ----------------------------------------------------------

def parse_ldconfig_p(text):
    """``ldconfig -p`` → list of ``{name, flags, path}`` in cache order (first match wins)."""
    entries = []
    for line in (text or "").splitlines():
        match = re.match(r"\s+(\S+)\s+\(([^)]*)\)(?:\s+OS ABI: [^=]*)?\s+=>\s+(.+?)\s*$", line)
        if match:
            entries.append({"name": match.group(1), "flags": match.group(2), "path": match.group(3)})
    return entries


def resolve_from_cache(entries, soname=LIBCUDA, machine="x86_64"):
    """The path the dynamic linker loads for ``soname``: the first cache entry of our architecture."""
    arch = _LDCONFIG_ARCH.get(machine)
    for entry in entries:
        if entry["name"] == soname and (arch is None or arch in entry["flags"]):
            return entry["path"]
    return None


def parse_ld_so_conf(text):
    """One ld.so.conf file → list of ``("dir", path)`` and ``("include", pattern)`` in order.

    Like glibc's ldconfig: ``#`` starts a comment, one directory per line (``dir=TYPE`` allowed),
    ``include`` takes one or more glob patterns, ``hwcap`` lines are ignored.
    """
    items = []
    for raw in (text or "").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] == "include" and len(words) > 1:
            items.extend(("include", pattern) for pattern in words[1:])
        elif words[0] == "hwcap":
            continue
        else:
            directory = line.split("=", 1)[0].strip()
            if len(directory) > 1:
                directory = directory.rstrip("/")
            items.append(("dir", directory))
    return items


def ld_search_dirs(read, expand, conf="/etc/ld.so.conf", machine="x86_64", _depth=0):
    """Directories in the order ldconfig scans them: ld.so.conf (includes expanded), then trusted.

    ``read(path)`` returns a file's text ("" when absent); ``expand(pattern)`` returns the sorted
    paths a glob matches. Both see paths as the host does (``root`` is applied by the caller).
    """
    dirs = []
    if _depth < 8:
        base = os.path.dirname(conf)
        for kind, value in parse_ld_so_conf(read(conf)):
            if kind == "dir":
                dirs.append(value)
                continue
            pattern = value if value.startswith("/") else os.path.join(base, value)
            for path in expand(pattern):
                dirs.extend(ld_search_dirs(read, expand, path, machine, _depth + 1))
    if _depth:
        return dirs
    multiarch = _MULTIARCH.get(machine, "%s-linux-gnu" % machine)
    dirs.extend(d.format(multiarch=multiarch) for d in TRUSTED_DIRS)
    ordered = []
    for directory in dirs:
        if directory not in ordered:
            ordered.append(directory)
    return ordered


def in_dir(path, directory):
    return bool(path) and os.path.dirname(os.path.normpath(path)) == os.path.normpath(directory)


# --- Linux driver packages --------------------------------------------------------------------
# The dpkg database below ``root`` is read with the collection's shared reader (_dpkg): no command.

def linux_driver_packages(packages, globs=LINUX_DRIVER_PACKAGE_GLOBS):
    """Installed packages (from ``_dpkg``) whose name matches one of ``globs``, one entry per name."""
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


def run_cuinit(run_command, python, library, timeout=15):
    """Call ``cuInit(0)`` on ``library`` in ``python -c`` under a timeout; never raises."""
    try:
        result = _runner.run(run_command, [python, "-c", CUINIT_CHILD, library], timeout=timeout)
    except _runner.ToolError as exc:
        timed_out = exc.rc in (124, 137)
        fact = interpret_cuinit(exc.rc, exc.stdout, exc.stderr, library, timed_out=timed_out, timeout=timeout)
        if not timed_out:
            fact["message"] = str(exc)
        return fact
    return interpret_cuinit(result.rc, result.stdout, result.stderr, library)


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


# --- verdicts ------------------------------------------------------------------------------------

def wsl_checks(fact, changes=()):
    """The checks of a WSL fact (see docs/checks.md); pure."""
    if not fact["is_wsl"]:
        return [make_check("wsl", "ok", False, None,
                           "not a WSL host (kernel %s); nothing to guard" % fact.get("kernel_release"))]
    checks = []
    if fact["wsl_version"] == 1:
        checks.append(make_check(
            "wsl1", "warn", 1, 2,
            "this distribution runs under WSL1, which has no GPU access: convert it with "
            "'wsl --set-version <distro> 2' on the Windows host"))
        return checks
    lib_dir = fact["wsl_lib_dir"]
    if not fact["wsl_lib_dir_present"]:
        checks.append(make_check(
            "wsl_lib_dir", "warn", None, lib_dir,
            "%s is missing, so no GPU is passed through: install a current NVIDIA Windows driver on "
            "the host, run 'wsl --update' and restart WSL ('wsl --shutdown')" % lib_dir))
    elif LIBCUDA not in fact["wsl_libraries"]:
        checks.append(make_check(
            "wsl_lib_dir", "warn", fact["wsl_libraries"], LIBCUDA,
            "%s has no %s: reinstall the NVIDIA Windows driver on the host and run 'wsl --update'"
            % (lib_dir, LIBCUDA)))
    else:
        checks.append(make_check("wsl_lib_dir", "ok", fact["wsl_libraries"], LIBCUDA,
                                 "%s carries the host driver's %s" % (lib_dir, LIBCUDA)))

    packages = fact["linux_nvidia_driver_packages"]
    loose = [p["name"] for p in packages if not p["held"]]
    if loose:
        checks.append(make_check(
            "linux_driver_inside_wsl", "crit", loose, [],
            "Linux NVIDIA driver packages are installed inside WSL (%s); they shadow the host "
            "driver's libraries: remove them (wsl_guard with wsl_guard_linux_driver_action=remove, "
            "or apt-get purge) and never install a Linux driver in WSL" % ", ".join(loose)))
    elif packages:
        names = [p["name"] for p in packages]
        checks.append(make_check(
            "linux_driver_inside_wsl", "warn", names, [],
            "Linux NVIDIA driver packages are held inside WSL (%s); they cannot be upgraded but "
            "still sit next to the host driver: remove them when convenient "
            "(wsl_guard_linux_driver_action=remove)" % ", ".join(names)))
    else:
        checks.append(make_check("linux_driver_inside_wsl", "ok", [], [],
                                 "no Linux NVIDIA driver package inside WSL"))

    libcuda = fact["libcuda_path"]
    if libcuda is None:
        checks.append(make_check(
            "libcuda_shadowed", "warn", None, lib_dir,
            "no %s on the linker path: CUDA programs cannot start; check that %s is listed in "
            "/etc/ld.so.conf.d and run ldconfig" % (LIBCUDA, lib_dir)))
    elif not fact["libcuda_resolves_to_wsl"] and LIBCUDA in fact["wsl_libraries"]:
        checks.append(make_check(
            "libcuda_shadowed", "crit", libcuda, os.path.join(lib_dir, LIBCUDA),
            "the dynamic linker loads %s instead of the host driver's %s: put %s first on the "
            "linker path (wsl_guard writes an ld.so.conf.d file and runs ldconfig) and remove the "
            "Linux driver package that ships it" % (libcuda, os.path.join(lib_dir, LIBCUDA), lib_dir)))
    elif not fact["libcuda_resolves_to_wsl"]:
        checks.append(make_check(
            "libcuda_shadowed", "crit", libcuda, os.path.join(lib_dir, LIBCUDA),
            "the only %s on the linker path is %s, not the host driver's: remove it and restore "
            "the host driver's libraries ('wsl --update' on the host)" % (LIBCUDA, libcuda)))
    else:
        checks.append(make_check("libcuda_shadowed", "ok", libcuda, os.path.join(lib_dir, LIBCUDA),
                                 "%s resolves to the host driver's copy" % LIBCUDA))

    smi_ok = fact["nvidia_smi_ok"]
    if fact["nvidia_smi_path"] is None:
        checks.append(make_check("nvidia_smi", "warn", None, True,
                                 "nvidia-smi not found in %s or on PATH: install a current NVIDIA "
                                 "Windows driver on the host and run 'wsl --update'" % lib_dir))
    elif not smi_ok:
        checks.append(make_check("nvidia_smi", "warn", False, True,
                                 "nvidia-smi failed (%s): no GPU is reachable from WSL; update the "
                                 "host's NVIDIA driver, run 'wsl --update' and 'wsl --shutdown'"
                                 % fact["nvidia_smi_error"]))
    else:
        checks.append(make_check("nvidia_smi", "ok", True, True,
                                 "nvidia-smi reports host driver %s" % fact["driver_version"]))

    cuda = fact["cuda_init"]
    if cuda is not None:
        cuda_ok = cuda["outcome"] == "returned" and cuda["result"] == 0
        value = cuda["name"] or cuda["outcome"]
        if cuda_ok:
            checks.append(make_check("cuda_init", "ok", value, "CUDA_SUCCESS", cuda["message"]))
        elif smi_ok:
            checks.append(make_check(
                "nvidia_smi_ok_cuda_broken", "crit", value, "CUDA_SUCCESS",
                "nvidia-smi works but CUDA does not (%s; %s): %s"
                % (cuda["message"], cuda["library"], FIX_BROKEN)))
        else:
            checks.append(make_check(
                "cuda_init", "warn", value, "CUDA_SUCCESS",
                "CUDA cannot initialise (%s; %s): %s" % (cuda["message"], cuda["library"], FIX_BROKEN)))

    if changes:
        text = ", ".join("%s %s -> %s" % (c["key"].replace("_", " "), c["before"], c["after"]) for c in changes)
        checks.append(make_check(
            "wsl_host_changed", "warn", [c["key"] for c in changes], None,
            "the Windows host changed since the last run (%s): check that CUDA still initialises "
            "(cuda_init) and run 'wsl --update' if the kernel lags the driver" % text))
    return checks


# --- gather --------------------------------------------------------------------------------------

def _root_path(root, path):
    return os.path.join(root, path.lstrip("/")) if root not in ("", "/") else path


def gather(run_command, root="/", proc_version_path="/proc/version", nvidia_smi_path=None,
           python=None, cuda_init_timeout_s=15, package_globs=LINUX_DRIVER_PACKAGE_GLOBS,
           state_file=None, environ=None, machine="x86_64"):
    """Return ``(gpufleet_wsl fact, warnings)``; every file is read below ``root``."""
    warnings = []
    environ = os.environ if environ is None else environ

    def read(path, quiet=False):
        try:
            with open(_root_path(root, path), "r") as handle:
                return handle.read()
        except (IOError, OSError) as exc:
            if not quiet:
                warnings.append("could not read %s: %s" % (path, exc))
            return ""

    version = parse_proc_version(read(proc_version_path))
    fact = {
        "schema_version": SCHEMA_VERSION,
        "is_wsl": version["is_wsl"],
        "wsl_version": version["wsl_version"],
        "kernel_release": version["kernel_release"],
        "distro_name": environ.get("WSL_DISTRO_NAME") or None,
        "dxg_present": None,
        "systemd_enabled": None,
        "wsl_lib_dir": WSL_LIB_DIR,
        "wsl_lib_dir_present": None,
        "wsl_libraries": [],
        "ld_search_dirs": [],
        "libcuda_candidates": [],
        "libcuda_path": None,
        "libcuda_source": None,
        "libcuda_resolves_to_wsl": None,
        "linux_nvidia_driver_packages": [],
        "nvidia_smi_path": None,
        "nvidia_smi_ok": None,
        "nvidia_smi_error": None,
        "driver_version": None,
        "nvidia_smi_version": None,
        "cuda_version": None,
        "cuda_init": None,
        "snapshot": None,
        "previous_snapshot": None,
        "snapshot_changes": [],
    }
    if not fact["is_wsl"]:
        fact["checks"] = wsl_checks(fact)
        fact["status"] = worst_status(fact["checks"])
        return fact, warnings

    fact["dxg_present"] = os.path.exists(_root_path(root, "/dev/dxg"))
    fact["systemd_enabled"] = systemd_enabled(parse_wsl_conf(read("/etc/wsl.conf", quiet=True)))

    # Libraries of the host driver.
    lib_dir = _root_path(root, WSL_LIB_DIR)
    fact["wsl_lib_dir_present"] = os.path.isdir(lib_dir)
    if fact["wsl_lib_dir_present"]:
        names = set()
        for pattern in WSL_LIBRARY_GLOBS:
            names.update(os.path.basename(p) for p in glob.glob(os.path.join(lib_dir, pattern)))
        fact["wsl_libraries"] = sorted(names)

    # Which libcuda.so.1 the dynamic linker picks: the cache when there is one, else the conf order.
    def expand(pattern):
        return [p[len(root.rstrip("/")):] if root not in ("", "/") else p
                for p in sorted(glob.glob(_root_path(root, pattern)))]

    fact["ld_search_dirs"] = ld_search_dirs(lambda p: read(p, quiet=True), expand, machine=machine)
    fact["libcuda_candidates"] = [
        os.path.join(d, LIBCUDA) for d in fact["ld_search_dirs"]
        if os.path.exists(_root_path(root, os.path.join(d, LIBCUDA)))]
    cache = _root_path(root, "/etc/ld.so.cache")
    ldconfig = _runner.find_tool("ldconfig")
    if ldconfig and os.path.exists(cache):
        try:
            listed = _runner.run(run_command, [ldconfig, "-p", "-C", cache], timeout=20)
            if listed.rc == 0:
                path = resolve_from_cache(parse_ldconfig_p(listed.stdout), LIBCUDA, machine)
                if path:
                    fact.update(libcuda_path=path, libcuda_source="ld.so.cache")
            else:
                warnings.append("ldconfig -p -C %s exited %s: %s" % (cache, listed.rc, listed.stderr.strip()))
        except _runner.ToolError as exc:
            warnings.append(str(exc))
    if fact["libcuda_path"] is None and fact["libcuda_candidates"]:
        fact.update(libcuda_path=fact["libcuda_candidates"][0], libcuda_source="ld.so.conf")
    if fact["libcuda_path"] is not None:
        fact["libcuda_resolves_to_wsl"] = in_dir(fact["libcuda_path"], WSL_LIB_DIR)

    # Linux driver packages (dpkg database below root).
    if os.path.isfile(_root_path(root, "/var/lib/dpkg/status")):
        packages, problems = _dpkg.parse_status_file(read("/var/lib/dpkg/status"))
        warnings.extend("reading the dpkg database: %s" % p for p in problems)
        fact["linux_nvidia_driver_packages"] = linux_driver_packages(packages, package_globs)

    # nvidia-smi: the host driver's copy in /usr/lib/wsl/lib first.
    smi = nvidia_smi_path
    if smi is None:
        candidate = os.path.join(lib_dir, "nvidia-smi")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            smi = candidate
        elif root in ("", "/"):
            smi = _runner.find_tool("nvidia-smi")
    elif not (os.path.isfile(smi) and os.access(smi, os.X_OK)):
        warnings.append("nvidia_smi_path %s is not an executable file" % smi)
        smi = None
    fact["nvidia_smi_path"] = smi
    if smi:
        try:
            out = _runner.run(run_command, [smi], timeout=30)
            parsed = parse_nvidia_smi(out.stdout + out.stderr, out.rc)
        except _runner.ToolError as exc:
            parsed = parse_nvidia_smi("", 1)
            parsed["error"] = str(exc)
        fact.update(nvidia_smi_ok=parsed["ok"], nvidia_smi_error=parsed["error"],
                    driver_version=parsed["driver_version"], nvidia_smi_version=parsed["nvidia_smi_version"],
                    cuda_version=parsed["cuda_version"])
    else:
        fact["nvidia_smi_ok"] = False

    # cuInit(0) on the library the linker resolves.
    if fact["libcuda_path"] is not None and python:
        fact["cuda_init"] = run_cuinit(run_command, python, _root_path(root, fact["libcuda_path"]),
                                       timeout=cuda_init_timeout_s)

    fact["snapshot"] = {"driver_version": fact["driver_version"], "kernel_release": fact["kernel_release"],
                        "nvidia_smi_version": fact["nvidia_smi_version"]}
    changes = []
    if state_file:
        try:
            with open(_root_path(root, state_file), "r") as handle:
                fact["previous_snapshot"] = parse_snapshot(handle.read())
        except (IOError, OSError):
            fact["previous_snapshot"] = None
        changes = snapshot_changes(fact["previous_snapshot"], fact["snapshot"])
    fact["snapshot_changes"] = changes
    fact["checks"] = wsl_checks(fact, changes)
    fact["status"] = worst_status(fact["checks"])
    return fact, warnings


# --- summary -------------------------------------------------------------------------------------

def summary_section(fact):
    """Lines for the health summary (``_summary.SECTIONS``)."""
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
