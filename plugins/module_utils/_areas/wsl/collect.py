# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a WSL host: files below ``root``, ``ldconfig -p``, ``nvidia-smi`` and ``cuInit(0)`` in a child process.

I/O only, through the collection's runner; parsing is in ``parse.py`` and ``_tools/ldconfig.py``,
verdicts in ``checks.py``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import platform
import sys

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import wsl_gate
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import dpkg, gpu_packages, ldconfig

WSL_LIBRARY_GLOBS = ("libcuda.so*", "libnvidia-ml.so*", "libdxcore.so*")

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


def check_options(params):
    """What the argument spec cannot say: the cuInit child needs at least a second."""
    if params["cuda_init_timeout_s"] < 1:
        return ["cuda_init_timeout_s must be at least 1, not %s" % params["cuda_init_timeout_s"]]
    return []


def run_cuinit(run_command, python, library, timeout=15):
    """Call ``cuInit(0)`` on ``library`` in ``python -c`` under a timeout; never raises."""
    try:
        result = _runner.run(run_command, [python, "-c", CUINIT_CHILD, library], timeout=timeout)
    except _runner.ToolError as exc:
        timed_out = exc.rc in (124, 137, -9)  # -9: a child that ignored SIGTERM, killed after the grace period
        fact = parse.interpret_cuinit(exc.rc, exc.stdout, exc.stderr, library, timed_out=timed_out, timeout=timeout)
        if not timed_out:
            fact["message"] = str(exc)
        return fact
    return parse.interpret_cuinit(result.rc, result.stdout, result.stderr, library)


def _root_path(root, path):
    return wsl_gate.path_under(root, path)


def _empty(version, environ):
    return {
        "is_wsl": version["is_wsl"],
        "wsl_version": version["wsl_version"],
        "kernel_release": version["kernel_release"],
        "distro_name": environ.get("WSL_DISTRO_NAME") or None,
        "dxg_present": None,
        "systemd_enabled": None,
        "wsl_lib_dir": parse.WSL_LIB_DIR,
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


def _libcuda(run_command, root, data, read, machine, warnings):
    """Which libcuda.so.1 the dynamic linker picks: the cache when there is one, else the conf order."""
    def expand(pattern):
        return [p[len(root.rstrip("/")):] if root not in ("", "/") else p
                for p in sorted(glob.glob(_root_path(root, pattern)))]

    data["ld_search_dirs"] = ldconfig.ld_search_dirs(lambda p: read(p, quiet=True), expand, machine=machine)
    data["libcuda_candidates"] = [
        os.path.join(d, parse.LIBCUDA) for d in data["ld_search_dirs"]
        if os.path.exists(_root_path(root, os.path.join(d, parse.LIBCUDA)))]
    cache = _root_path(root, "/etc/ld.so.cache")
    if _runner.find_tool("ldconfig") and os.path.exists(cache):
        try:
            listed = ldconfig.print_cache(run_command, cache)
            if listed.rc == 0:
                path = ldconfig.resolve_from_cache(ldconfig.parse_ldconfig_p(listed.stdout), parse.LIBCUDA, machine)
                if path:
                    data.update(libcuda_path=path, libcuda_source="ld.so.cache")
            else:
                warnings.append("ldconfig -p -C %s exited %s: %s" % (cache, listed.rc, listed.stderr.strip()))
        except _runner.ToolError as exc:
            warnings.append(str(exc))
    if data["libcuda_path"] is None and data["libcuda_candidates"]:
        data.update(libcuda_path=data["libcuda_candidates"][0], libcuda_source="ld.so.conf")
    if data["libcuda_path"] is not None:
        data["libcuda_resolves_to_wsl"] = ldconfig.in_dir(data["libcuda_path"], parse.WSL_LIB_DIR)


def _nvidia_smi(run_command, root, data, nvidia_smi_path, warnings):
    """nvidia-smi: the host driver's copy in /usr/lib/wsl/lib first."""
    lib_dir = _root_path(root, parse.WSL_LIB_DIR)
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
    data["nvidia_smi_path"] = smi
    if not smi:
        data["nvidia_smi_ok"] = False
        return
    try:
        out = _runner.run(run_command, [smi], timeout=30)
        parsed = parse.parse_nvidia_smi(out.stdout + out.stderr, out.rc)
    except _runner.ToolError as exc:
        parsed = parse.parse_nvidia_smi("", 1)
        parsed["error"] = str(exc)
    data.update(nvidia_smi_ok=parsed["ok"], nvidia_smi_error=parsed["error"], driver_version=parsed["driver_version"],
                nvidia_smi_version=parsed["nvidia_smi_version"], cuda_version=parsed["cuda_version"])


def collect(run_command, params, environ=None, python=None, machine=None, system=None):
    """``(data, warnings)``: the ``gpufleet_wsl`` readings; every file is read below ``root``.

    With ``only_on_wsl``, a host that is not WSL (its kernel string read, and not a WSL kernel) gives
    ``(None, warnings)``: no fact, at the cost of reading ``/proc/version``. What is WSL is said by
    ``_areas/wsl_gate.py``, which ``_areas/gather.py`` asks first: there such a host does not even import
    this file.

    ``environ`` (for ``WSL_DISTRO_NAME``), ``python`` (runs the cuInit child) and ``machine`` default
    to this process's own.
    """
    root = params["root"]
    environ = os.environ if environ is None else environ
    python = python or sys.executable
    machine = machine or platform.machine()
    warnings = []

    def read(path, quiet=False):
        try:
            with open(_root_path(root, path), "r") as handle:
                return handle.read()
        except (IOError, OSError) as exc:
            if not quiet:
                warnings.append("could not read %s: %s" % (path, exc))
            return ""

    unread = {}  # what could not be read, for the checks (not part of the fact)
    if wsl_gate.darwin(root, system):
        # macOS has no /proc/version and is never WSL: nothing unreadable to report (the daily's only_on_wsl)
        if params.get("only_on_wsl"):
            return None, warnings
        data = _empty({"is_wsl": False, "wsl_version": None, "kernel_release": platform.release()}, environ)
        data.update(_unread=unread, driver_package_patterns=list(params["driver_package_patterns"] or gpu_packages.NVIDIA_DRIVER))
        return data, warnings
    proc_version = read(params["proc_version_path"])
    if not proc_version and warnings:
        unread["proc_version"] = warnings[-1]
    data = _empty(parse.parse_proc_version(proc_version), environ)
    data["_unread"] = unread
    # The patterns in force, in the fact: wsl_guard pins exactly these away.
    data["driver_package_patterns"] = list(params["driver_package_patterns"] or gpu_packages.NVIDIA_DRIVER)
    if not data["is_wsl"]:
        # only_on_wsl (the daily): a host known not to be WSL reports nothing; one whose kernel string
        # could not be read still gets its unknown check.
        if params.get("only_on_wsl") and not unread:
            return None, warnings
        return data, warnings

    data["dxg_present"] = os.path.exists(_root_path(root, "/dev/dxg"))
    data["systemd_enabled"] = parse.systemd_enabled(parse.parse_wsl_conf(read("/etc/wsl.conf", quiet=True)))

    # Libraries of the host driver.
    lib_dir = _root_path(root, parse.WSL_LIB_DIR)
    data["wsl_lib_dir_present"] = os.path.isdir(lib_dir)
    if data["wsl_lib_dir_present"]:
        names = set()
        for pattern in WSL_LIBRARY_GLOBS:
            names.update(os.path.basename(p) for p in glob.glob(os.path.join(lib_dir, pattern)))
        data["wsl_libraries"] = sorted(names)

    _libcuda(run_command, root, data, read, machine, warnings)

    # Linux driver packages (dpkg database below root).
    if os.path.isfile(_root_path(root, "/var/lib/dpkg/status")):
        packages, problems = dpkg.parse_status_file(read("/var/lib/dpkg/status"))
        warnings.extend("reading the dpkg database: %s" % p for p in problems)
        data["linux_nvidia_driver_packages"] = parse.linux_driver_packages(packages, data["driver_package_patterns"])
    else:
        unread["packages"] = "no /var/lib/dpkg/status below %s (not a dpkg system?)" % root

    _nvidia_smi(run_command, root, data, params["nvidia_smi_path"], warnings)

    # cuInit(0) on the library the linker resolves.
    if data["libcuda_path"] is not None and python:
        data["cuda_init"] = run_cuinit(run_command, python, _root_path(root, data["libcuda_path"]),
                                       timeout=int(params["cuda_init_timeout_s"]))

    data["snapshot"] = {"driver_version": data["driver_version"], "kernel_release": data["kernel_release"],
                        "nvidia_smi_version": data["nvidia_smi_version"]}
    if params["state_file"]:
        path = _root_path(root, params["state_file"])
        try:
            with open(path, "r") as handle:
                data["previous_snapshot"] = parse.parse_snapshot(handle.read())
            if data["previous_snapshot"] is None:
                unread["snapshot"] = "%s is not a JSON object" % params["state_file"]
        except (IOError, OSError) as exc:
            data["previous_snapshot"] = None
            if os.path.exists(path):  # absent is a first run; present but unreadable is not
                unread["snapshot"] = "could not read %s: %s" % (params["state_file"], exc)
        data["snapshot_changes"] = parse.snapshot_changes(data["previous_snapshot"], data["snapshot"])
    return data, warnings
