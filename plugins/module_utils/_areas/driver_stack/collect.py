# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read every link of the driver stack: files below ``root`` and, on the live host only, the
commands (``dpkg-query``, ``dkms status``, ``nvidia-smi -L``, ``docker``) through the runner.

When ``root`` is not ``/`` only files below it are read (``/var/lib/dpkg/status`` for the packages,
the ``/var/lib/dkms`` tree for DKMS); NVML and containers are not probed. I/O only: parsing is in
``parse.py``, verdicts in ``checks.py``; the GPU links are read in ``collect_gpu.py``. No Ansible
import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import gzip
import json
import lzma
import os
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import collect_gpu, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import dkms, dpkg, gpu_packages

SECURE_BOOT_VAR = "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0c6e2d0a"


def check_options(params):
    """What the argument spec cannot say: a command needs at least a second."""
    if params["command_timeout_s"] < 1:
        return ["command_timeout_s must be at least 1, not %s" % params["command_timeout_s"]]
    return []


class Reader(object):
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


class Context(object):
    """What the readers need: root, live (commands allowed), run_command, tool paths, timeout.

    ``tools`` maps a tool name to an explicit path (tests give stand-ins); others are found on PATH.
    """

    def __init__(self, params, run_command, tools=None):
        self.root = params["root"]
        self.live = os.path.realpath(self.root) == "/"
        self.run_command = run_command
        self.python_envs = list(params["python_envs"] or ())
        self.probe_containers = params["probe_containers"]
        self.timeout = int(params["command_timeout_s"])
        self.hold_patterns = tuple(params["hold_patterns"] or gpu_packages.HOLD)
        self.tools = dict(tools or {})
        # What could not be read, by link ({"packages": "dpkg-query not found ..."}): the checks say unknown.
        self.unread = {}

    def tool(self, name):
        return _runner.find_tool(name, self.tools.get(name))


def _packages(ctx, reader, warnings):
    """(packages, source) from dpkg-query (live) or the dpkg status file (root); (None, None) if neither."""
    if ctx.live:
        try:
            packages, parse_warnings = dpkg.list_packages(ctx.run_command, ctx.tool("dpkg-query"), timeout=ctx.timeout)
            warnings.extend(parse_warnings)
            return packages, "dpkg-query"
        except dpkg.DpkgError as exc:
            ctx.unread["packages"] = "%s (rpm hosts are not read yet)" % exc
            warnings.append("package facts not reported: %s" % ctx.unread["packages"])
            return None, None
    text = reader.read("var/lib/dpkg/status")
    if text is None:
        ctx.unread["packages"] = "no /var/lib/dpkg/status below %s (not a dpkg system?)" % ctx.root
        warnings.append("package facts not reported: %s" % ctx.unread["packages"])
        return None, None
    packages, parse_warnings = dpkg.parse_status_file(text)
    warnings.extend(parse_warnings)
    return packages, "/var/lib/dpkg/status"


def _kernel(ctx, reader, packages):
    running = (reader.read("proc/sys/kernel/osrelease") or "").strip() or None
    releases = set()
    for name in reader.listdir("lib/modules"):
        if (reader.isdir("lib/modules/%s/kernel" % name) or reader.exists("lib/modules/%s/modules.dep" % name)
                or reader.exists("boot/vmlinuz-%s" % name)):
            releases.add(name)
    for package in dpkg.select(packages or [], ["linux-image-[0-9]*", "linux-image-unsigned-[0-9]*"]):
        releases.add(re.sub(r"^linux-image-(unsigned-)?", "", package["name"]))
    installed = sorted(releases, key=parse.kernel_sort_key)
    flag = None
    pkgs = []
    for candidate in ("var/run/reboot-required", "run/reboot-required"):
        if reader.exists(candidate):
            flag = True
            pkgs = parse.parse_reboot_required_pkgs(reader.read(candidate + ".pkgs"))
            break
    if flag is None:
        flag = False
    if reader.exists(SECURE_BOOT_VAR):
        secure_boot = parse.parse_secure_boot(reader.read(SECURE_BOOT_VAR, binary=True))
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


def _dkms_entries(ctx, reader, warnings, expect_dkms=True):
    """(entries, source) from ``dkms status`` (live) or the /var/lib/dkms tree."""
    if ctx.live:
        tool = ctx.tool("dkms")
        if tool:
            try:
                parsed = dkms.status(ctx.run_command, tool, timeout=ctx.timeout)
            except dkms.DkmsError as exc:
                ctx.unread["dkms"] = str(exc)
                warnings.append("dkms facts not reported: %s" % exc)
                return None, None
            warnings.extend(parsed["warnings"])
            for error in parsed["errors"]:
                warnings.append("dkms status reported: %s" % error)
            return parsed["entries"], "dkms status"
    if not reader.isdir("var/lib/dkms"):
        ctx.unread["dkms"] = ("dkms not found and no /var/lib/dkms" if ctx.live
                              else "no /var/lib/dkms below %s" % ctx.root)
        if ctx.live and expect_dkms:
            warnings.append("dkms facts not reported: dkms not found and no /var/lib/dkms, "
                            "though a DKMS driver package is installed")
        return None, None
    entries, tree_warnings = dkms.scan_tree(reader.path("var/lib/dkms"))
    warnings.extend(tree_warnings)
    return entries, "/var/lib/dkms"


def _probe_nvml(ctx, argv):
    """Run ``nvidia-smi -L`` (``argv``, on the host or through ``docker exec``) → ``(ok, message)``."""
    try:
        result = _runner.run(ctx.run_command, argv, timeout=ctx.timeout)
    except _runner.ToolError as exc:
        return False, str(exc)
    return parse.nvml_probe_result(result.rc, result.stdout, result.stderr)


def _probe_containers(ctx, warnings):
    docker = ctx.tool("docker")
    if not docker:
        ctx.unread["containers"] = "docker not found"
        warnings.append("probe_containers: docker not found; containers not probed")
        return None
    try:
        listing = _runner.run(ctx.run_command, [docker, "ps", "-q", "--no-trunc"], timeout=ctx.timeout)
        if listing.rc != 0:
            ctx.unread["containers"] = "docker ps: %s" % ((listing.stderr or "").strip()[:300] or "exit %s" % listing.rc)
            warnings.append("probe_containers: %s" % ctx.unread["containers"])
            return None
        ids = listing.stdout.split()
        if not ids:
            return []
        inspect = _runner.run(ctx.run_command, [docker, "inspect"] + ids, timeout=ctx.timeout)
    except _runner.ToolError as exc:
        ctx.unread["containers"] = str(exc)
        warnings.append("probe_containers: %s" % exc)
        return None
    try:
        data = json.loads(inspect.stdout or "[]")
    except ValueError:
        ctx.unread["containers"] = "docker inspect did not print JSON: %r" % (inspect.stdout or "")[:200]
        warnings.append("probe_containers: %s" % ctx.unread["containers"])
        return None
    containers = parse.containers_from_inspect(data)
    for container in containers:
        container["nvml_ok"], container["nvml_message"] = _probe_nvml(ctx, [docker, "exec", container["id"], "nvidia-smi", "-L"])
    return containers


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
            return parse.module_signed(handle.read())
    except (IOError, OSError, lzma.LZMAError, EOFError):
        return None


def _nvidia_module_files(root, kernel):
    """With Secure Boot on: ``{release: {path, signed}}`` of the nvidia module of each kernel the box boots."""
    if kernel["secure_boot"] != "enabled":
        return {}
    found = {}
    for release in set(k for k in (kernel["running_release"], kernel["newest_release"]) if k):
        path = _nvidia_module_file(root, release)
        found[release] = {"path": "/" + os.path.relpath(path, root) if path else None,
                          "signed": module_file_signed(path) if path else None}
    return found


def collect(run_command, params, tools=None):
    """``(data, warnings)``: every link of the chain, before any verdict.

    For the checks, not part of the fact: ``_nvidia_module_files`` (the signature of the nvidia module
    per kernel, read only with Secure Boot on), ``_dkms_expected`` (the modules installed DKMS driver
    packages build) and ``_unread`` (the links that could not be read, and why). Raises AreaError
    when ``root`` is not a directory.
    """
    ctx = Context(params, run_command, tools)
    if not os.path.isdir(ctx.root):
        raise AreaError("root %s does not exist or is not a directory" % ctx.root)
    warnings = []
    reader = Reader(ctx.root, warnings)
    packages, package_source = _packages(ctx, reader, warnings)
    expect_dkms = packages is None or bool(dpkg.select(packages, gpu_packages.DKMS_DRIVERS))
    dkms_entries, dkms_source = _dkms_entries(ctx, reader, warnings, expect_dkms)
    data = {
        "root": ctx.root,
        "live": ctx.live,
        "sources": {"packages": package_source, "dkms": dkms_source,
                    "commands": "run" if ctx.live else "not run: root is not /, only files below it are read"},
        "kernel": _kernel(ctx, reader, packages),
        "dkms": dkms_entries,
    }
    data["nvidia"] = collect_gpu.nvidia(ctx, reader, packages, dkms_entries, warnings)
    data.update(collect_gpu.cuda_libraries(ctx, reader, packages))
    data["python_envs"] = [collect_gpu.python_env(reader, prefix, warnings) for prefix in ctx.python_envs]
    data["rocm"] = collect_gpu.rocm(ctx, reader, packages, dkms_entries)
    data["container_toolkit"] = collect_gpu.container_toolkit(ctx, reader, packages, warnings)
    if ctx.live:
        smi = ctx.tool("nvidia-smi")
        if smi:
            data["nvidia"]["nvml_ok"], data["nvidia"]["nvml_message"] = _probe_nvml(ctx, [smi, "-L"])
        else:
            ctx.unread["nvml"] = "nvidia-smi not found"
        if ctx.probe_containers:
            data["container_toolkit"]["containers"] = _probe_containers(ctx, warnings)
    data["held_packages"] = [p["name"] for p in packages or [] if p["installed"] and p["held"]] if packages is not None else None
    data["hold_patterns"] = list(ctx.hold_patterns)
    data["unheld_driver_packages"] = sorted(set(
        p["name"] for p in dpkg.select(packages or [], ctx.hold_patterns)
        if not p["held"] and not p["name"].endswith("config-common"))) if packages is not None else None
    if data["nvidia"]["installed"]:
        data["_nvidia_module_files"] = _nvidia_module_files(ctx.root, data["kernel"])
    data["_dkms_expected"] = sorted(set("amdgpu" if p["name"].startswith("amdgpu") else "nvidia"
                                        for p in dpkg.select(packages or [], gpu_packages.DKMS_DRIVERS)))
    data["_unread"] = ctx.unread
    return data, warnings
