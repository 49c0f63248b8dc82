# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Health checks over the GPU facts (NVIDIA and AMD), and the GPU section of the summary.

Pure functions: GPU dicts in, check dicts out. Thresholds come from the guides' daily glance and
are overridable through ``gpu_facts``' ``thresholds`` option.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import level_check, make_check

DEFAULT_THRESHOLDS = {
    "temperature_warn_c": 85,
    "temperature_crit_c": 90,
    "memory_temperature_warn_c": 95,
    "memory_temperature_crit_c": 105,
    "vram_used_warn_pct": 95,
    "fan_stopped_above_c": 60,
}

# Active clock-event reasons that mean the GPU is slowed down by heat or by the power brake.
THERMAL_OR_BRAKE_THROTTLES = ("hw_slowdown", "hw_thermal_slowdown", "sw_thermal_slowdown", "hw_power_brake_slowdown")


def merged_thresholds(overrides=None):
    """Defaults updated by the overrides that are not None; unknown keys raise ValueError."""
    result = dict(DEFAULT_THRESHOLDS)
    for key, value in (overrides or {}).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ValueError("unknown GPU threshold %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_THRESHOLDS))))
        if value is not None:
            result[key] = value
    return result


def validate_thresholds(thresholds):
    """Return a list of problems (empty when the warn/crit pairs are ordered)."""
    problems = []
    for name in ("temperature", "memory_temperature"):
        warn, crit = thresholds["%s_warn_c" % name], thresholds["%s_crit_c" % name]
        if crit < warn:
            problems.append("%s_crit_c (%s) must not be below %s_warn_c (%s)" % (name, crit, name, warn))
    return problems


def driver_library_mismatch_check(vendor_detail):
    return make_check(
        "driver_library_mismatch", "crit", vendor_detail, None,
        "NVIDIA driver/library version mismatch (%s): the loaded kernel module and the userspace driver "
        "differ, usually after a driver update without a reboot; reboot the host or reload the nvidia "
        "kernel modules (stop GPU workloads, rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia, modprobe nvidia)"
        % vendor_detail, vendor="nvidia")


def tool_output_check(command, problem, vendor):
    return make_check(
        "tool_output", "warn", None, None,
        "%s: %s; the rest of its output is reported. Run the command by hand to see it, and update the "
        "driver tools if it keeps happening" % (command, problem), vendor=vendor)


def nvidia_gpu_checks(gpu, thresholds):
    """Checks of one NVIDIA GPU dict (see _nvidia_smi/_nvml)."""
    ident = dict(gpu=gpu.get("index"), vendor="nvidia")
    label = "GPU %s (%s)" % (gpu.get("index"), gpu.get("name") or gpu.get("pci_bus_id") or "unknown")
    if gpu.get("state") == "lost":
        return [make_check(
            "gpu_lost", "crit", gpu.get("error"), None,
            "%s is lost (%s): the driver cannot talk to it; drain the host, collect nvidia-bug-report.sh, "
            "then reset the GPU (nvidia-smi -r) or reboot, and open a hardware case if it recurs"
            % (label, gpu.get("error") or "GPU is lost"), **ident)]
    checks = [
        level_check("gpu_temperature", gpu.get("temperature_c"), thresholds["temperature_warn_c"],
                    thresholds["temperature_crit_c"], unit=" C", what="%s core temperature" % label,
                    fix="check airflow, fans and dust, and the room temperature", **ident),
        level_check("memory_temperature", gpu.get("memory_temperature_c"), thresholds["memory_temperature_warn_c"],
                    thresholds["memory_temperature_crit_c"], unit=" C", what="%s memory junction temperature" % label,
                    fix="improve cooling (thermal pads, airflow) or lower the power limit", **ident),
        level_check("vram_used", gpu.get("memory_used_pct"), thresholds["vram_used_warn_pct"], None, unit=" %",
                    what="%s VRAM use" % label, fix="find the process holding the memory (nvidia-smi) and stop or resize it",
                    **ident),
    ]
    checks.append(_ecc_check(label, _max_known(
        (gpu.get("ecc") or {}).get("volatile_uncorrected"), (gpu.get("ecc") or {}).get("aggregate_uncorrected")), ident))
    checks.append(_remap_check(label, gpu.get("remapped_rows") or {}, ident))
    checks.append(_retired_check(label, gpu.get("retired_pages") or {}, ident))
    checks.append(_throttle_check(label, gpu.get("throttle_reasons"), ident))
    checks.append(_fan_check(label, gpu.get("fan_speed_pct"), gpu.get("temperature_c"), thresholds, ident))
    return checks


def amd_gpu_checks(gpu, thresholds):
    """Checks of one AMD GPU dict (see _amd_smi)."""
    ident = dict(gpu=gpu.get("index"), vendor="amd")
    label = "AMD GPU %s (%s)" % (gpu.get("index"), gpu.get("name") or "unknown")
    return [
        level_check("gpu_temperature", gpu.get("temperature_edge_c"), thresholds["temperature_warn_c"],
                    thresholds["temperature_crit_c"], unit=" C", what="%s edge temperature" % label,
                    fix="check airflow, fans and dust, and the room temperature", **ident),
        level_check("memory_temperature", gpu.get("temperature_memory_c"), thresholds["memory_temperature_warn_c"],
                    thresholds["memory_temperature_crit_c"], unit=" C", what="%s memory temperature" % label,
                    fix="improve cooling or lower the power cap", **ident),
        level_check("vram_used", gpu.get("vram_used_pct"), thresholds["vram_used_warn_pct"], None, unit=" %",
                    what="%s VRAM use" % label, fix="find the process holding the memory (amd-smi process) and stop or resize it",
                    **ident),
        _ecc_check(label, gpu.get("ecc_uncorrectable"), ident),
        _fan_check(label, gpu.get("fan_speed_pct"), gpu.get("temperature_edge_c"), thresholds, ident),
    ]


def _max_known(*values):
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _ecc_check(label, uncorrectable, ident):
    if uncorrectable is None:
        return make_check("ecc_uncorrectable", "ok", None, 0, "%s: uncorrectable ECC errors not reported" % label, **ident)
    if uncorrectable > 0:
        return make_check("ecc_uncorrectable", "crit", uncorrectable, 0,
                          "%s has %s uncorrectable ECC error(s): drain its jobs, check dmesg for Xid 48/63/64/94/95, "
                          "reset the GPU and open a hardware case if the count grows" % (label, uncorrectable), **ident)
    return make_check("ecc_uncorrectable", "ok", 0, 0, "%s: no uncorrectable ECC errors" % label, **ident)


def _remap_check(label, rows, ident):
    if rows.get("failure"):
        return make_check("remapped_rows", "crit", "failure", None,
                          "%s: row remapping failed (no spare rows left): the GPU needs an RMA; drain it" % label, **ident)
    if rows.get("pending"):
        return make_check("remapped_rows", "crit", "pending", None,
                          "%s has a pending row remap: drain the GPU and reset it (nvidia-smi -r) or reboot so the "
                          "remap takes effect" % label, **ident)
    value = rows.get("uncorrectable")
    return make_check("remapped_rows", "ok", value, None,
                      "%s: no pending or failed row remap" % label if rows else "%s: row remapping not reported" % label,
                      **ident)


def _retired_check(label, pages, ident):
    if pages.get("pending"):
        return make_check("retired_pages_pending", "warn", True, None,
                          "%s has retired pages pending: reboot or reset the GPU at the next maintenance window "
                          "so the pages are blacklisted" % label, **ident)
    return make_check("retired_pages_pending", "ok", pages.get("pending"), None,
                      "%s: no retired pages pending" % label if pages.get("pending") is not None
                      else "%s: page retirement not reported" % label, **ident)


def _throttle_check(label, reasons, ident):
    active = [r for r in (reasons or []) if r in THERMAL_OR_BRAKE_THROTTLES]
    if active:
        return make_check("throttle", "warn", active, None,
                          "%s is throttled (%s): check cooling and the PSU/power-brake signal, and look at "
                          "nvidia-smi -q -d PERFORMANCE" % (label, ", ".join(active)), **ident)
    if reasons is None:
        return make_check("throttle", "ok", None, None, "%s: clock event reasons not reported" % label, **ident)
    return make_check("throttle", "ok", [], None, "%s: no thermal or power-brake throttling" % label, **ident)


def _fan_check(label, fan, temperature, thresholds, ident):
    limit = thresholds["fan_stopped_above_c"]
    if fan == 0 and temperature is not None and temperature > limit:
        return make_check("fan_stopped", "warn", fan, limit,
                          "%s fan is at 0 %% while the GPU is at %s C (above %s C): check the fan and its cable, "
                          "and the fan curve" % (label, temperature, limit), **ident)
    return make_check("fan_stopped", "ok", fan, limit,
                      "%s fan at %s" % (label, "n/a" if fan is None else "%s %%" % fan), **ident)


def gpu_summary_lines(fact):
    """Summary lines of ``gpufleet_gpu`` (the GPU section of the daily summary)."""
    lines = []
    nvidia = fact.get("nvidia") or {}
    amd = fact.get("amd") or {}
    if not nvidia.get("present") and not amd.get("present"):
        reasons = [r for r in (nvidia.get("reason"), amd.get("reason")) if r]
        lines.append("gpu: no NVIDIA/AMD GPU (%s)" % ("; ".join(reasons) if reasons else "none found"))
    if nvidia.get("present"):
        lines.append("gpu nvidia: %s GPU(s), driver %s, CUDA %s (via %s)" % (
            nvidia.get("gpu_count"), nvidia.get("driver_version") or "n/a",
            nvidia.get("cuda_driver_version") or "n/a", nvidia.get("source")))
        for gpu in nvidia.get("gpus") or []:
            if gpu.get("state") == "lost":
                lines.append("gpu %s: LOST (%s)" % (gpu.get("index"), gpu.get("error")))
                continue
            lines.append("gpu %s %s: %s, mem %s, %s, VRAM %s" % (
                gpu.get("index"), gpu.get("name"), _unit(gpu.get("temperature_c"), " C"),
                _unit(gpu.get("memory_temperature_c"), " C"), _unit(gpu.get("power_draw_w"), " W"),
                _unit(gpu.get("memory_used_pct"), " %")))
    if amd.get("present"):
        lines.append("gpu amd: %s GPU(s), driver %s (via %s)" % (
            len(amd.get("gpus") or []), amd.get("driver_version") or "n/a", amd.get("source")))
        for gpu in amd.get("gpus") or []:
            lines.append("gpu amd %s %s: edge %s, junction %s, %s, VRAM %s" % (
                gpu.get("index"), gpu.get("name"), _unit(gpu.get("temperature_edge_c"), " C"),
                _unit(gpu.get("temperature_junction_c"), " C"), _unit(gpu.get("power_w"), " W"),
                _unit(gpu.get("vram_used_pct"), " %")))
    return lines


def _unit(value, unit):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = ("%.1f" % value).rstrip("0").rstrip(".")
    return "%s%s" % (value, unit)
