# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The short health summary printed at the end of a cadence run, one section per fact.

``summary_lines(facts)`` takes a dict of the ``gpufleet_*`` facts a host has and returns lines of
text. Each fact has a section formatter in ``SECTIONS``; facts a host lacks are left out.
Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _backup, _exposure, _image_digest, _model_store, _vram
from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import status_rank, worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._gpu_checks import gpu_summary_lines
from ansible_collections.gpufleet.maintenance.plugins.module_utils._docker import docker_section
from ansible_collections.gpufleet.maintenance.plugins.module_utils._smart_checks import smart_section
from ansible_collections.gpufleet.maintenance.plugins.module_utils._driver_stack import summary_section as _driver_stack_section
from ansible_collections.gpufleet.maintenance.plugins.module_utils._maintenance import summary_section as _maintenance_section
from ansible_collections.gpufleet.maintenance.plugins.module_utils._wsl import summary_section as _wsl_section
from ansible_collections.gpufleet.maintenance.plugins.module_utils._benchmark_summary import benchmark_section


def human_bytes(number):
    """1536 → '1.5 KiB'; None → 'n/a'."""
    if number is None:
        return "n/a"
    value = float(number)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024.0
    return "%.1f PiB" % value  # pragma: no cover


def human_duration(seconds):
    """93784 → '1d 2h 3m'; None → 'n/a'."""
    if seconds is None:
        return "n/a"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return "%dd %dh %dm" % (days, hours, minutes)
    if hours:
        return "%dh %dm" % (hours, minutes)
    return "%dm" % minutes


def _host_section(fact):
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


# fact name -> (section title, formatter). Later capabilities add their own entries.
SECTIONS = [
    ("gpufleet_host", "host", _host_section),
    ("gpufleet_gpu", "gpu", gpu_summary_lines),
    ("gpufleet_docker", "docker", docker_section),
    ("gpufleet_smart", "smart", smart_section),
    ("gpufleet_driver_stack", "driver stack", _driver_stack_section),
    ("gpufleet_models", "models", _model_store.summary_section),
    ("gpufleet_exposure", "exposure", _exposure.summary_section),
    ("gpufleet_backup", "backup", _backup.summary_section),
    ("gpufleet_maintenance", "maintenance", _maintenance_section),
    ("gpufleet_wsl", "wsl", _wsl_section),
    ("gpufleet_benchmark", "benchmark", benchmark_section),
    ("gpufleet_images", "images", _image_digest.summary_section),
    ("gpufleet_vram_guard", "vram guard", _vram.summary_section),
]


def summary_lines(facts):
    """Return the summary lines for one host: a status headline, sections, then non-ok checks."""
    if not isinstance(facts, dict):
        raise TypeError("summary_lines expects a dict of gpufleet_* facts, got %s" % type(facts).__name__)
    lines = []
    statuses = []
    problems = []
    for name, _title, formatter in SECTIONS:
        fact = facts.get(name)
        if not isinstance(fact, dict):
            continue
        statuses.append(fact.get("status", "ok"))
        lines.extend(formatter(fact))
        for check in fact.get("checks") or []:
            if check.get("status") != "ok":
                problems.append(check)
    problems.sort(key=lambda check: -status_rank(check.get("status")))
    lines.insert(0, "status: %s" % worst_status(statuses).upper())
    for check in problems:
        lines.append("%s %s: %s" % (check.get("status", "").upper(), check.get("check"), check.get("message")))
    return lines
