# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GPU links of the driver stack, read below ``root``: the NVIDIA driver (kernel module and
userspace libraries), CUDA toolkits and libraries, Python wheels, ROCm and the container toolkit.

File reads only (through :class:`~.collect.Reader`) and the dpkg package list; ``collect.py`` runs
the commands. Parsing is in ``parse.py``; no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import os
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import cuda, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import dpkg, gpu_packages, ldconfig

LIB_DIRS = ("usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu", "usr/lib64", "usr/lib", "lib/x86_64-linux-gnu",
            "lib64", "usr/lib/wsl/lib")
INCLUDE_DIRS = ("usr/include", "usr/include/x86_64-linux-gnu", "usr/include/aarch64-linux-gnu", "usr/local/cuda/include")


def linker_dirs(reader):
    """LIB_DIRS plus the directories /etc/ld.so.conf names (its includes walked as ldconfig does), relative to root.

    Container images and some vendor installs keep the userspace driver outside the standard
    directories (for example /usr/local/nvidia/lib64, seen on a real H200 machine).
    """
    dirs = list(LIB_DIRS)
    for directory in ldconfig.conf_dirs(lambda path: reader.read(path) or "", reader.glob):
        relative = directory.strip("/")
        if relative and relative not in dirs:
            dirs.append(relative)
    return dirs


def _upstream_of(packages, patterns):
    for package in dpkg.select(packages or [], patterns):
        if package["upstream_version"]:
            return package["upstream_version"], package["name"]
    return None, None


def nvidia(ctx, reader, packages, dkms_entries, warnings):
    module_version = flavor = None
    source = None
    text = reader.read("proc/driver/nvidia/version")
    if text is not None:
        parsed = parse.parse_nvrm_version(text)
        if parsed:
            module_version, flavor, source = parsed["version"], parsed["flavor"], "/proc/driver/nvidia/version"
        else:
            warnings.append("/proc/driver/nvidia/version not understood, ignored: %r" % text[:200])
    if module_version is None:
        text = (reader.read("sys/module/nvidia/version") or "").strip()
        if text:
            if cuda.version_key(text):
                module_version, source = text, "/sys/module/nvidia/version"
            else:
                warnings.append("/sys/module/nvidia/version not understood, ignored: %r" % text[:80])
    modules_text = reader.read("proc/modules")
    loaded = parse.parse_module_list(modules_text) if modules_text is not None else None
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
            match = parse.LIBNVML.match(name)
            if match:
                libs.add(match.group(1))
    userspace = userspace_source = None
    if libs:
        ordered = sorted(libs, key=cuda.version_key)
        userspace, userspace_source = ordered[-1], "libnvidia-ml.so.%s" % ordered[-1]
        if len(ordered) > 1:
            warnings.append("several NVIDIA userspace libraries are installed (%s); the newest is reported"
                            % ", ".join("libnvidia-ml.so.%s" % v for v in ordered))
    else:
        userspace, name = _upstream_of(packages, gpu_packages.NVIDIA_USERSPACE)
        userspace_source = "package %s" % name if name else None
    nvidia_packages = dpkg.select(packages, gpu_packages.NVIDIA_DRIVER + gpu_packages.NVIDIA_CONTAINER) if packages is not None else None
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
        "cuda_driver_version": cuda.driver_max_cuda(driver) if driver else None,
        "nvml_ok": None,
        "nvml_message": None,
    }


def _headers(reader, extra_dirs, filename):
    for directory in list(INCLUDE_DIRS) + list(extra_dirs):
        text = reader.read("%s/%s" % (directory.strip("/"), filename))
        if text is not None:
            return text
    return None


def cuda_libraries(ctx, reader, packages):
    toolkits = []
    seen = set()
    for path in reader.glob("usr/local/cuda-*"):
        if not os.path.isdir(reader.path(path)):
            continue
        real = os.path.realpath(reader.path(path))
        if real in seen:
            continue
        seen.add(real)
        version = parse.parse_cuda_version_file(reader.read(path + "/version.json") or "", json_file=True) \
            or parse.parse_cuda_version_file(reader.read(path + "/version.txt") or "")
        source = "version file"
        if version is None:
            version = parse.parse_cuda_h(reader.read(path + "/include/cuda.h") or "")
            source = "include/cuda.h"
        if version is None:
            match = re.search(r"cuda-(\d+\.\d+)$", path)
            version, source = (match.group(1), "directory name") if match else (None, None)
        toolkits.append({"version": version, "path": path, "package": None, "source": source})
    for package in dpkg.select(packages or [], ["cuda-toolkit-[0-9]*"]):
        if not re.match(r"^cuda-toolkit-\d+-\d+$", package["name"]):
            continue  # cuda-toolkit-12-config-common and friends are not toolkits
        version = package["upstream_version"]
        same = [t for t in toolkits if t["version"] and cuda.cuda_major_minor(t["version"]) == cuda.cuda_major_minor(version)]
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
        cudnn = parse.header_version(_headers(reader, toolkit_includes, "cudnn_version.h") or "",
                                     ("CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"))
    nccl = _upstream_of(packages, ["libnccl2", "libnccl*"])[0]
    if nccl is None:
        nccl = parse.header_version(_headers(reader, toolkit_includes, "nccl.h") or "", ("NCCL_MAJOR", "NCCL_MINOR", "NCCL_PATCH"))
    tensorrt = _upstream_of(packages, ["tensorrt", "tensorrt-libs", "libnvinfer[0-9]*", "libnvinfer-bin"])[0]
    if tensorrt is None:
        tensorrt = parse.header_version(_headers(reader, toolkit_includes, "NvInferVersion.h") or "",
                                        ("NV_TENSORRT_MAJOR", "NV_TENSORRT_MINOR", "NV_TENSORRT_PATCH", "NV_TENSORRT_BUILD"))
    return {
        "cuda_toolkits": sorted(toolkits, key=lambda t: cuda.version_key(t["version"]) or ()),
        "cuda_default_path": default,
        "cuda_packages": dpkg.select(packages, gpu_packages.NVIDIA_CUDA) if packages is not None else None,
        "cudnn_version": cudnn,
        "nccl_version": nccl,
        "tensorrt_version": tensorrt,
    }


_WHEEL_NAMES = ("torch", "torchvision", "torchaudio", "triton", "jax", "jaxlib", "tensorflow", "onnxruntime-gpu",
                "tensorrt", "cupy-*", "nvidia-*", "*-cu1[0-9]", "*-cu1[0-9]x")


def python_env(reader, prefix, warnings):
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
            env.update(parse.parse_torch_version_py(version_py))
        for info in reader.glob(site.strip("/") + "/*.dist-info"):
            name, version = parse.parse_metadata(reader.read(info + "/METADATA") or "")
            if not name:
                continue
            normal = re.sub(r"[-_.]+", "-", name).lower()
            if any(fnmatch.fnmatchcase(normal, pattern) for pattern in _WHEEL_NAMES):
                wheels.setdefault(normal, {"name": normal, "version": version})
    env["wheels"] = sorted(wheels.values(), key=lambda w: w["name"])
    runtime = [w for w in env["wheels"] if re.match(r"nvidia-cuda-runtime-cu\d+$", w["name"])]
    env["cuda_runtime_wheel"] = cuda.cuda_major_minor(runtime[0]["version"]) if runtime else None
    return env


def rocm(ctx, reader, packages, dkms_entries):
    info = (reader.read("opt/rocm/.info/version") or "").strip() or None
    version, source = (info, "/opt/rocm/.info/version") if info else (None, None)
    if version is None:
        found = reader.glob("opt/rocm-*/.info/version")
        if found:
            version, source = (reader.read(found[-1]) or "").strip() or None, found[-1]
    if version is None:
        pkg, name = _upstream_of(packages, ["rocm-core"])
        version, source = (pkg, "package %s" % name) if pkg else (None, None)
    dkms_pkg = dpkg.by_name(dpkg.select(packages or [], ["amdgpu-dkms"])).get("amdgpu-dkms")
    amdgpu_dkms = [e for e in dkms_entries or [] if e["module"] == "amdgpu"]
    hip = parse.parse_hip_version(reader.read("opt/rocm/bin/.hipVersion") or "")
    if hip is None:
        hip = _upstream_of(packages, ["hip-runtime-amd"])[0]
    targets = []
    for props in reader.glob("sys/class/kfd/kfd/topology/nodes/*/properties"):
        target = parse.parse_kfd_properties(reader.read(props) or "")
        if target:
            targets.append(target)
    return {
        "installed": bool(version or dkms_pkg or amdgpu_dkms),
        "version": version,
        "version_source": source,
        "release": cuda.rocm_release_of(version),
        "amdgpu_dkms_version": dkms_pkg["version"] if dkms_pkg else (amdgpu_dkms[0]["version"] if amdgpu_dkms else None),
        "amdgpu_dkms_release": cuda.rocm_release_of(dkms_pkg["version"]) if dkms_pkg else None,
        "amdgpu_kernel_module_version": (reader.read("sys/module/amdgpu/version") or "").strip() or None,
        "hip_version": hip,
        "gfx_targets": sorted(set(targets)),
        "packages": dpkg.select(packages, gpu_packages.AMD) if packages is not None else None,
    }


def container_toolkit(ctx, reader, packages, warnings):
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
