# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The macos area's checks: the table (data) and the verdicts over what was collected.

Pure functions, no I/O, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable

FIX_COOL = ("let it cool and reduce the sustained load: pause batch jobs, lower the runner's parallel requests, "
            "keep the vents clear and the room cool (a Mac Studio or Mac mini should not get there; a fanless "
            "MacBook Air does under all-core load)")
FIX_MEMORY = ("the models do not fit in unified memory alongside everything else: run a smaller model or a "
              "stronger quantization (Q4_K_M instead of Q8_0, 4-bit MLX), shorten the context, unload models you "
              "are not using (ollama stop, OLLAMA_MAX_LOADED_MODELS=1) and quit other large apps")
FIX_MAJOR = ("defer it until your runners support it: read the release notes and the runners' (MLX-LM, "
             "llama.cpp, Ollama) release notes and issue trackers first, then upgrade by hand in a planned window "
             "with a backup; never let an inference box take a major upgrade on its own")
FIX_DEFERRAL = ("turn off automatic installation of macOS updates (System Settings > General > Software Update > "
                "Automatic updates > Install macOS updates, or sudo defaults write "
                "/Library/Preferences/com.apple.SoftwareUpdate AutomaticallyInstallMacOSUpdates -bool false) and "
                "install updates by hand once the runners support them; on managed Macs defer major upgrades with "
                "a restrictions profile (forceDelayedMajorSoftwareUpdates, up to 90 days)")

CHECKS = CheckTable(
    Check("macos", "On a host that is not macOS: says so (nothing else is checked).",
          fix="nothing to do"),
    Check("thermal_pressure", "The thermal pressure level macOS reports (nominal, moderate, heavy, trapping, "
          "sleeping; notifyutil, no root needed): a Mac that throttles under sustained load.",
          thresholds=(("thermal_pressure_warn_level", 2, {"type": "int"}),
                      ("thermal_pressure_crit_level", 3, {"type": "int"})),
          fix=FIX_COOL, reads=("thermal_pressure_level",)),
    Check("cpu_speed_limit", "The CPU speed limit pmset records (Intel Macs; Apple Silicon records none).",
          thresholds=(("cpu_speed_limit_warn_pct", 80), ("cpu_speed_limit_crit_pct", 50)), unit=" %",
          higher_is_worse=False, fix=FIX_COOL, reads=("cpu_speed_limit_pct",)),
    Check("memory_pressure", "The kernel's memory-pressure level (normal, warn, critical), the colour of Activity "
          "Monitor's memory pressure graph.",
          fix=FIX_MEMORY, reads=("memory_pressure_level",)),
    Check("memory_free", "The share of unified memory the kernel counts as free (memory_pressure).",
          thresholds=(("memory_free_warn_pct", 20), ("memory_free_crit_pct", 10)), unit=" %",
          higher_is_worse=False, fix=FIX_MEMORY, reads=("memory_free_pct",)),
    Check("major_upgrade_pending", "Whether softwareupdate offers a major macOS upgrade (a new major version), "
          "which can break the runners.",
          fix=FIX_MAJOR, reads=("major_upgrades_count",)),
    Check("update_deferral", "Whether macOS installs its updates by itself with no profile deferring major "
          "upgrades.",
          fix=FIX_DEFERRAL),
)


def _unread(data, what):
    return (data.get("_unread") or {}).get(what)


def thermal_checks(data, limits):
    """``thermal_pressure`` (every Mac), and ``cpu_speed_limit`` where pmset records one (Intel)."""
    results = []
    check = CHECKS["thermal_pressure"]
    level, name = data.get("thermal_pressure_level"), data.get("thermal_pressure")
    warn, crit = limits["thermal_pressure_warn_level"], limits["thermal_pressure_crit_level"]
    if level is None:
        results.append(check.unknown(
            "the thermal pressure level could not be read (%s)" % (_unread(data, "notifyutil") or "no level printed"),
            fix="run notifyutil -g com.apple.system.thermalpressurelevel on the Mac; as root, powermetrics "
                "--samplers thermal -n 1 says the same"))
    elif level >= crit:
        results.append(check.result("crit", name, parse.thermal_pressure_name(crit),
                                    "thermal pressure is %s (level %d): the Mac is throttling hard" % (name, level)))
    elif level >= warn:
        results.append(check.result("warn", name, parse.thermal_pressure_name(warn),
                                    "thermal pressure is %s (level %d): the Mac throttles under sustained load"
                                    % (name, level)))
    else:
        results.append(check.result("ok", name, parse.thermal_pressure_name(warn),
                                    "thermal pressure is %s (level %d)" % (name, level)))
    speed = CHECKS["cpu_speed_limit"]
    if _unread(data, "pmset"):
        results.append(speed.unknown("pmset -g therm could not be read (%s)" % _unread(data, "pmset"),
                                     fix="run pmset -g therm on the Mac"))
    else:
        result = None
        if data.get("cpu_speed_limit_pct") is not None:
            result = speed.level(data["cpu_speed_limit_pct"], limits, "the CPU speed limit pmset records")
        warning = data.get("thermal_warning_level")
        if warning and (result is None or result["status"] == "ok"):
            # pmset's thermal warning (Intel): the Mac is hot even where the speed limit is still 100
            result = speed.result("warn", data.get("cpu_speed_limit_pct"), limits["cpu_speed_limit_warn_pct"],
                                  "pmset records thermal warning level %d" % warning)
        if result is not None:
            results.append(result)
    return results


def memory_checks(data, limits):
    results = []
    check = CHECKS["memory_pressure"]
    level, name = data.get("memory_pressure_level"), data.get("memory_pressure")
    if name is None:
        reason = _unread(data, "sysctl kern.memorystatus_vm_pressure_level") or (
            "unexpected level %s" % level if level is not None else "no level printed")
        results.append(check.unknown("the kernel's memory-pressure level could not be read (%s)" % reason,
                                     fix="run sysctl kern.memorystatus_vm_pressure_level on the Mac (1 normal, "
                                         "2 warn, 4 critical)"))
    else:
        status = {"normal": "ok", "warn": "warn", "critical": "crit"}[name]
        message = "memory pressure is %s (kernel level %d)" % (name, level)
        if data.get("swap_used_bytes"):
            message += ", %s of swap in use" % _gib(data["swap_used_bytes"])
        results.append(check.result(status, name, "normal", message))
    free = CHECKS["memory_free"]
    if data.get("memory_free_pct") is None:
        results.append(free.unknown("memory_pressure gave no free percentage (%s)"
                                    % (_unread(data, "memory_pressure") or "no output"),
                                    fix="run memory_pressure on the Mac"))
    else:
        results.append(free.level(data["memory_free_pct"], limits, "free unified memory"))
    return results


def _gib(number):
    return "%.1f GiB" % (number / 1024.0 ** 3)


def _title(update):
    return update.get("title") or update.get("label")


def update_checks(data):
    """``major_upgrade_pending`` and ``update_deferral`` (the weekly, ``check_updates``)."""
    if not data.get("updates_checked"):
        return []
    results = []
    check = CHECKS["major_upgrade_pending"]
    running = "macOS %s" % (data.get("os_version") or "(version unknown)")
    majors = [u for u in data.get("updates") or [] if u.get("major")]
    unsure = [u for u in data.get("updates") or [] if u.get("macos") and u.get("major") is None]
    if _unread(data, "softwareupdate"):
        results.append(check.unknown("softwareupdate --list gave no list (%s)" % _unread(data, "softwareupdate"),
                                     fix="run softwareupdate --list on the Mac (it needs Apple's update servers)"))
    elif majors:
        names = ", ".join("%s (version %s)" % (_title(u), u.get("version")) for u in majors)
        results.append(check.result("warn", [_title(u) for u in majors], [], "%s is offered; this Mac runs %s"
                                    % (names, running)))
    elif unsure:
        results.append(check.unknown("%s is offered and the running version is not known, so whether it is a "
                                     "major upgrade is not known" % ", ".join(_title(u) for u in unsure),
                                     fix="check sw_vers on the Mac"))
    else:
        others = [_title(u) for u in data.get("updates") or []]
        results.append(check.result("ok", [], [], "no major macOS upgrade offered (%s runs %s)%s" % (
            "this Mac", running, "; other updates: %s" % ", ".join(others) if others else "")))
    results.append(deferral_check(data))
    return results


def deferral_check(data):
    check = CHECKS["update_deferral"]
    auto = data.get("auto_install_macos_updates")
    if data.get("major_upgrade_deferred"):
        days = data.get("major_upgrade_deferral_days")
        return check.result("ok", True, True, "a profile defers major macOS upgrades%s" % (
            " by %d days" % days if days is not None else " (Apple's default delay)"))
    if auto is False:
        managed = "auto_install_macos_updates" in (data.get("update_settings_managed") or [])
        return check.result("ok", False, False, "macOS does not install its updates by itself%s; major upgrades "
                            "wait for you" % (" (set by a profile)" if managed else ""))
    unreadable = _unread(data, "defaults /Library/Preferences/com.apple.SoftwareUpdate")
    if auto is None and unreadable:
        return check.unknown("the Software Update preferences could not be read (%s)" % unreadable,
                             fix="run defaults read /Library/Preferences/com.apple.SoftwareUpdate on the Mac")
    if auto is None:
        return check.result("warn", None, False, "automatic installation of macOS updates is not set "
                            "(AutomaticallyInstallMacOSUpdates absent), so macOS's own default decides and no "
                            "profile defers major upgrades")
    return check.result("warn", True, False, "macOS installs its updates by itself (AutomaticallyInstallMacOSUpdates "
                        "on) and no profile defers major upgrades: an update can restart the Mac and break a runner")


def evaluate(data, params):
    """The checks of the macOS fact (see docs/checks.md)."""
    if not data["is_macos"]:
        if _unread(data, "uname"):
            return [CHECKS["macos"].unknown("the kernel name could not be read (%s)" % _unread(data, "uname"),
                                            fix="check that uname runs on the host (bin_dir, when set, must hold it)")]
        return [CHECKS["macos"].result("ok", False, None, "not a macOS host (kernel %s); nothing to check"
                                       % data.get("kernel_name"))]
    limits = params["thresholds"]
    return thermal_checks(data, limits) + memory_checks(data, limits) + update_checks(data)
