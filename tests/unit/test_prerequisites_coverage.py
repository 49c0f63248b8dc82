"""The prerequisites role provides what the modules use on a host: every tool they look up and every
third-party library they import is either installed by the role or named here as brought by something
else. A new tool or import in plugins/ fails this test until someone decides which it is."""

import ast
import os
import re
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLE = os.path.join(ROOT, "roles", "prerequisites")
# Code that runs on the managed hosts (action, filter and plugin_utils code runs on the controller).
HOST_CODE = [os.path.join(ROOT, "plugins", d) for d in ("modules", "module_utils")]

# tool -> the Debian/Ubuntu package the role installs for it
INSTALLED_TOOLS = {"smartctl": "smartmontools", "ss": "iproute2", "dmidecode": "dmidecode", "rsync": "rsync"}
# tools that come with the base system, or with the thing they inspect (the module reports them missing)
BROUGHT_TOOLS = {
    "zfs": "zfsutils-linux, with the pool it snapshots (zfs_snapshot fails naming it when missing)",
    "dpkg-query": "dpkg (essential)", "apt-mark": "apt", "apt-cache": "apt", "apt-get": "apt", "apt-config": "apt",
    "timeout": "coreutils (essential)", "ldconfig": "libc-bin (essential)",
    "journalctl": "systemd", "systemctl": "systemd", "last": "util-linux (Debian 12; wtmpdb on 13: unknown without it)",
    "nvidia-smi": "the NVIDIA driver", "amd-smi": "ROCm", "rocm-smi": "ROCm", "dkms": "the driver packages",
    "docker": "Docker", "dockerd": "Docker (its presence is the evidence Docker is installed)", "ufw": "the firewall it reads", "nft": "the firewall it reads",
    # the macos area (roles/prerequisites/vars/Darwin.yml installs nothing): macOS's own tools
    "uname": "coreutils (essential) / macOS", "sw_vers": "macOS", "sysctl": "macOS", "memory_pressure": "macOS",
    "notifyutil": "macOS", "pmset": "macOS", "softwareupdate": "macOS", "defaults": "macOS",
    "pvesh": "Proxmox VE (pve-manager, on the nodes the proxmox area reads)", "qm": "Proxmox VE (qemu-server)",
}
# import name -> where it comes from: the role's Python packages (PyPI name) or a distribution package
INSTALLED_IMPORTS = {"pynvml": "nvidia-ml-py", "pySMART": "pySMART", "docker": "docker",
                     "requests": "docker",   # a dependency of the Docker SDK, imported beside it
                     "yaml": "python3-yaml"}


def _sources():
    for base in HOST_CODE:
        for folder, _dirs, files in os.walk(base):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    with open(path) as handle:
                        yield path, handle.read()


def _tools():
    found = {}
    for path, text in _sources():
        for match in re.finditer(r'(?:find_tool|(?<![.\w])find|\btool)\(\s*"([A-Za-z0-9._-]+)"', text):
            found.setdefault(match.group(1), path)
        for match in re.finditer(r"REQUIRED_TOOLS\s*=\s*\(([^)]*)\)", text):
            for name in re.findall(r'"([^"]+)"', match.group(1)):
                found.setdefault(name, path)
    return found


def _third_party_imports():
    found = {}
    for path, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("ansible", "ansible_collections", "__future__"):
                    found.setdefault(top, path)
    return found


def _role():
    with open(os.path.join(ROLE, "vars", "Debian.yml")) as handle:
        packages = yaml.safe_load(handle)["__prerequisites_packages"]
    with open(os.path.join(ROLE, "defaults", "main.yml")) as handle:
        python = yaml.safe_load(handle)["prerequisites_python_packages"]
    return packages, python


def test_the_scan_finds_the_tools_and_imports_we_know_of():
    # guards the scan itself: if these vanish, the patterns no longer match the code
    assert {"smartctl", "ss", "nvidia-smi", "dpkg-query"} <= set(_tools())
    assert {"pySMART", "docker", "pynvml"} <= set(_third_party_imports())


def test_every_tool_a_module_calls_is_installed_by_the_role_or_brought_by_something_else():
    packages, _python = _role()
    unknown = dict((tool, path) for tool, path in _tools().items()
                   if tool not in INSTALLED_TOOLS and tool not in BROUGHT_TOOLS)
    assert unknown == {}, "decide who provides these tools (roles/prerequisites/vars/Debian.yml or BROUGHT_TOOLS): %s" % unknown
    for tool, package in INSTALLED_TOOLS.items():
        assert package in packages, "%s needs %s in roles/prerequisites/vars/Debian.yml" % (tool, package)


def test_every_library_a_module_imports_is_installed_by_the_role():
    packages, python = _role()
    provided = set(python) | set(packages)
    missing = dict((name, path) for name, path in _third_party_imports().items()
                   if INSTALLED_IMPORTS.get(name) not in provided)
    assert missing == {}, "the prerequisites role does not provide these imports: %s" % missing
