# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The driver stack's checks: the table (data), the verdicts over the collected links, and the
one-word verdict of the chain (``ok``, ``reboot_pending``, ``broken``).

The chain, from the bottom: kernel → DKMS module (for the running and the newest kernel) → loaded
kernel module → userspace driver libraries → NVML → container toolkit → images and Python wheels.
Pure functions, no I/O, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import cuda
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack.parse import kernel_sort_key
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import dkms

CHAIN = ("kernel", "dkms", "kernel_module", "userspace", "nvml", "container_toolkit", "images_and_wheels")

# The fixes of the unknowns: what makes a link readable.
FIX_PACKAGES = "run it on a Debian/Ubuntu host where dpkg-query works (or point root at a tree with /var/lib/dpkg/status)"
FIX_DKMS = "install dkms (apt-get install dkms) so 'dkms status' can be read, or check the module by hand"
FIX_NVML = "install the driver's utilities (nvidia-utils-<branch>) so 'nvidia-smi -L' can be run"
FIX_CONTAINERS = "install the docker CLI on the host and check that the daemon answers ('docker ps')"
FIX_CONTAINER_SMI = ("run the container with the 'utility' driver capability (NVIDIA_DRIVER_CAPABILITIES) so the "
                     "container toolkit puts nvidia-smi in it")
FIX_DATA = ("check NVIDIA's table by hand (docs/driver_stack.md) or update the collection: its compatibility data "
            "ends at CUDA %s" % cuda.CUDA_RELEASES[-1][0])

CHECKS = CheckTable(
    Check("reboot_required", "Whether the host asks for a reboot (/var/run/reboot-required, and the packages that asked).",
          fix="reboot in a maintenance window"),
    Check("dkms_missing_for_kernel", "Whether the nvidia/amdgpu DKMS module is built, at the userspace driver's version, "
          "for the running and for the newest installed kernel.",
          subject=("module", "kernel"),
          fix="run 'dkms autoinstall -k <kernel>' (install linux-headers-<kernel> first), or remove that kernel"),
    Check("nvidia_module_not_loaded", "Whether the nvidia kernel module is loaded when the NVIDIA driver is installed "
          "(live host only).",
          fix="run 'modprobe nvidia' and read dmesg (DKMS build, Secure Boot key, nouveau)"),
    Check("driver_library_mismatch", "Whether the loaded nvidia kernel module and the userspace driver libraries "
          "(libnvidia-ml) have the same version.",
          fix="reboot, or unload and reload the nvidia modules"),
    Check("nouveau_loaded_with_nvidia", "Whether nouveau is loaded while the NVIDIA driver is installed.",
          fix="blacklist nouveau (modprobe.d, 'options nouveau modeset=0'), update-initramfs -u, reboot"),
    Check("secure_boot_unsigned_module", "With Secure Boot on: whether the nvidia module built for the running and "
          "the newest kernel is signed.",
          subject=("module", "kernel"),
          fix="enrol a MOK ('mokutil --import' the DKMS key, /var/lib/dkms/mok.pub) and rebuild, or sign the module"),
    Check("nvml_init", "Whether NVML initialises on the host ('nvidia-smi -L').",
          fix="see driver_library_mismatch and dkms checks; a reboot realigns a half-applied driver update"),
    Check("container_lost_gpu", "Whether NVML answers inside each running GPU container (probe_containers).",
          subject=("container",), or_host=True,
          fix="recreate the container (docker compose up --force-recreate)"),
    Check("image_cuda_newer_than_driver", "Whether the driver meets each running GPU image's NVIDIA_REQUIRE_CUDA "
          "(probe_containers).",
          subject=("container",),
          fix="upgrade the driver or use an image for the driver's CUDA"),
    Check("toolkit_newer_than_driver", "Whether the driver runs each installed CUDA toolkit (NVIDIA's minimum driver "
          "table, minor version compatibility).",
          subject=("toolkit",),
          fix="upgrade the driver or build with an older toolkit"),
    Check("wheel_cuda_newer_than_driver", "Whether the driver runs the CUDA that each Python environment's torch or "
          "CUDA runtime wheel was built for (python_envs).",
          subject=("env",),
          fix="upgrade the driver, or install a wheel built for an older CUDA"),
    Check("driver_packages_not_held", "Whether the installed driver, CUDA and ROCm packages (hold_patterns) are on "
          "hold.",
          fix="hold them (gpufleet.maintenance.package_pin, or 'apt-mark hold') and upgrade in a planned window"),
    Check("rocm_userspace_dkms_mismatch", "Whether the ROCm user space is within the releases AMD supports with the "
          "installed amdgpu-dkms (+/- 2 releases).",
          fix="install the amdgpu-dkms of the same ROCm release (amdgpu-install) and reboot"),
)

# The link of the chain each check judges; a crit of a check in BREAKS makes the verdict "broken".
LINKS = {
    "dkms_missing_for_kernel": "dkms",
    "secure_boot_unsigned_module": "dkms",
    "nvidia_module_not_loaded": "kernel_module",
    "nouveau_loaded_with_nvidia": "kernel_module",
    "driver_library_mismatch": "userspace",
    "nvml_init": "nvml",
    "container_lost_gpu": "container_toolkit",
    "image_cuda_newer_than_driver": "images_and_wheels",
    "toolkit_newer_than_driver": "images_and_wheels",
    "wheel_cuda_newer_than_driver": "images_and_wheels",
}
BREAKS = ("dkms_missing_for_kernel", "nvidia_module_not_loaded", "nvml_init", "container_lost_gpu",
          "image_cuda_newer_than_driver", "toolkit_newer_than_driver", "wheel_cuda_newer_than_driver",
          "nouveau_loaded_with_nvidia", "secure_boot_unsigned_module")


def driver_of(nvidia):
    """The NVIDIA driver version the chain is judged against: the loaded module's, else the libraries'."""
    return nvidia["kernel_module_version"] or nvidia["userspace_version"]


def boot_kernels(kernel):
    """The kernels the box runs or will boot: the running one and the newest installed, oldest first."""
    return sorted(set(k for k in (kernel["running_release"], kernel["newest_release"]) if k), key=kernel_sort_key)


def kernel_checks(data):
    kernel = data["kernel"]
    if not kernel["reboot_required"]:
        return []
    return [CHECKS["reboot_required"].result(
        "warn", True, None, "a reboot is pending (%s)" % (", ".join(kernel["reboot_required_packages"]) or "no package list"))]


def dkms_checks(data):
    """Every kernel the box will boot (the running one and the newest) needs the module, at the driver's version."""
    entries = data["dkms"]
    kernel = data["kernel"]
    check = CHECKS["dkms_missing_for_kernel"]
    if entries is None:
        # A DKMS driver package is installed but the DKMS state could not be read: each kernel is unknown.
        reason = "the DKMS state could not be read (%s)" % (data.get("_unread") or {}).get("dkms", "not reported")
        return [check.unknown(reason, subject={"module": module, "kernel": release}, fix=FIX_DKMS)
                for module in data.get("_dkms_expected") or ()
                for release in (boot_kernels(kernel) or ["unknown"])]
    results = []
    for module, wanted in (("nvidia", data["nvidia"]["userspace_version"]), ("amdgpu", None)):
        if not any(e["module"] == module for e in entries):
            continue
        for release in [k for k in boot_kernels(kernel) if k in kernel["installed_releases"]]:
            built = dkms.modules_for_kernel(entries, module, release)
            matching = [e for e in built if not wanted or e["version"] == wanted]
            when = "the running kernel" if release == kernel["running_release"] else "the newest kernel"
            subject = {"module": module, "kernel": release}
            if matching:
                results.append(check.result("ok", matching[0]["version"], None, "%s %s is built for %s %s" % (
                    module, matching[0]["version"], when, release), subject=subject))
            elif built:
                results.append(check.result(
                    "crit", built[0]["version"], wanted, "%s for %s %s is built at %s but the userspace driver is %s"
                    % (module, when, release, built[0]["version"], wanted), subject=subject,
                    fix="after a reboot the module and libraries disagree; run 'dkms autoinstall -k %s' (or reinstall "
                        "the nvidia-dkms package)" % release))
            else:
                results.append(check.result(
                    "crit", None, None, "no %s DKMS module is built for %s %s, so booting it comes up without the GPU"
                    % (module, when, release), subject=subject,
                    fix="run 'dkms autoinstall -k %s' (install linux-headers-%s first), or remove that kernel"
                        % (release, release)))
    return results


def kernel_module_checks(data):
    nvidia = data["nvidia"]
    results = []
    if nvidia["installed"] and nvidia["kernel_module_loaded"] is False and data["live"]:
        results.append(CHECKS["nvidia_module_not_loaded"].result(
            "crit", False, None, "the NVIDIA driver is installed but its kernel module is not loaded"))
    module, userspace = nvidia["kernel_module_version"], nvidia["userspace_version"]
    mismatch = CHECKS["driver_library_mismatch"]
    if data["live"] and nvidia["installed"] and nvidia["kernel_module_loaded"] is not False and bool(module) != bool(userspace):
        results.append(mismatch.unknown(
            "the %s version could not be read (the %s is %s)" % (
                "kernel module" if userspace else "userspace driver", "userspace driver" if userspace else "kernel module",
                userspace or module),
            fix="read /proc/driver/nvidia/version and the libnvidia-ml.so.<version> on the linker path "
                "(ldconfig -p | grep libnvidia-ml) by hand"))
    if module and userspace:
        if module != userspace:
            results.append(mismatch.result(
                "crit", userspace, module, "the loaded kernel module is %s but the userspace driver is %s (an update "
                "landed without a reboot; NVML fails with 'Driver/library version mismatch')" % (module, userspace)))
        else:
            results.append(mismatch.result("ok", userspace, module,
                                           "kernel module and userspace driver are both %s" % userspace))
    nouveau = CHECKS["nouveau_loaded_with_nvidia"]
    if nvidia["nouveau_loaded"] and nvidia["installed"]:
        results.append(nouveau.result("crit", True, None, "nouveau is loaded while the NVIDIA driver is installed, "
                                                          "so nvidia cannot bind the GPU"))
    elif nvidia["nouveau_loaded"] is False and nvidia["installed"]:
        results.append(nouveau.result("ok", False, None, "nouveau is not loaded"))
    return results


def secure_boot_checks(data):
    """Secure Boot refuses an unsigned module ("Key was rejected by service")."""
    kernel = data["kernel"]
    check = CHECKS["secure_boot_unsigned_module"]
    if not data["nvidia"]["installed"]:
        return []
    if kernel["secure_boot"] == "unknown" and data["live"]:
        return [check.unknown("the Secure Boot state could not be read (no SecureBoot EFI variable under "
                              "/sys/firmware/efi/efivars)", subject={"module": "nvidia", "kernel": release},
                              fix="check it by hand with 'mokutil --sb-state'")
                for release in boot_kernels(kernel)]
    if kernel["secure_boot"] != "enabled":
        return []
    results = []
    for release in boot_kernels(kernel):
        found = (data.get("_nvidia_module_files") or {}).get(release) or {}
        subject = {"module": "nvidia", "kernel": release}
        if found.get("signed") is None:
            where = ("(%s) cannot be read (a .zst module needs zstd)" % found["path"] if found.get("path")
                     else "was not found under /lib/modules")
            results.append(check.unknown(
                "the nvidia module for %s %s" % (release, where),
                subject=subject, fix="check its signature by hand: modinfo -F sig_id nvidia (or -k %s)" % release))
        elif found.get("signed") is False:
            results.append(check.result(
                "crit" if release == kernel["running_release"] else "warn", False, None,
                "Secure Boot is on and the nvidia module for %s (%s) is not signed, so the kernel refuses it"
                % (release, found["path"]), subject=subject))
        elif found.get("signed"):
            results.append(check.result("ok", True, None, "the nvidia module for %s is signed" % release, subject=subject))
    return results


def nvml_checks(data):
    nvidia = data["nvidia"]
    if nvidia["nvml_ok"] is False:
        return [CHECKS["nvml_init"].result("crit", False, None,
                                           "NVML does not initialise on the host (%s)" % nvidia["nvml_message"])]
    if nvidia["nvml_ok"]:
        return [CHECKS["nvml_init"].result("ok", True, None, "NVML answers on the host")]
    if data["live"] and nvidia["installed"]:
        reason = nvidia["nvml_message"] or (data.get("_unread") or {}).get("nvml") or "nvidia-smi was not run"
        return [CHECKS["nvml_init"].unknown("NVML was not asked on the host (%s)" % reason, fix=FIX_NVML)]
    return []


def container_checks(data):
    nvidia = data["nvidia"]
    driver = driver_of(nvidia)
    lost, image = CHECKS["container_lost_gpu"], CHECKS["image_cuda_newer_than_driver"]
    results = []
    unread = (data.get("_unread") or {}).get("containers")
    if unread and data["container_toolkit"].get("containers") is None:
        results.append(lost.unknown("the running containers could not be listed (%s)" % unread, subject={},
                                    fix=FIX_CONTAINERS))
    for container in data["container_toolkit"].get("containers") or []:
        subject = {"container": container["name"]}
        if container["nvml_ok"] is None:
            results.append(lost.unknown("NVML was not asked inside container %s (%s)" % (
                container["name"], container["nvml_message"] or "nvidia-smi was not run"), subject=subject,
                fix=FIX_CONTAINER_SMI))
        elif container["nvml_ok"] is False:
            if nvidia["nvml_ok"]:
                results.append(lost.result(
                    "crit", False, None, "container %s lost its GPU (%s) while NVML works on the host (typical after "
                    "'systemctl daemon-reload')" % (container["name"], container["nvml_message"]), subject=subject))
            elif nvidia["nvml_ok"] is None:
                results.append(lost.result(
                    "warn", False, None, "NVML fails inside container %s (%s); the host was not checked (no nvidia-smi)"
                    % (container["name"], container["nvml_message"]), subject=subject,
                    fix="if the host works, recreate the container"))
        elif container["nvml_ok"]:
            results.append(lost.result("ok", True, None, "NVML answers inside container %s" % container["name"],
                                       subject=subject))
        if container["required_cuda"] and driver and not container["require_disabled"]:
            answer = cuda.compat(container["required_cuda"], driver)
            if answer["verdict"] == cuda.UNKNOWN:
                results.append(image.unknown("image %s: %s" % (container["image"], answer["message"]), subject=subject,
                                             fix=FIX_DATA))
            elif answer["verdict"] in ("minor_version_compatible", "unsupported"):
                results.append(image.result(
                    "crit", container["required_cuda"], answer["min_driver"],
                    "image %s of container %s requires cuda>=%s, which driver %s does not meet (needs >= %s)"
                    % (container["image"], container["name"], container["required_cuda"], driver, answer["min_driver"]),
                    subject=subject, fix="the container toolkit refuses to start it again; upgrade the driver or use an "
                                         "image for CUDA %s" % nvidia["cuda_driver_version"]))
            else:
                results.append(image.result("ok", container["required_cuda"], answer["min_driver"],
                                            "image %s: %s" % (container["image"], answer["message"]), subject=subject))
    return results


def compat_result(check, release, driver, what, subject, fix=None):
    """``check`` of a CUDA release against the driver: ok, warn (minor version compatibility) or crit."""
    answer = cuda.compat(release, driver)
    verdict = answer["verdict"]
    if verdict == "supported":
        return check.result("ok", release, answer["min_driver"], "%s: %s" % (what, answer["message"]), subject=subject)
    if verdict == cuda.UNKNOWN:
        return check.unknown("%s: compatibility not known (%s)" % (what, answer["message"]), subject=subject,
                             fix=FIX_DATA, value=release)
    status = "warn" if verdict == "minor_version_compatible" else "crit"
    return check.result(status, release, answer["min_driver"], "%s: %s" % (what, answer["message"]), subject=subject,
                        fix=fix)


def cuda_checks(data):
    nvidia = data["nvidia"]
    driver = driver_of(nvidia)
    if not driver:
        return []
    results = []
    for toolkit in data["cuda_toolkits"]:
        if not toolkit["version"]:
            continue
        release = toolkit["version"] if cuda.cuda_release(toolkit["version"]) else cuda.cuda_major_minor(toolkit["version"])
        where = toolkit["path"] or toolkit["package"]
        results.append(compat_result(CHECKS["toolkit_newer_than_driver"], release, driver,
                                     "CUDA toolkit %s (%s)" % (toolkit["version"], where), {"toolkit": where}))
    driver_cuda = nvidia["cuda_driver_version"]
    for env in data["python_envs"]:
        if not env["site_packages"]:
            results.append(CHECKS["wheel_cuda_newer_than_driver"].unknown(
                "python env %s %s" % (env["prefix"], "has no site-packages" if env["present"] else "does not exist"),
                subject={"env": env["prefix"]}, fix="correct python_envs (a virtualenv or conda prefix)"))
            continue
        release = env["torch_cuda"] or env.get("cuda_runtime_wheel")
        if not release:
            continue
        what = ("torch %s (built for CUDA %s) in %s" % (env["torch_version"], release, env["prefix"]) if env["torch_cuda"]
                else "CUDA runtime wheel %s in %s" % (release, env["prefix"]))
        fix = None
        if driver_cuda and driver_cuda != cuda.UNKNOWN:
            fix = ("upgrade the driver, or install a wheel for CUDA %s or older (e.g. the cu%s index)"
                   % (driver_cuda, driver_cuda.replace(".", "")))
        results.append(compat_result(CHECKS["wheel_cuda_newer_than_driver"], release, driver, what, {"env": env["prefix"]},
                                     fix=fix))
    return results


def package_checks(data):
    unheld = data.get("unheld_driver_packages")
    check = CHECKS["driver_packages_not_held"]
    if unheld is None:
        return [check.unknown("the installed packages could not be read (%s)" % (
            (data.get("_unread") or {}).get("packages") or "not reported"), fix=FIX_PACKAGES)]
    if unheld:
        return [check.result("warn", unheld, None, "driver/CUDA/ROCm packages an automatic upgrade could move: %s"
                             % ", ".join(unheld))]
    if unheld == [] and (data["nvidia"]["packages"] or data["rocm"]["packages"]):
        return [check.result("ok", [], None, "driver packages are held")]
    return []


def rocm_checks(data):
    rocm = data["rocm"]
    if not (rocm["release"] and rocm["amdgpu_dkms_release"]):
        return []
    check = CHECKS["rocm_userspace_dkms_mismatch"]
    answer = cuda.rocm_compat(rocm["amdgpu_dkms_release"], rocm["release"])
    if answer == cuda.UNKNOWN:
        return [check.unknown("ROCm user space %s with the amdgpu-dkms of ROCm %s is not in the compatibility data"
                              % (rocm["release"], rocm["amdgpu_dkms_release"]), value=rocm["release"],
                              fix="check AMD's user and kernel-space support matrix by hand, or update the collection")]
    if answer == "incompatible":
        return [check.result("warn", rocm["release"], rocm["amdgpu_dkms_release"],
                             "ROCm user space %s is not supported with the amdgpu-dkms of ROCm %s (AMD supports +/- 2 "
                             "releases)" % (rocm["release"], rocm["amdgpu_dkms_release"]))]
    return [check.result("ok", rocm["release"], rocm["amdgpu_dkms_release"], "ROCm user space %s with amdgpu-dkms of "
                         "ROCm %s: supported" % (rocm["release"], rocm["amdgpu_dkms_release"]))]


def evaluate(data, params):
    """Checks for every link that can be judged, in the order of the chain."""
    return (kernel_checks(data) + dkms_checks(data) + kernel_module_checks(data) + secure_boot_checks(data)
            + nvml_checks(data) + container_checks(data) + cuda_checks(data) + package_checks(data) + rocm_checks(data))


def reboot_links(fact):
    """``[(link, why)]``: what a reboot would realign (a pending kernel, a module older than its libraries)."""
    kernel, nvidia = fact["kernel"], fact["nvidia"]
    links = []
    running, newest = kernel["running_release"], kernel["newest_release"]
    if kernel["reboot_required"]:
        links.append(("kernel", "the host asks for a reboot (%s)"
                      % (", ".join(kernel["reboot_required_packages"]) or "reboot-required")))
    elif running and newest and running in kernel["installed_releases"] and running != newest:
        links.append(("kernel", "running kernel %s, newest installed %s" % (running, newest)))
    module, userspace = nvidia["kernel_module_version"], nvidia["userspace_version"]
    if module and userspace and module != userspace:
        links.append(("kernel_module", "kernel module %s, userspace %s" % (module, userspace)))
    return links


def verdict(fact):
    """``{verdict, verdict_reason, verdict_link}`` of the chain, from its checks and what a reboot realigns."""
    checks = fact["checks"]
    mismatch = any(c["check"] == "driver_library_mismatch" and c["status"] == "crit" for c in checks)
    broken = [c for c in checks if c["status"] == "crit" and c["check"] in BREAKS
              # NVML fails because of the module/library mismatch: the reboot fixes both
              and not (mismatch and c["check"] == "nvml_init")]
    if broken:
        first = broken[0]
        return dict(verdict="broken", verdict_reason="%s: %s" % (first["check"], first["message"]),
                    verdict_link=LINKS.get(first["check"]))
    links = reboot_links(fact)
    if links:
        return dict(verdict="reboot_pending", verdict_link=links[0][0],
                    verdict_reason="realign by reboot (%s): %s" % (links[0][0], "; ".join(why for _link, why in links)))
    unread = sorted(set(c["check"] for c in checks if c["status"] == "unknown"))
    reason = "every link that could be read agrees"
    if unread:
        reason += "; not read: %s (see their checks)" % ", ".join(unread)
    return dict(verdict="ok", verdict_reason=reason, verdict_link=None)
