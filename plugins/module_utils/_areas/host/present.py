# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the host area is shown: its summary lines and its Prometheus metrics. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import human_bytes, human_duration


def summary_lines(fact):
    lines = ["host %s: kernel %s, up %s, load %s" % (
        fact.get("hostname"), fact.get("kernel_release"), human_duration(fact.get("uptime_s")),
        "n/a" if fact.get("load_1m") is None else "%.2f" % fact["load_1m"])]
    if fact.get("memory_total_bytes"):
        lines.append("memory: %s available of %s" % (
            human_bytes(fact.get("memory_available_bytes")), human_bytes(fact.get("memory_total_bytes"))))
    for disk in fact.get("disks") or []:
        if not disk.get("present"):
            lines.append("disk %s: not present" % disk.get("path"))
            continue
        lines.append("disk %s: %s%% used (%s free of %s) on %s" % (
            disk.get("path"), "n/a" if disk.get("used_pct") is None else disk["used_pct"],
            human_bytes(disk.get("free_bytes")), human_bytes(disk.get("size_bytes")), disk.get("mount")))
    return lines


def _ratio(pct):
    return None if pct is None else pct / 100.0


def metrics(fact, fam):
    for disk in fact.get("disks") or []:
        if disk.get("present"):
            fam.add("gpufleet_disk_used_ratio", "Used share of the filesystem holding a watched path.", "gauge",
                    {"path": disk.get("path"), "mount": disk.get("mount")}, _ratio(disk.get("used_pct")))
    fam.add("gpufleet_memory_available_ratio", "Available RAM as a share of total RAM.", "gauge", {},
            _ratio(fact.get("memory_available_pct")))
