# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wsl area's checks: the table (data) and the verdicts over what was collected.

Pure functions, no I/O, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl.parse import LIBCUDA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable

FIX_BROKEN = ("update the WSL kernel with 'wsl --update' on the Windows host (then 'wsl --shutdown'), "
              "remove Linux NVIDIA driver packages from the distribution (wsl_guard), and check the "
              "host's NVIDIA driver")
_FIX_HOST_DRIVER = "install a current NVIDIA Windows driver on the host and run 'wsl --update'"

CHECKS = CheckTable(
    Check("wsl", "On a host that is not WSL: says so (nothing else is checked).",
          fix="nothing to do"),
    Check("wsl1", "Whether the distribution runs under WSL1, which has no GPU access.",
          fix="convert it with 'wsl --set-version <distro> 2' on the Windows host"),
    Check("wsl_lib_dir", "Whether /usr/lib/wsl/lib, the host driver's libraries, is there and carries libcuda.so.1.",
          fix="install a current NVIDIA Windows driver on the host, run 'wsl --update' and restart WSL ('wsl --shutdown')"),
    Check("linux_driver_inside_wsl", "Whether Linux NVIDIA driver packages (driver_package_patterns) are installed "
          "inside the distribution.",
          fix="remove them (wsl_guard with wsl_guard_linux_driver_action=remove, or apt-get purge) and never install "
              "a Linux driver in WSL"),
    Check("libcuda_shadowed", "Whether the libcuda.so.1 the dynamic linker loads is the host driver's copy.",
          fix="put /usr/lib/wsl/lib first on the linker path (wsl_guard writes an ld.so.conf.d file and runs "
              "ldconfig) and remove the Linux driver package that ships the other copy"),
    Check("nvidia_smi", "Whether nvidia-smi (the host driver's copy first) reports the host driver.",
          fix="update the host's NVIDIA driver, run 'wsl --update' and 'wsl --shutdown'"),
    Check("cuda_init", "Whether cuInit(0) on the libcuda.so.1 the linker loads returns CUDA_SUCCESS (child process, "
          "cuda_init_timeout_s).",
          fix=FIX_BROKEN),
    Check("nvidia_smi_ok_cuda_broken", "Whether CUDA fails to initialise while nvidia-smi works (the shadowed or "
          "outdated libcuda of the WSL guides).",
          fix=FIX_BROKEN),
    Check("wsl_host_changed", "Whether the Windows host's driver or the WSL kernel changed since wsl_guard's last "
          "snapshot (state_file).",
          fix="check that CUDA still initialises (cuda_init) and run 'wsl --update' if the kernel lags the driver"),
)


def lib_dir_check(fact):
    lib_dir, check = fact["wsl_lib_dir"], CHECKS["wsl_lib_dir"]
    if not fact["wsl_lib_dir_present"]:
        return check.result("warn", None, lib_dir, "%s is missing, so no GPU is passed through" % lib_dir)
    if LIBCUDA not in fact["wsl_libraries"]:
        return check.result("warn", fact["wsl_libraries"], LIBCUDA, "%s has no %s" % (lib_dir, LIBCUDA),
                            fix="reinstall the NVIDIA Windows driver on the host and run 'wsl --update'")
    return check.result("ok", fact["wsl_libraries"], LIBCUDA, "%s carries the host driver's %s" % (lib_dir, LIBCUDA))


def _unread(fact, link):
    return (fact.get("_unread") or {}).get(link)


def driver_package_check(fact):
    packages, check = fact["linux_nvidia_driver_packages"], CHECKS["linux_driver_inside_wsl"]
    if _unread(fact, "packages"):
        return check.unknown("the installed packages could not be read (%s)" % _unread(fact, "packages"),
                             fix="check by hand that no Linux NVIDIA driver package is installed in the distribution "
                                 "(its package manager), or point root at a tree with /var/lib/dpkg/status")
    loose = [p["name"] for p in packages if not p["held"]]
    if loose:
        return check.result("crit", loose, [], "Linux NVIDIA driver packages are installed inside WSL (%s); they "
                                               "shadow the host driver's libraries" % ", ".join(loose))
    if packages:
        names = [p["name"] for p in packages]
        return check.result("warn", names, [], "Linux NVIDIA driver packages are held inside WSL (%s); they cannot be "
                                               "upgraded but still sit next to the host driver" % ", ".join(names),
                            fix="remove them when convenient (wsl_guard_linux_driver_action=remove)")
    return check.result("ok", [], [], "no Linux NVIDIA driver package inside WSL")


def libcuda_check(fact):
    lib_dir, libcuda, check = fact["wsl_lib_dir"], fact["libcuda_path"], CHECKS["libcuda_shadowed"]
    host_copy = os.path.join(lib_dir, LIBCUDA)
    if libcuda is None:
        return check.result("warn", None, lib_dir, "no %s on the linker path: CUDA programs cannot start; check that "
                            "%s is listed in /etc/ld.so.conf.d and run ldconfig" % (LIBCUDA, lib_dir), fix="")
    if not fact["libcuda_resolves_to_wsl"] and LIBCUDA in fact["wsl_libraries"]:
        return check.result("crit", libcuda, host_copy, "the dynamic linker loads %s instead of the host driver's %s"
                            % (libcuda, host_copy),
                            fix="put %s first on the linker path (wsl_guard writes an ld.so.conf.d file and runs "
                                "ldconfig) and remove the Linux driver package that ships it" % lib_dir)
    if not fact["libcuda_resolves_to_wsl"]:
        return check.result("crit", libcuda, host_copy, "the only %s on the linker path is %s, not the host driver's"
                            % (LIBCUDA, libcuda),
                            fix="remove it and restore the host driver's libraries ('wsl --update' on the host)")
    return check.result("ok", libcuda, host_copy, "%s resolves to the host driver's copy" % LIBCUDA)


def nvidia_smi_check(fact):
    check = CHECKS["nvidia_smi"]
    if fact["nvidia_smi_path"] is None:
        return check.result("warn", None, True, "nvidia-smi not found in %s or on PATH" % fact["wsl_lib_dir"],
                            fix=_FIX_HOST_DRIVER)
    if not fact["nvidia_smi_ok"]:
        return check.result("warn", False, True, "nvidia-smi failed (%s): no GPU is reachable from WSL; update the "
                                                 "host's NVIDIA driver, run 'wsl --update' and 'wsl --shutdown'"
                            % fact["nvidia_smi_error"], fix="")
    return check.result("ok", True, True, "nvidia-smi reports host driver %s" % fact["driver_version"])


def cuda_init_checks(fact):
    cuda = fact["cuda_init"]
    if cuda is None:
        return []
    value = cuda["name"] or cuda["outcome"]
    if cuda["outcome"] == "error":
        # the probe itself did not run to a result: nothing is known about CUDA
        return [CHECKS["cuda_init"].unknown("the cuInit probe gave no answer (%s)" % cuda["message"],
                                            fix="run it by hand: python3 -c \"import ctypes; "
                                                "print(ctypes.CDLL('%s').cuInit(0))\"" % cuda["library"])]
    if cuda["outcome"] == "returned" and cuda["result"] == 0:
        return [CHECKS["cuda_init"].result("ok", value, "CUDA_SUCCESS", cuda["message"])]
    if fact["nvidia_smi_ok"]:
        return [CHECKS["nvidia_smi_ok_cuda_broken"].result(
            "crit", value, "CUDA_SUCCESS", "nvidia-smi works but CUDA does not (%s; %s)" % (cuda["message"], cuda["library"]))]
    return [CHECKS["cuda_init"].result("warn", value, "CUDA_SUCCESS",
                                       "CUDA cannot initialise (%s; %s)" % (cuda["message"], cuda["library"]))]


def host_change_checks(fact):
    changes = fact.get("snapshot_changes") or []
    if _unread(fact, "snapshot"):
        return [CHECKS["wsl_host_changed"].unknown("the last snapshot could not be read (%s)" % _unread(fact, "snapshot"),
                                                   fix="run wsl_guard again: it writes a new snapshot")]
    if not changes:
        return []
    text = ", ".join("%s %s -> %s" % (c["key"].replace("_", " "), c["before"], c["after"]) for c in changes)
    return [CHECKS["wsl_host_changed"].result("warn", [c["key"] for c in changes], None,
                                              "the Windows host changed since the last run (%s)" % text)]


def evaluate(data, params):
    """The checks of the WSL fact (see docs/checks.md)."""
    if not data["is_wsl"] and _unread(data, "proc_version"):
        return [CHECKS["wsl"].unknown("the kernel string could not be read (%s)" % _unread(data, "proc_version"),
                                      fix="check proc_version_path (default /proc/version, relative to root)")]
    if not data["is_wsl"]:
        return [CHECKS["wsl"].result("ok", False, None,
                                     "not a WSL host (kernel %s); nothing to guard" % data.get("kernel_release"))]
    if data["wsl_version"] == 1:
        return [CHECKS["wsl1"].result("warn", 1, 2, "this distribution runs under WSL1, which has no GPU access")]
    return ([lib_dir_check(data), driver_package_check(data), libcuda_check(data), nvidia_smi_check(data)]
            + cuda_init_checks(data) + host_change_checks(data))
