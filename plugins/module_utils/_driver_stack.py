# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GPU driver stack of a host and whether its links agree: the ``gpufleet_driver_stack`` fact.

The chain, from the bottom: kernel → DKMS module (for the running and the newest kernel) →
loaded kernel module → userspace driver libraries → NVML init → container toolkit → images and
Python wheels. :func:`gather` reads every link below ``root`` (files only when ``root`` is not
``/``; commands such as ``dkms``, ``dpkg-query``, ``nvidia-smi`` and ``docker`` run only on the
live host, through ``_runner``), :func:`evaluate` turns the facts into checks and one verdict.

Parsers are pure functions of text; no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import glob
import json
import lzma
import gzip
import os
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _cuda_compat, _dkms, _dpkg, _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import make_check, worst_status

SCHEMA_VERSION = 1

# Installed packages reported per area (dpkg names; Ubuntu and NVIDIA's CUDA repository style).
NVIDIA_PACKAGES = ("nvidia-driver-*", "nvidia-dkms-*", "nvidia-kernel-*", "nvidia-utils-*", "nvidia-headless-*",
                   "nvidia-compute-utils-*", "nvidia-open*", "nvidia-firmware-*", "libnvidia-*",
                   "xserver-xorg-video-nvidia*", "cuda-drivers*", "nvidia-container-toolkit*",
                   "nvidia-container-runtime", "nvidia-docker2", "nvidia-smi", "nvidia-driver", "nvidia-kernel-dkms")
CUDA_PACKAGES = ("cuda-toolkit-*", "cuda-runtime-*", "cuda-libraries-*", "cuda-compat-*", "libcudnn*", "cudnn*",
                 "libnccl*", "tensorrt*", "libnvinfer*", "nvidia-cuda-toolkit")
ROCM_PACKAGES = ("rocm*", "amdgpu-dkms*", "hip-runtime-amd", "hipcc", "hip-dev*", "amdgpu-install")
# Packages an unattended upgrade must not move without a planned reboot (driver_packages_not_held).
DEFAULT_HOLD_PATTERNS = ("nvidia-driver-*", "nvidia-dkms-*", "nvidia-kernel-common-*", "nvidia-kernel-source-*",
                         "nvidia-utils-*", "libnvidia-compute-*", "nvidia-open*", "cuda-drivers*",
                         "cuda-toolkit-*", "nvidia-container-toolkit", "nvidia-container-toolkit-base",
                         "amdgpu-dkms", "rocm-core", "rocm")

LIB_DIRS = ("usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu", "usr/lib64", "usr/lib", "lib/x86_64-linux-gnu",
            "lib64", "usr/lib/wsl/lib")
INCLUDE_DIRS = ("usr/include", "usr/include/x86_64-linux-gnu", "usr/include/aarch64-linux-gnu", "usr/local/cuda/include")
SECURE_BOOT_VAR = "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0c6e2d0a"
_NVRM = re.compile(r"NVRM version:\s*(?P<desc>.*?Kernel Module(?: for \S+)?)\s+(?P<version>\d+\.\d+(?:\.\d+)?)\b")
_LIBNVML = re.compile(r"^libnvidia-ml\.so\.(\d+\.\d+(?:\.\d+)?)$")
_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(\S+)", re.M)
_MODULE_SIG = b"~Module signature appended~\n"
# (check, verdict it breaks the chain into); checks not listed do not change the verdict.
_BROKEN = ("dkms_missing_for_kernel", "nvidia_module_not_loaded", "nvml_init", "container_lost_gpu",
           "image_cuda_newer_than_driver", "toolkit_newer_than_driver", "wheel_cuda_newer_than_driver",
           "nouveau_loaded_with_nvidia", "secure_boot_unsigned_module")
_CHAIN = ("kernel", "dkms", "kernel_module", "userspace", "nvml", "container_toolkit", "images_and_wheels")


# --------------------------------------------------------------------------- parsers (text in)

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


def parse_ld_so_conf(text):
    """Directories named in an ld.so.conf(.d) file (``include`` lines are handled by the caller)."""
    dirs = []
    for line in (text or "").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("include ") and line.startswith("/"):
            dirs.append(line)
    return dirs


def linker_dirs(reader):
    """LIB_DIRS plus the directories of /etc/ld.so.conf and /etc/ld.so.conf.d/*.conf, relative to root.

    Container images and some vendor installs keep the userspace driver outside the standard
    directories (for example /usr/local/nvidia/lib64, seen on a real H200 machine).
    """
    dirs = list(LIB_DIRS)
    texts = [reader.read("etc/ld.so.conf") or ""]
    for name in sorted(reader.listdir("etc/ld.so.conf.d")):
        if name.endswith(".conf"):
            texts.append(reader.read("etc/ld.so.conf.d/" + name) or "")
    for text in texts:
        for directory in parse_ld_so_conf(text):
            relative = directory.strip("/")
            if relative not in dirs:
                dirs.append(relative)
    return dirs


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
        return value if _cuda_compat.version_key(value) else None
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


# --------------------------------------------------------------------------- gathering

class _Reader:
    """File access below ``root``; collects warnings instead of raising."""

    def __init__(self, root, warnings):
        self.root = root
        self.warnings = warnings

    def path(self, relative):
        return os.path.join(self.root, relative.lstrip("/"))

    def exists(self, relative):
        return os.path.lexists(self.path(relative))

    def isdir(self, relative):
        return os.path.isdir(self.path(relative))

    def read(self, relative, binary=False):
        """File text (or bytes), None when absent; a permission or I/O error is a warning."""
        path = self.path(relative)
        try:
            with open(path, "rb" if binary else "r") as handle:
                return handle.read()
        except (IOError, OSError) as exc:
            if getattr(exc, "errno", None) not in (2, 20):  # ENOENT, ENOTDIR: simply absent
                self.warnings.append("could not read /%s: %s" % (relative.lstrip("/"), exc.strerror or exc))
            return None
        except UnicodeDecodeError:
            self.warnings.append("/%s is not text; ignored" % relative.lstrip("/"))
            return None

    def glob(self, pattern):
        """Paths matching ``pattern`` below root, returned root-relative with a leading slash."""
        base = len(self.root.rstrip("/"))
        return sorted("/" + p[base:].lstrip("/") for p in glob.glob(self.path(pattern)))

    def listdir(self, relative):
        try:
            return sorted(os.listdir(self.path(relative)))
        except OSError:
            return []


class Context:
    """What :func:`gather` needs: root, live (commands allowed), run_command, tool paths, timeout."""

    def __init__(self, root="/", run_command=None, python_envs=(), probe_containers=False, timeout=30,
                 hold_patterns=DEFAULT_HOLD_PATTERNS, tools=None):
        self.root = root
        self.live = os.path.realpath(root) == "/"
        self.run_command = run_command
        self.python_envs = list(python_envs or ())
        self.probe_containers = probe_containers
        self.timeout = timeout
        self.hold_patterns = tuple(hold_patterns)
        self.tools = dict(tools or {})

    def tool(self, name):
        return _runner.find_tool(name, self.tools.get(name))


def _packages(ctx, reader, warnings):
    """(packages, source) from dpkg-query (live) or the dpkg status file (root); (None, None) if neither."""
    if ctx.live and ctx.run_command is not None:
        try:
            packages, parse_warnings = _dpkg.list_packages(ctx.run_command, ctx.tool("dpkg-query"), timeout=ctx.timeout)
            warnings.extend(parse_warnings)
            return packages, "dpkg-query"
        except _dpkg.DpkgError as exc:
            warnings.append("package facts not reported: %s (rpm hosts are not read yet)" % exc)
            return None, None
    text = reader.read("var/lib/dpkg/status")
    if text is None:
        warnings.append("package facts not reported: no /var/lib/dpkg/status below %s (not a dpkg system?)" % ctx.root)
        return None, None
    packages, parse_warnings = _dpkg.parse_status_file(text)
    warnings.extend(parse_warnings)
    return packages, "/var/lib/dpkg/status"


def _kernel(ctx, reader, packages):
    running = (reader.read("proc/sys/kernel/osrelease") or "").strip() or None
    releases = set()
    for name in reader.listdir("lib/modules"):
        if (reader.isdir("lib/modules/%s/kernel" % name) or reader.exists("lib/modules/%s/modules.dep" % name)
                or reader.exists("boot/vmlinuz-%s" % name)):
            releases.add(name)
    for package in _dpkg.select(packages or [], ["linux-image-[0-9]*", "linux-image-unsigned-[0-9]*"]):
        releases.add(re.sub(r"^linux-image-(unsigned-)?", "", package["name"]))
    installed = sorted(releases, key=kernel_sort_key)
    flag = None
    pkgs = []
    for candidate in ("var/run/reboot-required", "run/reboot-required"):
        if reader.exists(candidate):
            flag = True
            pkgs = parse_reboot_required_pkgs(reader.read(candidate + ".pkgs"))
            break
    if flag is None:
        flag = False
    if reader.exists(SECURE_BOOT_VAR):
        secure_boot = parse_secure_boot(reader.read(SECURE_BOOT_VAR, binary=True))
    elif reader.isdir("sys/firmware") and not reader.isdir("sys/firmware/efi"):
        secure_boot = "disabled"  # booted by BIOS: there is no Secure Boot
    else:
        secure_boot = "unknown"
    return {
        "running_release": running,
        "installed_releases": installed,
        "newest_release": installed[-1] if installed else None,
        "reboot_required": flag,
        "reboot_required_packages": pkgs,
        "secure_boot": secure_boot,
    }


DKMS_DRIVER_PACKAGES = ("nvidia-dkms-*", "nvidia-kernel-dkms", "nvidia-open-dkms*", "amdgpu-dkms")


def _dkms_entries(ctx, reader, warnings, expect_dkms=True):
    """(entries, source) from ``dkms status`` (live) or the /var/lib/dkms tree."""
    if ctx.live and ctx.run_command is not None:
        tool = ctx.tool("dkms")
        if tool:
            try:
                parsed = _dkms.status(ctx.run_command, tool, timeout=ctx.timeout)
            except _dkms.DkmsError as exc:
                warnings.append("dkms facts not reported: %s" % exc)
                return None, None
            warnings.extend(parsed["warnings"])
            for error in parsed["errors"]:
                warnings.append("dkms status reported: %s" % error)
            return parsed["entries"], "dkms status"
    if not reader.isdir("var/lib/dkms"):
        if ctx.live and expect_dkms:
            warnings.append("dkms facts not reported: dkms not found and no /var/lib/dkms, "
                            "though a DKMS driver package is installed")
        return None, None
    entries, tree_warnings = _dkms.scan_tree(reader.path("var/lib/dkms"))
    warnings.extend(tree_warnings)
    return entries, "/var/lib/dkms"


def _upstream_of(packages, patterns):
    for package in _dpkg.select(packages or [], patterns):
        if package["upstream_version"]:
            return package["upstream_version"], package["name"]
    return None, None


def _nvidia(ctx, reader, packages, dkms_entries, warnings):
    module_version = flavor = None
    source = None
    text = reader.read("proc/driver/nvidia/version")
    if text is not None:
        parsed = parse_nvrm_version(text)
        if parsed:
            module_version, flavor, source = parsed["version"], parsed["flavor"], "/proc/driver/nvidia/version"
        else:
            warnings.append("/proc/driver/nvidia/version not understood, ignored: %r" % text[:200])
    if module_version is None:
        text = (reader.read("sys/module/nvidia/version") or "").strip()
        if text:
            if _cuda_compat.version_key(text):
                module_version, source = text, "/sys/module/nvidia/version"
            else:
                warnings.append("/sys/module/nvidia/version not understood, ignored: %r" % text[:80])
    modules_text = reader.read("proc/modules")
    loaded = parse_module_list(modules_text) if modules_text is not None else None
    if loaded is not None:
        nouveau = "nouveau" in loaded
        nvidia_loaded = "nvidia" in loaded or module_version is not None
    elif reader.isdir("sys/module"):
        nouveau = reader.isdir("sys/module/nouveau")
        nvidia_loaded = reader.isdir("sys/module/nvidia") or module_version is not None
    else:
        nouveau = None
        nvidia_loaded = True if module_version else None

    libs = set()
    for directory in linker_dirs(reader):
        for name in reader.listdir(directory):
            match = _LIBNVML.match(name)
            if match:
                libs.add(match.group(1))
    userspace = userspace_source = None
    if libs:
        ordered = sorted(libs, key=_cuda_compat.version_key)
        userspace, userspace_source = ordered[-1], "libnvidia-ml.so.%s" % ordered[-1]
        if len(ordered) > 1:
            warnings.append("several NVIDIA userspace libraries are installed (%s); the newest is reported"
                            % ", ".join("libnvidia-ml.so.%s" % v for v in ordered))
    else:
        userspace, name = _upstream_of(packages, ["libnvidia-compute-*", "nvidia-utils-*", "libnvidia-ml1", "nvidia-driver-*"])
        userspace_source = "package %s" % name if name else None
    nvidia_packages = _dpkg.select(packages, NVIDIA_PACKAGES) if packages is not None else None
    installed = bool(userspace or module_version or nvidia_packages
                     or any(e["module"] in ("nvidia", "nvidia-open") for e in dkms_entries or []))
    driver = module_version or userspace
    return {
        "installed": installed,
        "kernel_module_version": module_version,
        "kernel_module_flavor": flavor,
        "kernel_module_source": source,
        "kernel_module_loaded": nvidia_loaded,
        "userspace_version": userspace,
        "userspace_source": userspace_source,
        "nouveau_loaded": nouveau,
        "packages": nvidia_packages,
        "dkms": [e for e in dkms_entries or [] if e["module"] in ("nvidia", "nvidia-open", "nvidia-srv")]
        if dkms_entries is not None else None,
        "cuda_driver_version": _cuda_compat.driver_max_cuda(driver) if driver else None,
        "nvml_ok": None,
        "nvml_message": None,
    }


def _headers(reader, extra_dirs, filename):
    for directory in list(INCLUDE_DIRS) + list(extra_dirs):
        text = reader.read("%s/%s" % (directory.strip("/"), filename))
        if text is not None:
            return text
    return None


def _cuda(ctx, reader, packages):
    toolkits = []
    seen = set()
    for path in reader.glob("usr/local/cuda-*"):
        if not os.path.isdir(reader.path(path)):
            continue
        real = os.path.realpath(reader.path(path))
        if real in seen:
            continue
        seen.add(real)
        version = parse_cuda_version_file(reader.read(path + "/version.json") or "", json_file=True) \
            or parse_cuda_version_file(reader.read(path + "/version.txt") or "")
        source = "version file"
        if version is None:
            version = parse_cuda_h(reader.read(path + "/include/cuda.h") or "")
            source = "include/cuda.h"
        if version is None:
            match = re.search(r"cuda-(\d+\.\d+)$", path)
            version, source = (match.group(1), "directory name") if match else (None, None)
        toolkits.append({"version": version, "path": path, "package": None, "source": source})
    for package in _dpkg.select(packages or [], ["cuda-toolkit-[0-9]*"]):
        if not re.match(r"^cuda-toolkit-\d+-\d+$", package["name"]):
            continue  # cuda-toolkit-12-config-common and friends are not toolkits
        version = package["upstream_version"]
        same = [t for t in toolkits if t["version"] and _cuda_compat.cuda_major_minor(t["version"]) == _cuda_compat.cuda_major_minor(version)]
        if same:
            same[0]["package"] = package["name"]
        else:
            toolkits.append({"version": version, "path": None, "package": package["name"], "source": "package"})
    default = None
    if reader.exists("usr/local/cuda"):
        target = os.path.realpath(reader.path("usr/local/cuda"))
        for toolkit in toolkits:
            if toolkit["path"] and os.path.realpath(reader.path(toolkit["path"])) == target:
                default = toolkit["path"]
    toolkit_includes = [t["path"] + "/include" for t in toolkits if t["path"]]
    cudnn = _upstream_of(packages, ["libcudnn*", "cudnn*-cuda-*"])[0]
    if cudnn is None:
        cudnn = header_version(_headers(reader, toolkit_includes, "cudnn_version.h") or "",
                               ("CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"))
    nccl = _upstream_of(packages, ["libnccl2", "libnccl*"])[0]
    if nccl is None:
        nccl = header_version(_headers(reader, toolkit_includes, "nccl.h") or "", ("NCCL_MAJOR", "NCCL_MINOR", "NCCL_PATCH"))
    tensorrt = _upstream_of(packages, ["tensorrt", "tensorrt-libs", "libnvinfer[0-9]*", "libnvinfer-bin"])[0]
    if tensorrt is None:
        tensorrt = header_version(_headers(reader, toolkit_includes, "NvInferVersion.h") or "",
                                  ("NV_TENSORRT_MAJOR", "NV_TENSORRT_MINOR", "NV_TENSORRT_PATCH", "NV_TENSORRT_BUILD"))
    return {
        "cuda_toolkits": sorted(toolkits, key=lambda t: _cuda_compat.version_key(t["version"]) or ()),
        "cuda_default_path": default,
        "cuda_packages": _dpkg.select(packages, CUDA_PACKAGES) if packages is not None else None,
        "cudnn_version": cudnn,
        "nccl_version": nccl,
        "tensorrt_version": tensorrt,
    }


_WHEEL_NAMES = ("torch", "torchvision", "torchaudio", "triton", "jax", "jaxlib", "tensorflow", "onnxruntime-gpu",
                "tensorrt", "cupy-*", "nvidia-*", "*-cu1[0-9]", "*-cu1[0-9]x")


def _python_env(reader, prefix, warnings):
    env = {"prefix": prefix, "present": reader.isdir(prefix), "site_packages": None, "torch_version": None,
           "torch_cuda": None, "torch_hip": None, "wheels": []}
    if not env["present"]:
        warnings.append("python env %s does not exist; nothing read" % prefix)
        return env
    sites = []
    for pattern in ("lib/python3*/site-packages", "lib/python3*/dist-packages", "Lib/site-packages"):
        sites.extend(reader.glob("%s/%s" % (prefix.strip("/"), pattern)))
    if not sites:
        warnings.append("python env %s has no site-packages; nothing read" % prefix)
        return env
    env["site_packages"] = sites[0]
    wheels = {}
    for site in sites:
        version_py = reader.read(site + "/torch/version.py")
        if version_py is not None and env["torch_version"] is None:
            env.update(parse_torch_version_py(version_py))
        for info in reader.glob(site.strip("/") + "/*.dist-info"):
            name, version = parse_metadata(reader.read(info + "/METADATA") or "")
            if not name:
                continue
            normal = re.sub(r"[-_.]+", "-", name).lower()
            if any(fnmatch.fnmatchcase(normal, pattern) for pattern in _WHEEL_NAMES):
                wheels.setdefault(normal, {"name": normal, "version": version})
    env["wheels"] = sorted(wheels.values(), key=lambda w: w["name"])
    runtime = [w for w in env["wheels"] if re.match(r"nvidia-cuda-runtime-cu\d+$", w["name"])]
    env["cuda_runtime_wheel"] = _cuda_compat.cuda_major_minor(runtime[0]["version"]) if runtime else None
    return env


def _rocm(ctx, reader, packages, dkms_entries):
    info = (reader.read("opt/rocm/.info/version") or "").strip() or None
    version, source = (info, "/opt/rocm/.info/version") if info else (None, None)
    if version is None:
        found = reader.glob("opt/rocm-*/.info/version")
        if found:
            version, source = (reader.read(found[-1]) or "").strip() or None, found[-1]
    if version is None:
        pkg, name = _upstream_of(packages, ["rocm-core"])
        version, source = (pkg, "package %s" % name) if pkg else (None, None)
    dkms_pkg = _dpkg.by_name(_dpkg.select(packages or [], ["amdgpu-dkms"])).get("amdgpu-dkms")
    amdgpu_dkms = [e for e in dkms_entries or [] if e["module"] == "amdgpu"]
    hip = parse_hip_version(reader.read("opt/rocm/bin/.hipVersion") or "")
    if hip is None:
        hip = _upstream_of(packages, ["hip-runtime-amd"])[0]
    targets = []
    for props in reader.glob("sys/class/kfd/kfd/topology/nodes/*/properties"):
        target = parse_kfd_properties(reader.read(props) or "")
        if target:
            targets.append(target)
    return {
        "installed": bool(version or dkms_pkg or amdgpu_dkms),
        "version": version,
        "version_source": source,
        "release": _cuda_compat.rocm_release_of(version),
        "amdgpu_dkms_version": dkms_pkg["version"] if dkms_pkg else (amdgpu_dkms[0]["version"] if amdgpu_dkms else None),
        "amdgpu_dkms_release": _cuda_compat.rocm_release_of(dkms_pkg["version"]) if dkms_pkg else None,
        "amdgpu_kernel_module_version": (reader.read("sys/module/amdgpu/version") or "").strip() or None,
        "hip_version": hip,
        "gfx_targets": sorted(set(targets)),
        "packages": _dpkg.select(packages, ROCM_PACKAGES) if packages is not None else None,
    }


def _container_toolkit(ctx, reader, packages, warnings):
    version = _upstream_of(packages, ["nvidia-container-toolkit", "nvidia-container-toolkit-base"])[0]
    docker_runtime = None
    daemon = reader.read("etc/docker/daemon.json")
    if daemon is not None:
        try:
            config = json.loads(daemon) if daemon.strip() else {}
            docker_runtime = "nvidia" in (config.get("runtimes") or {})
        except (ValueError, AttributeError) as exc:
            warnings.append("/etc/docker/daemon.json is not valid JSON: %s" % exc)
    containerd_runtime = None
    texts = [reader.read("etc/containerd/config.toml")] + [reader.read(p) for p in reader.glob("etc/containerd/conf.d/*.toml")]
    texts = [t for t in texts if t is not None]
    if texts:
        containerd_runtime = any(re.search(r"runtimes\.[\"']?nvidia[\"']?\]", t) for t in texts)
    return {
        "version": version,
        "docker_nvidia_runtime": docker_runtime,
        "containerd_nvidia_runtime": containerd_runtime,
        "cdi_spec": any(reader.exists(p) for p in ("etc/cdi/nvidia.yaml", "etc/cdi/nvidia.json",
                                                   "var/run/cdi/nvidia.yaml", "run/cdi/nvidia.yaml")),
        "containers": None,
    }


def _probe_nvml(ctx, argv):
    """Run ``nvidia-smi -L`` (``argv``, on the host or through ``docker exec``) → ``(ok, message)``."""
    try:
        result = _runner.run(ctx.run_command, argv, timeout=ctx.timeout)
    except _runner.ToolError as exc:
        return False, str(exc)
    return nvml_probe_result(result.rc, result.stdout, result.stderr)


def _probe_containers(ctx, warnings):
    docker = ctx.tool("docker")
    if not docker:
        warnings.append("probe_containers: docker not found; containers not probed")
        return None
    try:
        listing = _runner.run(ctx.run_command, [docker, "ps", "-q", "--no-trunc"], timeout=ctx.timeout)
        if listing.rc != 0:
            warnings.append("probe_containers: docker ps: %s" % (listing.stderr or "").strip()[:300])
            return None
        ids = listing.stdout.split()
        if not ids:
            return []
        inspect = _runner.run(ctx.run_command, [docker, "inspect"] + ids, timeout=ctx.timeout)
    except _runner.ToolError as exc:
        warnings.append("probe_containers: %s" % exc)
        return None
    try:
        data = json.loads(inspect.stdout or "[]")
    except ValueError:
        warnings.append("probe_containers: docker inspect did not print JSON: %r" % (inspect.stdout or "")[:200])
        return None
    containers = containers_from_inspect(data)
    for container in containers:
        container["nvml_ok"], container["nvml_message"] = _probe_nvml(ctx, [docker, "exec", container["id"], "nvidia-smi", "-L"])
    return containers


def gather(ctx):
    """Read every link of the chain; return ``(fact, warnings)``. ``ctx.root`` must exist."""
    warnings = []
    reader = _Reader(ctx.root, warnings)
    packages, package_source = _packages(ctx, reader, warnings)
    expect_dkms = packages is None or bool(_dpkg.select(packages, DKMS_DRIVER_PACKAGES))
    dkms_entries, dkms_source = _dkms_entries(ctx, reader, warnings, expect_dkms)
    fact = {
        "schema_version": SCHEMA_VERSION,
        "root": ctx.root,
        "live": ctx.live,
        "sources": {"packages": package_source, "dkms": dkms_source,
                    "commands": "run" if ctx.live else "not run: root is not /, only files below it are read"},
        "kernel": _kernel(ctx, reader, packages),
        "dkms": dkms_entries,
    }
    fact["nvidia"] = _nvidia(ctx, reader, packages, dkms_entries, warnings)
    fact.update(_cuda(ctx, reader, packages))
    fact["python_envs"] = [_python_env(reader, prefix, warnings) for prefix in ctx.python_envs]
    fact["rocm"] = _rocm(ctx, reader, packages, dkms_entries)
    fact["container_toolkit"] = _container_toolkit(ctx, reader, packages, warnings)
    if ctx.live and ctx.run_command is not None:
        smi = ctx.tool("nvidia-smi")
        if smi:
            fact["nvidia"]["nvml_ok"], fact["nvidia"]["nvml_message"] = _probe_nvml(ctx, [smi, "-L"])
        if ctx.probe_containers:
            fact["container_toolkit"]["containers"] = _probe_containers(ctx, warnings)
    fact["held_packages"] = [p["name"] for p in packages or [] if p["installed"] and p["held"]] if packages is not None else None
    fact["unheld_driver_packages"] = sorted(set(
        p["name"] for p in _dpkg.select(packages or [], ctx.hold_patterns)
        if not p["held"] and not p["name"].endswith("config-common"))) if packages is not None else None
    checks, verdict, reason, link = evaluate(fact)
    fact.update(checks=checks, status=worst_status(checks), verdict=verdict, verdict_reason=reason, verdict_link=link)
    return fact, warnings


# --------------------------------------------------------------------------- decisions

def _nvidia_module_file(root, kernel):
    """Path of the nvidia kernel module built for ``kernel`` below ``root`` (or None)."""
    for pattern in ("lib/modules/%s/updates/dkms/nvidia.ko*", "lib/modules/%s/kernel/drivers/video/nvidia.ko*",
                    "lib/modules/%s/extra/nvidia.ko*", "lib/modules/%s/**/nvidia.ko*"):
        found = sorted(glob.glob(os.path.join(root, pattern % kernel), recursive=True))
        if found:
            return found[0]
    return None


def module_file_signed(path):
    """True/False when the module's signature trailer can be read, None for formats we cannot open."""
    try:
        if path.endswith(".ko"):
            opener = open
        elif path.endswith(".xz"):
            opener = lzma.open
        elif path.endswith(".gz"):
            opener = gzip.open
        else:
            return None  # .zst: no decompressor in the standard library
        with opener(path, "rb") as handle:
            return module_signed(handle.read())
    except (IOError, OSError, lzma.LZMAError, EOFError):
        return None


def _compat_check(name, cuda, driver, what, fix_newer, **subject):
    result = _cuda_compat.compat(cuda, driver)
    verdict = result["verdict"]
    if verdict == "supported":
        return make_check(name, "ok", cuda, result["min_driver"], "%s: %s" % (what, result["message"]), **subject)
    if verdict == "unknown":
        return make_check(name, "ok", cuda, None, "%s: compatibility not known (%s)" % (what, result["message"]), **subject)
    status = "warn" if verdict == "minor_version_compatible" else "crit"
    return make_check(name, status, cuda, result["min_driver"], "%s: %s: %s" % (what, result["message"], fix_newer), **subject)


def evaluate(fact):
    """Checks for every link that can be judged, then ``(checks, verdict, reason, link)``."""
    checks = []
    kernel = fact["kernel"]
    nvidia = fact["nvidia"]
    rocm = fact["rocm"]
    dkms_entries = fact["dkms"]
    root = fact["root"]
    driver = nvidia["kernel_module_version"] or nvidia["userspace_version"]
    reboot_links = []

    # kernel: a pending reboot (new kernel or driver packages) realigns the chain
    running = kernel["running_release"]
    newest = kernel["newest_release"]
    if kernel["reboot_required"]:
        checks.append(make_check("reboot_required", "warn", True, None,
                                 "a reboot is pending (%s): reboot in a maintenance window"
                                 % (", ".join(kernel["reboot_required_packages"]) or "no package list")))
        reboot_links.append(("kernel", "the host asks for a reboot (%s)" % (", ".join(kernel["reboot_required_packages"]) or "reboot-required")))
    elif running and newest and running in kernel["installed_releases"] and running != newest:
        reboot_links.append(("kernel", "running kernel %s, newest installed %s" % (running, newest)))

    # dkms: every installed kernel the box will boot (the running one and the newest) needs the module
    if dkms_entries is not None:
        for module, wanted in (("nvidia", nvidia["userspace_version"]), ("amdgpu", None)):
            if not any(e["module"] == module for e in dkms_entries):
                continue
            for release in sorted(set(k for k in (running, newest) if k and k in kernel["installed_releases"]),
                                  key=kernel_sort_key):
                built = _dkms.modules_for_kernel(dkms_entries, module, release)
                matching = [e for e in built if not wanted or e["version"] == wanted]
                when = "the running kernel" if release == running else "the newest kernel"
                if matching:
                    checks.append(make_check("dkms_missing_for_kernel", "ok", matching[0]["version"], None,
                                             "%s %s is built for %s %s" % (module, matching[0]["version"], when, release),
                                             module=module, kernel=release))
                elif built:
                    checks.append(make_check(
                        "dkms_missing_for_kernel", "crit", built[0]["version"], wanted,
                        "%s for %s %s is built at %s but the userspace driver is %s: after a reboot the module and "
                        "libraries disagree; run 'dkms autoinstall -k %s' (or reinstall the nvidia-dkms package)"
                        % (module, when, release, built[0]["version"], wanted, release), module=module, kernel=release))
                else:
                    checks.append(make_check(
                        "dkms_missing_for_kernel", "crit", None, None,
                        "no %s DKMS module is built for %s %s, so booting it comes up without the GPU: run "
                        "'dkms autoinstall -k %s' (install linux-headers-%s first), or remove that kernel"
                        % (module, when, release, release, release), module=module, kernel=release))

    # kernel module loaded
    if nvidia["installed"] and nvidia["kernel_module_loaded"] is False and fact["live"]:
        checks.append(make_check("nvidia_module_not_loaded", "crit", False, None,
                                 "the NVIDIA driver is installed but its kernel module is not loaded: "
                                 "run 'modprobe nvidia' and read dmesg (DKMS build, Secure Boot key, nouveau)"))

    # loaded module vs userspace libraries
    if nvidia["kernel_module_version"] and nvidia["userspace_version"]:
        if nvidia["kernel_module_version"] != nvidia["userspace_version"]:
            checks.append(make_check(
                "driver_library_mismatch", "crit", nvidia["userspace_version"], nvidia["kernel_module_version"],
                "the loaded kernel module is %s but the userspace driver is %s (an update landed without a reboot; "
                "NVML fails with 'Driver/library version mismatch'): reboot, or unload and reload the nvidia modules"
                % (nvidia["kernel_module_version"], nvidia["userspace_version"])))
            reboot_links.append(("kernel_module", "kernel module %s, userspace %s"
                                 % (nvidia["kernel_module_version"], nvidia["userspace_version"])))
        else:
            checks.append(make_check("driver_library_mismatch", "ok", nvidia["userspace_version"],
                                     nvidia["kernel_module_version"],
                                     "kernel module and userspace driver are both %s" % nvidia["userspace_version"]))

    # nouveau next to nvidia
    if nvidia["nouveau_loaded"] and nvidia["installed"]:
        checks.append(make_check("nouveau_loaded_with_nvidia", "crit", True, None,
                                 "nouveau is loaded while the NVIDIA driver is installed, so nvidia cannot bind the GPU: "
                                 "blacklist nouveau (modprobe.d, 'options nouveau modeset=0'), update-initramfs -u, reboot"))
    elif nvidia["nouveau_loaded"] is False and nvidia["installed"]:
        checks.append(make_check("nouveau_loaded_with_nvidia", "ok", False, None, "nouveau is not loaded"))

    # secure boot: an unsigned module is refused ("Key was rejected by service")
    if kernel["secure_boot"] == "enabled" and nvidia["installed"]:
        for release in sorted(set(k for k in (running, newest) if k), key=kernel_sort_key):
            path = _nvidia_module_file(root, release)
            signed = module_file_signed(path) if path else None
            if signed is False:
                status = "crit" if release == running else "warn"
                checks.append(make_check(
                    "secure_boot_unsigned_module", status, False, None,
                    "Secure Boot is on and the nvidia module for %s (%s) is not signed, so the kernel refuses it: "
                    "enrol a MOK ('mokutil --import' the DKMS key, /var/lib/dkms/mok.pub) and rebuild, or sign the module"
                    % (release, "/" + os.path.relpath(path, root)), kernel=release))
            elif signed:
                checks.append(make_check("secure_boot_unsigned_module", "ok", True, None,
                                         "the nvidia module for %s is signed" % release, kernel=release))

    # NVML on the host
    if nvidia["nvml_ok"] is False:
        checks.append(make_check("nvml_init", "crit", False, None,
                                 "NVML does not initialise on the host (%s): see driver_library_mismatch and dkms checks; "
                                 "a reboot realigns a half-applied driver update" % nvidia["nvml_message"]))
    elif nvidia["nvml_ok"]:
        checks.append(make_check("nvml_init", "ok", True, None, "NVML answers on the host"))

    # containers and images
    for container in fact["container_toolkit"].get("containers") or []:
        subject = {"container": container["name"]}
        if container["nvml_ok"] is False:
            if nvidia["nvml_ok"]:
                checks.append(make_check(
                    "container_lost_gpu", "crit", False, None,
                    "container %s lost its GPU (%s) while NVML works on the host (typical after "
                    "'systemctl daemon-reload'): recreate the container (docker compose up --force-recreate)"
                    % (container["name"], container["nvml_message"]), **subject))
            elif nvidia["nvml_ok"] is None:
                checks.append(make_check(
                    "container_lost_gpu", "warn", False, None,
                    "NVML fails inside container %s (%s); the host was not checked (no nvidia-smi): "
                    "if the host works, recreate the container" % (container["name"], container["nvml_message"]), **subject))
        elif container["nvml_ok"]:
            checks.append(make_check("container_lost_gpu", "ok", True, None,
                                     "NVML answers inside container %s" % container["name"], **subject))
        if container["required_cuda"] and driver and not container["require_disabled"]:
            result = _cuda_compat.compat(container["required_cuda"], driver)
            if result["verdict"] in ("minor_version_compatible", "unsupported"):
                checks.append(make_check(
                    "image_cuda_newer_than_driver", "crit", container["required_cuda"], result["min_driver"],
                    "image %s of container %s requires cuda>=%s, which driver %s does not meet (needs >= %s): the "
                    "container toolkit refuses to start it again; upgrade the driver or use an image for CUDA %s"
                    % (container["image"], container["name"], container["required_cuda"], driver, result["min_driver"],
                       nvidia["cuda_driver_version"]), **subject))
            else:
                checks.append(make_check("image_cuda_newer_than_driver", "ok", container["required_cuda"],
                                         result["min_driver"], "image %s: %s" % (container["image"], result["message"]),
                                         **subject))

    # toolkits and wheels
    if driver:
        for toolkit in fact["cuda_toolkits"]:
            if not toolkit["version"]:
                continue
            release = toolkit["version"] if _cuda_compat.cuda_release(toolkit["version"]) else \
                _cuda_compat.cuda_major_minor(toolkit["version"])
            checks.append(_compat_check(
                "toolkit_newer_than_driver", release, driver, "CUDA toolkit %s (%s)" % (toolkit["version"], toolkit["path"] or toolkit["package"]),
                "upgrade the driver or build with an older toolkit", toolkit=toolkit["path"] or toolkit["package"]))
        for env in fact["python_envs"]:
            cuda = env["torch_cuda"] or env.get("cuda_runtime_wheel")
            if not cuda:
                continue
            what = ("torch %s (built for CUDA %s) in %s" % (env["torch_version"], cuda, env["prefix"]) if env["torch_cuda"]
                    else "CUDA runtime wheel %s in %s" % (cuda, env["prefix"]))
            driver_cuda = nvidia["cuda_driver_version"]
            if driver_cuda and driver_cuda != _cuda_compat.UNKNOWN:
                fix = ("upgrade the driver, or install a wheel for CUDA %s or older (e.g. the cu%s index)"
                       % (driver_cuda, driver_cuda.replace(".", "")))
            else:
                fix = "upgrade the driver, or install a wheel built for an older CUDA"
            checks.append(_compat_check("wheel_cuda_newer_than_driver", cuda, driver, what, fix, env=env["prefix"]))

    # held packages
    unheld = fact.get("unheld_driver_packages")
    if unheld:
        checks.append(make_check("driver_packages_not_held", "warn", unheld, None,
                                 "driver/CUDA/ROCm packages an automatic upgrade could move: %s: hold them "
                                 "(gpufleet.maintenance.package_pin, or 'apt-mark hold') and upgrade in a planned window"
                                 % ", ".join(unheld)))
    elif unheld == [] and (nvidia["packages"] or rocm["packages"]):
        checks.append(make_check("driver_packages_not_held", "ok", [], None, "driver packages are held"))

    # ROCm user space vs amdgpu-dkms
    if rocm["release"] and rocm["amdgpu_dkms_release"]:
        answer = _cuda_compat.rocm_compat(rocm["amdgpu_dkms_release"], rocm["release"])
        if answer == "incompatible":
            checks.append(make_check(
                "rocm_userspace_dkms_mismatch", "warn", rocm["release"], rocm["amdgpu_dkms_release"],
                "ROCm user space %s is not supported with the amdgpu-dkms of ROCm %s (AMD supports +/- 2 releases): "
                "install the amdgpu-dkms of the same ROCm release (amdgpu-install) and reboot"
                % (rocm["release"], rocm["amdgpu_dkms_release"])))
        else:
            checks.append(make_check(
                "rocm_userspace_dkms_mismatch", "ok", rocm["release"], rocm["amdgpu_dkms_release"],
                "ROCm user space %s with amdgpu-dkms of ROCm %s: %s" % (
                    rocm["release"], rocm["amdgpu_dkms_release"],
                    "supported" if answer == "compatible" else "not in the compatibility data")))

    return (checks,) + _verdict(checks, reboot_links)


def _verdict(checks, reboot_links):
    mismatch = any(c["check"] == "driver_library_mismatch" and c["status"] == "crit" for c in checks)
    broken = [c for c in checks if c["status"] == "crit" and c["check"] in _BROKEN
              # NVML fails because of the module/library mismatch: the reboot fixes both
              and not (mismatch and c["check"] == "nvml_init")]
    if broken:
        first = broken[0]
        link = _link_of(first["check"])
        return "broken", "%s: %s" % (first["check"], first["message"]), link
    if reboot_links:
        link, why = reboot_links[0]
        return "reboot_pending", "realign by reboot (%s): %s" % (link, "; ".join(w for _l, w in reboot_links)), link
    return "ok", "every link that could be read agrees", None


def _link_of(check):
    return {
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
    }.get(check)


# --------------------------------------------------------------------------- summary

def summary_section(fact):
    """Lines for the health summary (``_summary.SECTIONS``)."""
    nvidia = fact.get("nvidia") or {}
    rocm = fact.get("rocm") or {}
    parts = []
    if nvidia.get("installed"):
        driver = nvidia.get("kernel_module_version") or nvidia.get("userspace_version") or "n/a"
        parts.append("nvidia %s (CUDA %s)" % (driver, nvidia.get("cuda_driver_version") or "n/a"))
    toolkits = [t.get("version") for t in fact.get("cuda_toolkits") or [] if t.get("version")]
    if toolkits:
        parts.append("toolkits %s" % ", ".join(toolkits))
    if rocm.get("installed"):
        parts.append("rocm %s" % (rocm.get("version") or "n/a"))
    lines = ["driver stack: %s%s" % ((fact.get("verdict") or "n/a").upper(), (": " + "; ".join(parts)) if parts else ": no GPU driver found")]
    if fact.get("verdict") not in (None, "ok"):
        lines.append("driver stack %s" % fact.get("verdict_reason"))
    return lines
