# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gpu area's checks: the table (data) and the verdicts over the NVIDIA and AMD GPU readings.

Thresholds come from the guides' daily glance and are overridable through the ``thresholds`` option.
Pure functions: GPU dicts in, check results out. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable, fmt_number

_GPU = ("gpu",)

CHECKS = CheckTable(
    Check("gpu_temperature", "Core (NVIDIA) or edge (AMD) temperature of each GPU.", subject=_GPU,
          thresholds=(("temperature_warn_c", 85), ("temperature_crit_c", 90)), unit=" C",
          fix="check airflow, fans and dust, and the room temperature",
          reads=("nvidia.gpus[].temperature_c", "amd.gpus[].temperature_edge_c")),
    Check("memory_temperature", "Memory junction temperature of each GPU (null where the card has no sensor).",
          subject=_GPU, thresholds=(("memory_temperature_warn_c", 95), ("memory_temperature_crit_c", 105)), unit=" C",
          fix="improve cooling (thermal pads, airflow) or lower the power limit",
          reads=("nvidia.gpus[].memory_temperature_c", "amd.gpus[].temperature_memory_c")),
    Check("vram_used", "VRAM in use as a share of each GPU's memory.", subject=_GPU,
          thresholds=(("vram_used_warn_pct", 95),), unit=" %",
          fix="find the process holding the memory (nvidia-smi) and stop or resize it",
          reads=("nvidia.gpus[].memory_used_pct", "amd.gpus[].vram_used_pct")),
    Check("ecc_uncorrectable", "Uncorrectable ECC errors of each GPU (volatile, else aggregate).", subject=_GPU,
          fix="drain its jobs, check dmesg for Xid 48/63/64/94/95, reset the GPU and open a hardware case if the "
              "count grows",
          reads=("nvidia.gpus[].ecc.volatile_uncorrected", "nvidia.gpus[].ecc.aggregate_uncorrected",
                 "amd.gpus[].ecc_uncorrectable")),
    Check("remapped_rows", "Pending or failed row remapping of each NVIDIA GPU (Ampere and later).", subject=_GPU,
          fix="drain the GPU and reset it (nvidia-smi -r) or reboot so the remap takes effect"),
    Check("retired_pages_pending", "Retired memory pages waiting for a reset (NVIDIA, before Ampere).", subject=_GPU,
          fix="reboot or reset the GPU at the next maintenance window so the pages are blacklisted"),
    Check("throttle", "Thermal slowdown among a GPU's active clock event reasons (the power brake is power_brake).",
          subject=_GPU,
          fix="check cooling (airflow, fans, dust, the room temperature) and look at nvidia-smi -q -d PERFORMANCE"),
    Check("power_brake", "The hardware power brake among a GPU's active clock event reasons "
                         "(hw_power_brake_slowdown): an external signal, usually from the power supply, halves the "
                         "clocks.", subject=_GPU,
          fix="the PSU or a power connector may be drooping under load: check the PSU's capacity against the GPUs' "
              "power limits (psu_load), reseat the GPU power cables (no daisy-chained PCIe leads, 12VHPWR fully "
              "seated), and lower the power limit (nvidia-smi -pl) until it is fixed"),
    Check("fan_stopped", "A fan at 0 % while its GPU is hot.", subject=_GPU,
          thresholds=(("fan_stopped_above_c", 60),),
          fix="check the fan and its cable, and the fan curve",
          reads=("nvidia.gpus[].fan_speed_pct", "amd.gpus[].fan_speed_pct")),
    Check("gpu_lost", "A GPU the driver can no longer talk to (GPU is lost, Unknown Error).", subject=_GPU,
          fix="the driver cannot talk to it; drain the host, collect nvidia-bug-report.sh, then reset the GPU "
              "(nvidia-smi -r) or reboot, and open a hardware case if it recurs"),
    Check("driver_library_mismatch", "The loaded NVIDIA kernel module and the userspace driver differ.",
          fix="the loaded kernel module and the userspace driver differ, usually after a driver update without a "
              "reboot; reboot the host or reload the nvidia kernel modules (stop GPU workloads, rmmod nvidia_uvm "
              "nvidia_drm nvidia_modeset nvidia, modprobe nvidia)"),
    Check("tool_output", "Output of a GPU tool that could not be read whole (garbled, truncated, the tool killed).",
          fix="Run the command by hand to see it, and update the driver tools if it keeps happening"),
    Check("psu_load", "Power all GPUs draw as a share of the PSU rating (only where psu_watts is set), and their "
                      "power limits against it.",
          thresholds=(("psu_draw_warn_pct", 80), ("psu_draw_crit_pct", 100)), unit=" %",
          fix="PSU capacitors drift and 600 W+ transients trip an overloaded PSU (intermittent shutdowns): lower the "
              "GPUs' power limits (nvidia-smi -pl, amd-smi set --power-cap) or fit a bigger PSU",
          reads=("nvidia.gpus[].power_draw_w", "amd.gpus[].power_w")),
    Check("gpu_present", "Whether every NVIDIA/AMD GPU on the PCI bus has its driver loaded and is read by its "
                         "tools (none on the bus and no tooling is a CPU-only host).",
          fix="the GPU's kernel module is not loaded, usually after a kernel update whose DKMS build failed or "
              "never ran: check dkms status and dmesg, install the headers of the running kernel "
              "(linux-headers-$(uname -r)) and rebuild the module (dkms autoinstall) or reinstall the driver "
              "package, then load it (modprobe nvidia, modprobe amdgpu) or reboot"),
)

# The fix when the driver is loaded but no tool could read the GPU, and when a tool failed with no GPU on the bus.
FIX_NO_TOOLS = ("install the GPU tools on the host: nvidia-ml-py (or the driver's nvidia-smi) for NVIDIA, amd-smi "
                "or rocm-smi for AMD")
FIX_NO_GPU_ON_BUS = ("a GPU tool is installed but no GPU answered and none is on the PCI bus: look for a GPU that "
                     "fell off the bus (dmesg: NVRM, Xid 79, amdgpu), reseat or power-cycle it; on a host without a "
                     "GPU, remove the driver packages or set source: none")
FIX_NO_BUS = "read the GPUs where /sys is mounted (the root option), or set source: none on a host without a GPU"

# Active clock-event reasons that mean the GPU is slowed down by heat (check throttle). hw_slowdown is engaged by
# heat and by the power brake alike: it counts as thermal unless the power brake alone explains it.
THERMAL_THROTTLES = ("hw_slowdown", "hw_thermal_slowdown", "sw_thermal_slowdown")
# The external power brake (check power_brake): the PSU's signal, not heat.
POWER_BRAKE = "hw_power_brake_slowdown"


def driver_library_mismatch_check(vendor_detail):
    return CHECKS["driver_library_mismatch"].result(
        "crit", vendor_detail, None, "NVIDIA driver/library version mismatch (%s)" % vendor_detail, vendor="nvidia")


def tool_output_check(command, problem, vendor):
    return CHECKS["tool_output"].result(
        "warn", None, None, "%s: %s; the rest of its output is reported. %s" % (command, problem, CHECKS["tool_output"].fix),
        fix="", vendor=vendor)


def nvidia_gpu_checks(gpu, thresholds):
    """Checks of one NVIDIA GPU dict (see ``_tools/nvidia_smi.py`` and ``_tools/nvml.py``)."""
    subject = {"gpu": gpu.get("index")}
    label = "GPU %s (%s)" % (gpu.get("index"), gpu.get("name") or gpu.get("pci_bus_id") or "unknown")
    if gpu.get("state") == "lost":
        return [CHECKS["gpu_lost"].result("crit", gpu.get("error"), None,
                                          "%s is lost (%s)" % (label, gpu.get("error") or "GPU is lost"),
                                          subject=subject, vendor="nvidia")]
    ecc = gpu.get("ecc") or {}
    return _judged([
        CHECKS["gpu_temperature"].level(gpu.get("temperature_c"), thresholds, "%s core temperature" % label,
                                        subject=subject, vendor="nvidia"),
        CHECKS["memory_temperature"].level(gpu.get("memory_temperature_c"), thresholds,
                                           "%s memory junction temperature" % label, subject=subject, vendor="nvidia",
                                           absent="omit"),
        CHECKS["vram_used"].level(gpu.get("memory_used_pct"), thresholds, "%s VRAM use" % label,
                                  subject=subject, vendor="nvidia"),
        _ecc_check(label, _max_known(ecc.get("volatile_uncorrected"), ecc.get("aggregate_uncorrected")), subject, "nvidia"),
        _remap_check(label, gpu.get("remapped_rows") or {}, subject),
        _retired_check(label, gpu.get("retired_pages") or {}, subject),
        _throttle_check(label, gpu.get("throttle_reasons"), subject),
        _power_brake_check(label, gpu.get("throttle_reasons"), subject),
        _fan_check(label, gpu.get("fan_speed_pct"), gpu.get("temperature_c"), thresholds, subject, "nvidia"),
    ])


def amd_gpu_checks(gpu, thresholds):
    """Checks of one AMD GPU dict (see ``_tools/amd_smi.py``)."""
    subject = {"gpu": gpu.get("index")}
    label = "AMD GPU %s (%s)" % (gpu.get("index"), gpu.get("name") or "unknown")
    return _judged([
        CHECKS["gpu_temperature"].level(gpu.get("temperature_edge_c"), thresholds, "%s edge temperature" % label,
                                        subject=subject, vendor="amd"),
        CHECKS["memory_temperature"].level(gpu.get("temperature_memory_c"), thresholds,
                                           "%s memory temperature" % label, subject=subject, vendor="amd",
                                           fix="improve cooling or lower the power cap", absent="omit"),
        CHECKS["vram_used"].level(gpu.get("vram_used_pct"), thresholds, "%s VRAM use" % label, subject=subject,
                                  vendor="amd", fix="find the process holding the memory (amd-smi process) and stop or resize it"),
        _ecc_check(label, gpu.get("ecc_uncorrectable"), subject, "amd"),
        _fan_check(label, gpu.get("fan_speed_pct"), gpu.get("temperature_edge_c"), thresholds, subject, "amd"),
    ])


def _judged(results):
    """The verdicts, without the checks that had nothing to judge (None: a reading this card does not have)."""
    return [result for result in results if result is not None]


def _max_known(*values):
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _ecc_check(label, uncorrectable, subject, vendor):
    check = CHECKS["ecc_uncorrectable"]
    if uncorrectable is None:  # no ECC on this card (or ECC off): nothing to judge, no verdict
        return None
    if uncorrectable > 0:
        return check.result("crit", uncorrectable, 0, "%s has %s uncorrectable ECC error(s)" % (label, uncorrectable),
                            subject=subject, vendor=vendor)
    return check.result("ok", 0, 0, "%s: no uncorrectable ECC errors" % label, subject=subject, vendor=vendor)


def _remap_check(label, rows, subject):
    check = CHECKS["remapped_rows"]
    if rows.get("failure"):
        return check.result("crit", "failure", None, "%s: row remapping failed (no spare rows left)" % label,
                            subject=subject, fix="the GPU needs an RMA; drain it", vendor="nvidia")
    if rows.get("pending"):
        return check.result("crit", "pending", None, "%s has a pending row remap" % label, subject=subject, vendor="nvidia")
    if not rows:  # before Ampere, or not reported: no verdict
        return None
    return check.result("ok", rows.get("uncorrectable"), None, "%s: no pending or failed row remap" % label,
                        subject=subject, vendor="nvidia")


def _retired_check(label, pages, subject):
    check = CHECKS["retired_pages_pending"]
    if pages.get("pending"):
        return check.result("warn", True, None, "%s has retired pages pending" % label, subject=subject, vendor="nvidia")
    if pages.get("pending") is None:  # Ampere and later remap rows instead, or not reported: no verdict
        return None
    return check.result("ok", False, None, "%s: no retired pages pending" % label, subject=subject, vendor="nvidia")


FIX_NO_REASONS = "read them by hand (nvidia-smi -q -d PERFORMANCE) and update the driver if they are missing"


def thermal_reasons(reasons):
    """The active reasons that are heat: hw_slowdown counts unless the power brake alone explains it."""
    thermal = [r for r in reasons or [] if r in THERMAL_THROTTLES and r != "hw_slowdown"]
    if "hw_slowdown" in (reasons or []) and (thermal or POWER_BRAKE not in reasons):
        thermal.insert(0, "hw_slowdown")
    return thermal


def _throttle_check(label, reasons, subject):
    check = CHECKS["throttle"]
    active = thermal_reasons(reasons)
    if active == ["hw_slowdown"]:  # heat, or the power brake on a driver that does not list hw_power_brake_slowdown
        return check.result("warn", active, None, "%s is slowed down by hardware (hw_slowdown: heat, or the power brake "
                            "where the driver does not report it apart)" % label, subject=subject, vendor="nvidia",
                            fix="%s; if the GPU is cool, check the PSU and its cables as for power_brake" % check.fix)
    if active:
        return check.result("warn", active, None, "%s is throttled by heat (%s)" % (label, ", ".join(active)),
                            subject=subject, vendor="nvidia")
    if reasons is None:
        return check.unknown("%s: clock event reasons not reported" % label, subject=subject, vendor="nvidia",
                             fix=FIX_NO_REASONS)
    return check.result("ok", [], None, "%s: no thermal throttling" % label, subject=subject, vendor="nvidia")


def _power_brake_check(label, reasons, subject):
    check = CHECKS["power_brake"]
    if reasons is None:
        return check.unknown("%s: clock event reasons not reported" % label, subject=subject, vendor="nvidia",
                             fix=FIX_NO_REASONS)
    if POWER_BRAKE in reasons:
        return check.result("warn", [r for r in reasons if r in (POWER_BRAKE, "hw_slowdown")], None,
                            "%s is slowed by the hardware power brake (%s)" % (label, POWER_BRAKE),
                            subject=subject, vendor="nvidia")
    return check.result("ok", [], None, "%s: power brake not engaged" % label, subject=subject, vendor="nvidia")


def _fan_check(label, fan, temperature, thresholds, subject, vendor):
    check = CHECKS["fan_stopped"]
    limit = thresholds["fan_stopped_above_c"]
    if fan is None:  # a passively cooled card (A100, H100, H200) has no fan to judge
        return None
    if fan == 0 and temperature is not None and temperature > limit:
        return check.result("warn", fan, limit, "%s fan is at 0 %% while the GPU is at %s C (above %s C)"
                            % (label, temperature, limit), subject=subject, vendor=vendor)
    return check.result("ok", fan, limit, "%s fan at %s %%" % (label, fan), subject=subject, vendor=vendor)


def gpu_present_check(data):
    """``gpu_present``: the GPUs on the PCI bus against what the tools reported (None: nothing to say).

    ``crit`` for a GPU on the bus without its vendor's driver ("GPU present, driver not loaded"), when
    no tool reported it; ``unknown`` when nothing was reported and a GPU with its driver loaded could
    not be read, a tool failed (no GPU on the bus), or the bus could not be read; ``ok`` for no GPU on
    the bus and no GPU tooling, or ``source: none``. GPUs handed to VMs (vfio-pci) are not the host's.
    """
    check = CHECKS["gpu_present"]
    nvidia, amd = data.get("nvidia") or {}, data.get("amd") or {}
    reasons = "%s; %s" % (nvidia.get("reason"), amd.get("reason"))
    pci = data.get("pci")
    if pci is None:  # source: none, nothing was looked at
        return None if nvidia.get("present") or amd.get("present") else check.result(
            "ok", False, None, "no NVIDIA/AMD GPU tooling found (%s): normal on a CPU-only host" % reasons)
    missing = parse.unreported(pci["gpus"], {"nvidia": nvidia, "amd": amd})
    no_driver = [g for g in missing if g["state"] == "no_driver"]
    if no_driver:
        failed = data.get("_failed") or {}
        said = [failed.get(vendor) or section.get("reason") for vendor, section in (("nvidia", nvidia), ("amd", amd))
                if (failed.get(vendor) or section.get("reason")) and vendor in set(g["vendor"] for g in no_driver)]
        return check.result("crit", [g["address"] for g in no_driver], None, "GPU present, driver not loaded: %s"
                            % "; ".join([", ".join(parse.describe(g) for g in no_driver)] + said))
    if nvidia.get("present") or amd.get("present"):
        return None
    unread = [g for g in missing if g["state"] == "driver"]
    failed = [text for text in (data.get("_failed") or {}).values() if text]
    if unread:
        return check.unknown("%s on the PCI bus, but no tool could read it (%s)"
                             % (", ".join(parse.describe(g) for g in unread), reasons), fix=FIX_NO_TOOLS)
    if pci["error"]:
        return check.unknown("%s, and no GPU tool reported a GPU (%s)" % (pci["error"], reasons), fix=FIX_NO_BUS)
    if failed:
        return check.unknown("%s; no NVIDIA/AMD GPU is on the PCI bus (%s)" % ("; ".join(failed), pci["path"]),
                             fix=FIX_NO_GPU_ON_BUS)
    passthrough = [g for g in missing if g["state"] == "passthrough"]
    return check.result("ok", False, None, "no NVIDIA/AMD GPU on the PCI bus%s and no GPU tooling found (%s): normal "
                        "on a CPU-only host" % (" for this host (%s)" % ", ".join(parse.describe(g) for g in passthrough)
                                                if passthrough else "", reasons))


def psu_check(nvidia_gpus, amd_gpus, psu_watts, thresholds):
    """``psu_load``: the GPUs' summed draw as a share of ``psu_watts``; their summed power limits must fit too."""
    check = CHECKS["psu_load"]
    gpus = [("GPU %s" % g.get("index"), g.get("power_draw_w"), g.get("power_limit_w")) for g in nvidia_gpus]
    gpus += [("AMD GPU %s" % g.get("index"), g.get("power_w"), g.get("power_cap_w")) for g in amd_gpus]
    if not gpus:
        return None
    unread = [label for label, draw, _limit in gpus if draw is None]
    if unread:
        return check.unknown("power draw not reported for %s" % ", ".join(unread),
                             fix="read it by hand (nvidia-smi -q -d POWER, amd-smi metric --power)")
    draw = round(sum(d for _label, d, _limit in gpus), 1)
    limits = [limit for _label, _draw, limit in gpus]
    limit_sum = round(sum(limits), 1) if None not in limits else None
    what = "GPU power draw of %s W against the %s W PSU" % (fmt_number(draw), psu_watts)
    result = check.level(round(100.0 * draw / psu_watts, 1), thresholds, what)
    if result["status"] == "ok" and limit_sum is not None and limit_sum > psu_watts:
        return check.result("warn", result["value"], psu_watts,
                            "%s is fine now, but the GPUs' power limits add up to %s W, above the PSU's %s W: a load "
                            "spike to the limits would exceed it" % (what, fmt_number(limit_sum), psu_watts))
    return result


def evaluate(data, params):
    """Every check of the gpu area, in the order the fact has always listed them."""
    thresholds = params["thresholds"]
    problems = data.get("_problems") or {}
    nvidia, amd = data.get("nvidia") or {}, data.get("amd") or {}
    checks = [tool_output_check(command, problem, "nvidia") for command, problem in problems.get("nvidia") or ()]
    if data.get("_mismatch"):
        checks.append(driver_library_mismatch_check(data["_mismatch"]))
    checks.extend(tool_output_check(command, problem, "amd") for command, problem in problems.get("amd") or ())
    for gpu in nvidia.get("gpus") or []:
        checks.extend(nvidia_gpu_checks(gpu, thresholds))
    for gpu in amd.get("gpus") or []:
        checks.extend(amd_gpu_checks(gpu, thresholds))
    if params.get("psu_watts"):
        psu = psu_check(nvidia.get("gpus") or [], amd.get("gpus") or [], params["psu_watts"], thresholds)
        if psu is not None:
            checks.append(psu)
    present = gpu_present_check(data)
    if present is not None:
        checks.append(present)
    return checks
