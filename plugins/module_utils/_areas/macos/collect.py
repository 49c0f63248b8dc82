# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a macOS host through its own tools: ``sw_vers``, ``sysctl``, ``memory_pressure``, ``notifyutil``,
``pmset``, and (``check_updates``) ``softwareupdate --list`` and ``defaults read``; its kernel name with
``uname(2)`` (``_areas/macos_gate.py``; ``uname -s`` from the stand-ins of ``bin_dir``).

I/O only, through the collection's runner (which brings its own timeout where macOS has no coreutils
``timeout``); parsing is in ``parse.py``, verdicts in ``checks.py``. Standard library only, Python 3.6
syntax: the module runs with macOS's ``/usr/bin/python3``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import macos_gate
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner

# Where macOS keeps the tools (they are all part of the base system).
SYSTEM_DIRS = ("/usr/bin", "/usr/sbin", "/bin", "/sbin")
SOFTWARE_UPDATE_DOMAIN = "/Library/Preferences/com.apple.SoftwareUpdate"
MANAGED_SOFTWARE_UPDATE_DOMAIN = "/Library/Managed Preferences/com.apple.SoftwareUpdate"
MANAGED_RESTRICTIONS_DOMAIN = "/Library/Managed Preferences/com.apple.applicationaccess"
THERMAL_PRESSURE_KEY = "com.apple.system.thermalpressurelevel"
# The tools the area runs: all of them part of macOS itself (uname: only the stand-ins' of bin_dir; a host's
# kernel name is read without a command).
REQUIRED_TOOLS = ("uname", "sw_vers", "sysctl", "memory_pressure", "notifyutil", "pmset", "softwareupdate", "defaults")


def check_options(params):
    problems = []
    for option in ("command_timeout_s", "update_timeout_s"):
        if params[option] < 1:
            problems.append("%s must be at least 1, not %s" % (option, params[option]))
    if params.get("bin_dir") and not os.path.isdir(params["bin_dir"]):
        problems.append("bin_dir %s is not a directory" % params["bin_dir"])
    return problems


def _empty():
    data = {
        "is_macos": False, "kernel_name": None,
        "product_name": None, "os_version": None, "os_version_extra": None, "os_build": None, "os_major": None,
        "os_name": None,
        "model": None, "chip": None, "apple_silicon": None, "unified_memory": None, "memory_bytes": None,
        "page_size_bytes": None, "memory_free_pct": None, "memory_pressure": None, "memory_pressure_level": None,
        "swap_total_bytes": None, "swap_used_bytes": None, "swap_free_bytes": None, "swap_used_pct": None,
        "swap_encrypted": None, "swapins": None, "swapouts": None,
        "thermal_pressure": None, "thermal_pressure_level": None, "pmset_recorded": None,
        "thermal_warning_level": None, "performance_warning_level": None, "cpu_speed_limit_pct": None,
        "cpu_scheduler_limit_pct": None, "cpu_available_cpus": None,
        "updates_checked": False, "updates": [], "major_upgrades": [], "major_upgrades_count": None,
        "major_upgrade_deferred": None, "major_upgrade_deferral_days": None, "update_settings_managed": [],
    }
    for _key, name in parse.UPDATE_SETTINGS:
        data[name] = None
    return data


class _Tools(object):
    """Find and run the macOS tools; what could not be read goes to ``unread`` (for the checks)."""

    def __init__(self, run_command, params, warnings, unread):
        self.run_command = run_command
        self.bin_dir = params.get("bin_dir")
        self.timeout = params["command_timeout_s"]
        self.warnings = warnings
        self.unread = unread

    def find(self, name):
        if self.bin_dir:    # stand-ins (tests): only there, never the system's tool of the same name
            return _runner.find_tool(name, os.path.join(self.bin_dir, name))
        return _runner.find_tool(name, extra_paths=SYSTEM_DIRS)

    def run(self, what, argv, timeout=None, quiet_rc=False):
        """``(rc, stdout, stderr)``, or None when the tool is missing or did not finish (``unread[what]``)."""
        tool = self.find(argv[0])
        if not tool:
            self.unread[what] = "%s not found%s" % (argv[0], " in %s" % self.bin_dir if self.bin_dir else "")
            return None
        try:
            result = _runner.run(self.run_command, [tool] + list(argv[1:]), timeout=timeout or self.timeout)
        except _runner.ToolError as exc:
            self.unread[what] = str(exc)
            return None
        if result.rc != 0 and not quiet_rc:
            self.unread[what] = "%s exited %s: %s" % (" ".join(argv), result.rc,
                                                      (result.stderr or result.stdout or "no output").strip()[:300])
        return result.rc, result.stdout or "", result.stderr or ""


def _sysctl(tools, name):
    ran = tools.run("sysctl " + name, ["sysctl", name])
    if ran is None or ran[0] != 0:
        return None
    return parse.sysctl_value(ran[1], name)


def _memory(tools, data):
    ran = tools.run("memory_pressure", ["memory_pressure"])
    if ran is not None and ran[0] == 0:
        found = parse.parse_memory_pressure(ran[1])
        data.update(found)
        if found["memory_free_pct"] is None:
            tools.unread["memory_pressure"] = "memory_pressure printed no 'System-wide memory free percentage'"
    level = parse._int(_sysctl(tools, "kern.memorystatus_vm_pressure_level"))
    data["memory_pressure_level"] = level
    data["memory_pressure"] = parse.pressure_level_name(level)
    data.update(parse.parse_swapusage(_sysctl(tools, "vm.swapusage")))
    if data["swap_total_bytes"]:
        data["swap_used_pct"] = round(100.0 * data["swap_used_bytes"] / data["swap_total_bytes"], 1)
    elif data["swap_total_bytes"] == 0:
        data["swap_used_pct"] = 0.0


def _thermal(tools, data):
    ran = tools.run("notifyutil", ["notifyutil", "-g", THERMAL_PRESSURE_KEY])
    if ran is not None and ran[0] == 0:
        level = parse.parse_thermal_pressure(ran[1])
        if level is None:
            tools.unread["notifyutil"] = "notifyutil printed no level for %s: %r" % (THERMAL_PRESSURE_KEY, ran[1][:100])
        data["thermal_pressure_level"] = level
        data["thermal_pressure"] = parse.thermal_pressure_name(level)
    ran = tools.run("pmset", ["pmset", "-g", "therm"])
    if ran is not None and ran[0] == 0:
        data.update(parse.parse_pmset_therm(ran[1] + "\n" + ran[2]))


def _defaults(tools, domain):
    """The domain's dict; ``{}`` when it does not exist (nothing set); None when it could not be read."""
    what = "defaults " + domain
    ran = tools.run(what, ["defaults", "read", domain], quiet_rc=True)
    if ran is None:
        return None
    rc, out, err = ran
    if rc != 0:
        if parse.domain_missing(err or out):
            return {}
        tools.unread[what] = "defaults read %s exited %s: %s" % (domain, rc, (err or out).strip()[:300])
        return None
    try:
        return parse.parse_defaults(out)
    except parse.PlistError as exc:
        tools.unread[what] = "defaults read %s: %s" % (domain, exc)
        return None


def _updates(tools, data, timeout):
    data["updates_checked"] = True
    ran = tools.run("softwareupdate", ["softwareupdate", "--list"], timeout=timeout, quiet_rc=True)
    if ran is not None:
        listed = parse.parse_softwareupdate_list(ran[1] + "\n" + ran[2])
        if listed["state"] == "unknown" or (ran[0] != 0 and listed["state"] != "updates"):
            tools.unread["softwareupdate"] = "softwareupdate --list exited %s: %s" % (ran[0], listed["message"])
        data["updates"] = parse.classify_updates(listed["updates"], data["os_major"])
        data["major_upgrades"] = [u["title"] or u["label"] for u in data["updates"] if u["major"]]
        data["major_upgrades_count"] = len(data["major_upgrades"])
    local = _defaults(tools, SOFTWARE_UPDATE_DOMAIN)
    managed = _defaults(tools, MANAGED_SOFTWARE_UPDATE_DOMAIN)
    settings, managed_keys = parse.update_settings(local, managed)
    data.update(settings)
    data["update_settings_managed"] = managed_keys
    restrictions = _defaults(tools, MANAGED_RESTRICTIONS_DOMAIN)
    if restrictions is not None:
        data["major_upgrade_deferred"], data["major_upgrade_deferral_days"] = parse.major_deferral(restrictions)


def _kernel_name(tools):
    """The kernel name (``Darwin`` on macOS): this process's ``uname(2)``, as the gate reads it; with
    ``bin_dir``, what the stand-ins' ``uname -s`` prints (they replay a Mac or a Linux host)."""
    if not tools.bin_dir:
        name = macos_gate.kernel_name()
        if name is None:
            tools.unread["uname"] = "uname(2) gave no kernel name"
        return name
    ran = tools.run("uname", ["uname", "-s"])
    return (ran[1].strip() or None) if ran is not None and ran[0] == 0 else None


def collect(run_command, params):
    """``(data, warnings)``: the ``gpufleet_macos`` readings.

    With ``only_on_macos``, a host whose kernel is not Darwin gives ``(None, warnings)``: no fact, at the
    cost of reading the kernel name (``uname(2)``, no command; with ``bin_dir``, the stand-ins' ``uname -s``).
    What is macOS is said by ``_areas/macos_gate.py``, which ``_areas/gather.py`` asks first: there such
    a host does not even import this file.
    """
    warnings, unread = [], {}
    tools = _Tools(run_command, params, warnings, unread)
    data = _empty()
    data["_unread"] = unread
    data["kernel_name"] = _kernel_name(tools)
    data["is_macos"] = data["kernel_name"] == macos_gate.DARWIN
    if not data["is_macos"]:
        if params.get("only_on_macos") and macos_gate.certainly_not(data["kernel_name"]):
            return None, warnings
        return data, warnings

    ran = tools.run("sw_vers", ["sw_vers"])
    if ran is not None and ran[0] == 0:
        data.update(parse.parse_sw_vers(ran[1]))
    data["chip"] = _sysctl(tools, "machdep.cpu.brand_string")
    data["model"] = _sysctl(tools, "hw.model")
    if data["chip"]:
        data["apple_silicon"] = data["chip"].startswith("Apple")
        data["unified_memory"] = data["apple_silicon"]
    _memory(tools, data)
    _thermal(tools, data)
    if params["check_updates"]:
        _updates(tools, data, params["update_timeout_s"])
    warnings.extend("%s: %s" % (what, why) for what, why in sorted(unread.items()))
    return data, warnings
