# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the macos area is shown: its summary lines and its Prometheus metrics. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import human_bytes


def _or(value, default="n/a"):
    return default if value in (None, "") else value


def summary_lines(fact):
    if not fact.get("is_macos"):
        return ["macos: not a macOS host (kernel %s)" % _or(fact.get("kernel_name"), "unknown")]
    version = " ".join(part for part in (fact.get("product_name") or "macOS", fact.get("os_version"),
                                         fact.get("os_version_extra"), fact.get("os_name")) if part)
    lines = ["macos: %s (%s) on %s (%s), %s %s" % (
        version, _or(fact.get("os_build")), _or(fact.get("chip")), _or(fact.get("model")),
        human_bytes(fact.get("memory_bytes")), "unified memory" if fact.get("unified_memory") else "memory")]
    lines.append("macos: memory %s%% free (pressure %s), swap %s used of %s; thermal pressure %s%s" % (
        _or(fact.get("memory_free_pct")), _or(fact.get("memory_pressure")), human_bytes(fact.get("swap_used_bytes")),
        human_bytes(fact.get("swap_total_bytes")), _or(fact.get("thermal_pressure")),
        "" if fact.get("cpu_speed_limit_pct") is None else ", CPU speed limit %s %%" % fact["cpu_speed_limit_pct"]))
    if fact.get("updates_checked"):
        updates = ["%s%s" % (u.get("title") or u.get("label"), " (MAJOR UPGRADE: defer it)" if u.get("major") else "")
                   for u in fact.get("updates") or []]
        auto = fact.get("auto_install_macos_updates")
        lines.append("macos: updates offered: %s; automatic macOS install %s%s" % (
            ", ".join(updates) or "none", {True: "on", False: "off"}.get(auto, "not set"),
            "; major upgrades deferred by a profile" if fact.get("major_upgrade_deferred") else ""))
    return lines


def _ratio(pct):
    return None if pct is None else pct / 100.0


def metrics(fact, fam):
    if not fact.get("is_macos"):
        return
    fam.add("gpufleet_macos_memory_free_ratio", "Share of unified memory macOS counts as free (memory_pressure).",
            "gauge", {}, _ratio(fact.get("memory_free_pct")))
    fam.add("gpufleet_macos_memory_pressure_level", "The kernel's memory-pressure level: 1 normal, 2 warn, 4 critical.",
            "gauge", {}, fact.get("memory_pressure_level"))
    fam.add("gpufleet_macos_swap_used_bytes", "Swap in use (vm.swapusage).", "gauge", {}, fact.get("swap_used_bytes"))
    fam.add("gpufleet_macos_thermal_pressure_level",
            "Thermal pressure: 0 nominal, 1 moderate, 2 heavy, 3 trapping, 4 sleeping.", "gauge", {},
            fact.get("thermal_pressure_level"))
    fam.add("gpufleet_macos_cpu_speed_limit_ratio", "CPU speed limit pmset records (Intel Macs).", "gauge", {},
            _ratio(fact.get("cpu_speed_limit_pct")))
    if fact.get("updates_checked"):
        fam.add("gpufleet_macos_major_upgrades_offered", "Major macOS upgrades softwareupdate offers.", "gauge", {},
                fact.get("major_upgrades_count"))
