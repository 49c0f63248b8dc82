# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host area's checks: the table (data) and the verdicts over the collected readings.

Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable

CHECKS = CheckTable(
    Check("disk_used", "Use of the filesystem holding each watched path (model store, Docker root).",
          subject=("path",), thresholds=(("disk_used_warn_pct", 80), ("disk_used_crit_pct", 85)), unit=" %",
          fix="free space (docker_hygiene, old models, logs) or grow the filesystem",
          reads=("disks[].used_pct",)),
    Check("memory_available", "Available RAM as a share of the total.",
          thresholds=(("memory_available_warn_pct", 10), ("memory_available_crit_pct", 5)), unit=" %",
          higher_is_worse=False, fix="a model runner may be swapping or leaking; check the largest processes",
          reads=("memory_available_pct",)),
)


def disk_checks(disks, limits):
    """One ``disk_used`` check per path; a path that does not exist is ok, with a note."""
    check = CHECKS["disk_used"]
    results = []
    for disk in disks:
        subject = {"path": disk["path"]}
        if not disk.get("present"):
            results.append(check.result("ok", None, limits["disk_used_warn_pct"],
                                        "%s does not exist on this host; nothing to check" % disk["path"],
                                        subject=subject))
            continue
        results.append(check.level(disk["used_pct"], limits, "disk use of %s (%s)" % (disk["path"], disk["mount"]),
                                   subject=subject))
    return results


def memory_check(data, limits):
    if data.get("_memory_elsewhere"):
        return None     # macOS: the macos area judges memory pressure (docs/macos.md)
    return CHECKS["memory_available"].level(data.get("memory_available_pct"), limits, "available RAM")


def evaluate(data, params):
    """Every check of the host area."""
    limits = params["thresholds"]
    return disk_checks(data.get("disks") or [], limits) + [c for c in [memory_check(data, limits)] if c is not None]
