# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``nvidia-smi -q -x`` (XML, DTD v7 to v13) parsed into the ``gpufleet_gpu.nvidia`` layout.

``parse_xml(text)`` is pure: text in, ``(facts, problems)`` out. ``N/A``, ``[Not Supported]``,
``[Unknown Error]`` and friends become ``None`` (never the string, never 0). Truncated or garbled
XML keeps every complete ``<gpu>`` element and names what could not be read.
``gather(run_command, path, ...)`` runs the tool through ``_common/runner.py`` (no Ansible import).
Used by the ``gpu`` area (and so by ``vram_guard``) where NVML did not report and nvidia-smi is installed;
both readers build their ``absent`` sections and lost GPUs with ``_tools/gpu_shapes.py``, so both paths give
the same layout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import xml.etree.ElementTree as ET

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.gpu_shapes import lost_gpu
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.gpu_shapes import nvidia_absent as absent

XML_ARGS = ["-q", "-x"]
THROTTLE_REASONS = (
    "gpu_idle", "applications_clocks_setting", "sw_power_cap", "hw_slowdown", "sync_boost",
    "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown", "display_clocks_setting",
)
_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")
_LOST_HANDLE = re.compile(r"Unable to determine the device handle for (?:GPU|gpu)\s*([0-9A-Fa-f:.]+):\s*(.+)")


def text_of(node, path):
    """Stripped text at ``path`` under ``node``; None when absent, empty or not a value (N/A...)."""
    if node is None:
        return None
    found = node.find(path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    if not value or value in ("N/A", "None") or value.startswith("[") or value.lower().startswith("unknown error") \
            or value == "Requested functionality has been deprecated":
        return None
    return value


def number_of(node, path, kind=float):
    """The leading number at ``path`` ("42 C", "11.60 W", "16x", " 40 % "), or None."""
    value = text_of(node, path)
    if value is None:
        return None
    match = _NUMBER.match(value)
    if not match:
        return None
    number = float(match.group(1))
    return int(number) if kind is int else number


def first_number(node, paths, kind=float):
    for path in paths:
        value = number_of(node, path, kind)
        if value is not None:
            return value
    return None


def yes_no(node, path):
    value = text_of(node, path)
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("yes", "enabled", "active", "true"):
        return True
    if lowered in ("no", "disabled", "not active", "false"):
        return False
    return None


def _sum_known(values):
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _ecc_counts(node, corrected):
    """Corrected/uncorrected total of an ``<ecc_errors>/<volatile|aggregate>`` element, all DTDs."""
    if node is None:
        return None
    if node.find("single_bit") is not None:  # DTD <= v10
        return number_of(node, "single_bit/total" if corrected else "double_bit/total", int)
    names = ("sram_correctable", "dram_correctable") if corrected else (
        "sram_uncorrectable", "sram_uncorrectable_parity", "sram_uncorrectable_secded", "dram_uncorrectable")
    return _sum_known([number_of(node, name, int) for name in names])


def _throttle(gpu):
    for section, prefix in (("clocks_event_reasons", "clocks_event_reason_"),
                            ("clocks_throttle_reasons", "clocks_throttle_reason_")):
        node = gpu.find(section)
        if node is None:
            continue
        states = {}
        for child in node:
            if child.tag.startswith(prefix):
                states[child.tag[len(prefix):]] = yes_no(node, child.tag)
        if not any(value is not None for value in states.values()):
            return None
        return [name for name in THROTTLE_REASONS if states.get(name)] + sorted(
            name for name, active in states.items() if active and name not in THROTTLE_REASONS)
    return None


def _processes(gpu):
    result = []
    node = gpu.find("processes")
    if node is None:
        return result
    for proc in node.findall("process_info"):
        pid = number_of(proc, "pid", int)
        if pid is None:
            continue
        result.append(dict(pid=pid, name=text_of(proc, "process_name"),
                           used_memory_mib=number_of(proc, "used_memory", int)))
    return sorted(result, key=lambda p: p["pid"])


def _enabled(flag):
    return None if flag is None else ("enabled" if flag else "disabled")


def _compute_mode(value):
    return value.lower().replace(" ", "_") if value else None


def parse_gpu(gpu, index):
    """One ``<gpu>`` element → the GPU dict of ``gpufleet_gpu.nvidia.gpus``."""
    total = number_of(gpu, "fb_memory_usage/total", int)
    used = number_of(gpu, "fb_memory_usage/used", int)
    ecc_node = gpu.find("ecc_errors")
    remap = gpu.find("remapped_rows")
    remapped = {}
    if remap is not None and text_of(gpu, "remapped_rows") is None and len(remap):
        remapped = dict(
            correctable=number_of(remap, "remapped_row_corr", int),
            uncorrectable=number_of(remap, "remapped_row_unc", int),
            pending=yes_no(remap, "remapped_row_pending"),
            failure=yes_no(remap, "remapped_row_failure"),
        )
    else:
        remapped = dict(correctable=None, uncorrectable=None, pending=None, failure=None)
    retired = gpu.find("retired_pages")
    return dict(
        index=index,
        state="ok",
        error=None,
        name=text_of(gpu, "product_name"),
        uuid=text_of(gpu, "uuid"),
        serial=text_of(gpu, "serial"),
        pci_bus_id=text_of(gpu, "pci/pci_bus_id") or (gpu.get("id") or None),
        vbios_version=text_of(gpu, "vbios_version"),
        temperature_c=number_of(gpu, "temperature/gpu_temp", int),
        memory_temperature_c=number_of(gpu, "temperature/memory_temp", int),
        temperature_slowdown_c=number_of(gpu, "temperature/gpu_temp_slow_threshold", int),
        temperature_shutdown_c=number_of(gpu, "temperature/gpu_temp_max_threshold", int),
        power_draw_w=first_number(gpu, (
            "power_readings/power_draw", "gpu_power_readings/power_draw",
            "gpu_power_readings/average_power_draw", "gpu_power_readings/instant_power_draw")),
        power_limit_w=first_number(gpu, (
            "power_readings/enforced_power_limit", "gpu_power_readings/current_power_limit",
            "power_readings/power_limit")),
        power_default_limit_w=first_number(gpu, ("power_readings/default_power_limit", "gpu_power_readings/default_power_limit")),
        power_max_limit_w=first_number(gpu, ("power_readings/max_power_limit", "gpu_power_readings/max_power_limit")),
        fan_speed_pct=number_of(gpu, "fan_speed", int),
        memory_total_mib=total,
        memory_used_mib=used,
        memory_used_pct=round(100.0 * used / total, 1) if total and used is not None else None,
        utilization_gpu_pct=number_of(gpu, "utilization/gpu_util", int),
        clocks_sm_mhz=number_of(gpu, "clocks/sm_clock", int),
        clocks_mem_mhz=number_of(gpu, "clocks/mem_clock", int),
        throttle_reasons=_throttle(gpu),
        ecc=dict(
            mode_current=_enabled(yes_no(gpu, "ecc_mode/current_ecc")),
            volatile_corrected=_ecc_counts(ecc_node.find("volatile") if ecc_node is not None else None, True),
            volatile_uncorrected=_ecc_counts(ecc_node.find("volatile") if ecc_node is not None else None, False),
            aggregate_corrected=_ecc_counts(ecc_node.find("aggregate") if ecc_node is not None else None, True),
            aggregate_uncorrected=_ecc_counts(ecc_node.find("aggregate") if ecc_node is not None else None, False),
        ),
        retired_pages=dict(
            single_bit=number_of(retired, "multiple_single_bit_retirement/retired_count", int),
            double_bit=number_of(retired, "double_bit_retirement/retired_count", int),
            pending=yes_no(retired, "pending_retirement") if retired is not None else None,
        ),
        remapped_rows=remapped,
        pcie=dict(
            gen_current=number_of(gpu, "pci/pci_gpu_link_info/pcie_gen/current_link_gen", int),
            gen_max=number_of(gpu, "pci/pci_gpu_link_info/pcie_gen/max_link_gen", int),
            width_current=number_of(gpu, "pci/pci_gpu_link_info/link_widths/current_link_width", int),
            width_max=number_of(gpu, "pci/pci_gpu_link_info/link_widths/max_link_width", int),
        ),
        persistence_mode=yes_no(gpu, "persistence_mode"),
        compute_mode=_compute_mode(text_of(gpu, "compute_mode")),
        processes=_processes(gpu),
    )


def _recover(text):
    """Cut a truncated/garbled document after its last complete ``</gpu>`` and close it."""
    end = text.rfind("</gpu>")
    if end < 0:
        return None
    try:
        return ET.fromstring(text[:end + len("</gpu>")] + "\n</nvidia_smi_log>")
    except ET.ParseError:
        return None


def parse_xml(text, include_processes=True):
    """``nvidia-smi -q -x`` output → ``(nvidia_facts, problems)``; problems are strings."""
    problems = []
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        root = _recover(text or "")
        if root is None:
            problems.append("could not read the XML (%s); no GPU section was complete" % exc)
            return dict(present=False, reason="nvidia-smi output could not be read", source="nvidia_smi",
                        driver_version=None, cuda_driver_version=None, nvml_version=None, gpu_count=0, gpus=[]), problems
        problems.append("the XML is truncated or garbled (%s); read the %d complete GPU section(s) before it"
                        % (exc, len(root.findall("gpu"))))
    if root.tag != "nvidia_smi_log":
        problems.append("unexpected XML root <%s>, expected <nvidia_smi_log>" % root.tag)
    gpus = [parse_gpu(node, index) for index, node in enumerate(root.findall("gpu"))]
    if not include_processes:
        for gpu in gpus:
            gpu["processes"] = None
    return dict(
        present=True,
        source="nvidia_smi",
        driver_version=text_of(root, "driver_version"),
        cuda_driver_version=text_of(root, "cuda_version"),
        nvml_version=None,
        gpu_count=len(gpus),
        gpus=gpus,
    ), problems


def lost_gpus_from_stderr(stderr):
    """``Unable to determine the device handle for GPU 0000:3B:00.0: GPU is lost`` lines → list."""
    return [dict(pci_bus_id=m.group(1), error=m.group(2).strip()) for m in _LOST_HANDLE.finditer(stderr or "")]


MISMATCH_PATTERN = re.compile(r"Driver/library version mismatch", re.I)
NO_DRIVER_PATTERN = re.compile(r"couldn't communicate with the NVIDIA driver|Driver Not Loaded|No devices were found", re.I)


def gather(run_command, path, timeout=20, include_processes=True):
    """Run ``nvidia-smi -q -x`` and parse it. Returns ``(nvidia_facts, problems, mismatch)``.

    ``problems`` are warnings (strings naming the command); ``mismatch`` is the tool's message
    when the driver and library versions differ (None otherwise).
    """
    command = "%s -q -x" % path
    try:
        result = _runner.run(run_command, [path] + XML_ARGS, timeout=timeout)
    except _runner.ToolError as exc:
        return absent("%s: %s" % (command, exc), "nvidia_smi"), ["%s: %s" % (command, exc)], None
    said = (result.stdout if "<" not in (result.stdout or "")[:200] else "") + "\n" + (result.stderr or "")
    if MISMATCH_PATTERN.search(said):
        facts = absent("driver/library version mismatch", "nvidia_smi")
        facts["present"] = True
        return facts, [], said.strip().splitlines()[0] if said.strip() else "Driver/library version mismatch"
    if result.rc != 0 and "<nvidia_smi_log" not in (result.stdout or ""):
        if NO_DRIVER_PATTERN.search(said):
            return absent("%s: %s" % (command, said.strip().splitlines()[0]), "nvidia_smi"), [], None
        message = "%s exited %s: %s" % (command, result.rc, said.strip()[:300] or "no output")
        return absent(message, "nvidia_smi"), [message], None
    facts, problems = parse_xml(result.stdout, include_processes=include_processes)
    for lost in lost_gpus_from_stderr(result.stderr):
        facts["gpus"].append(lost_gpu(len(facts["gpus"]), lost["pci_bus_id"], lost["error"]))
        facts["gpu_count"] = len(facts["gpus"])
        facts["present"] = True
        facts.pop("reason", None)
    return facts, ["%s: %s" % (command, p) for p in problems], None
