# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NVIDIA GPU facts through NVML (nvidia-ml-py's ``pynvml``), in the ``gpufleet_gpu.nvidia`` layout.

``gather()`` imports ``pynvml`` lazily and needs no Ansible, so a plain script can call it.
Each reading is one NVML call; ``NOT_SUPPORTED`` and friends give ``None`` for that key only.
``GPU is lost`` / ``Unknown Error`` on a GPU mark that GPU ``state: lost``; the others still
report. The memory junction temperature comes from the field-value API (``NVML_FI_DEV_MEMORY_TEMP``)
and each field's own return code decides whether the value is real (consumer cards answer the
call but not the field; their ``0`` is not a temperature).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.gpu_shapes import lost_gpu
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.gpu_shapes import nvidia_absent as absent

# Bit of each clock event reason (nvmlClocksEventReason*), in the order of THROTTLE_REASONS.
THROTTLE_BITS = (
    ("gpu_idle", 0x1), ("applications_clocks_setting", 0x2), ("sw_power_cap", 0x4), ("hw_slowdown", 0x8),
    ("sync_boost", 0x10), ("sw_thermal_slowdown", 0x20), ("hw_thermal_slowdown", 0x40),
    ("hw_power_brake_slowdown", 0x80), ("display_clocks_setting", 0x100),
)
COMPUTE_MODES = {0: "default", 1: "exclusive_thread", 2: "prohibited", 3: "exclusive_process"}
MIB = 1024 * 1024

# NVML return codes (nvml.h), so that this file does not need pynvml to name them.
SUCCESS = 0
ERROR_DRIVER_NOT_LOADED = 9
ERROR_LIBRARY_NOT_FOUND = 12
ERROR_FUNCTION_NOT_FOUND = 13
ERROR_GPU_IS_LOST = 15
ERROR_LIB_RM_VERSION_MISMATCH = 18
ERROR_UNKNOWN = 999
LOST_ERRORS = (ERROR_GPU_IS_LOST, ERROR_UNKNOWN)
# Reasons of an NVML that is simply not installed (as opposed to one that is there and failed).
NO_PYNVML = "nvidia-ml-py (import pynvml) is not installed"
NO_LIBRARY = "NVML library libnvidia-ml.so.1 not found (no NVIDIA driver installed)"


class _GpuLost(Exception):
    def __init__(self, error):
        super(_GpuLost, self).__init__(error)
        self.error = error


def _describe(nvml, exc):
    try:
        return "%s (NVML error %s)" % (exc, exc.value)
    except Exception:  # pylint: disable=broad-except
        return "NVML error %s" % getattr(exc, "value", "?")


def throttle_names(mask):
    """Bit mask of clock event reasons → list of snake_case names (known bits only)."""
    return [name for name, bit in THROTTLE_BITS if mask & bit]


def cuda_version_string(value):
    """12040 → '12.4' (NVML's CUDA driver version integer)."""
    if value is None or value <= 0:
        return None
    return "%d.%d" % (value // 1000, (value % 1000) // 10)


def _field_value(nvml, field):
    if field.nvmlReturn != SUCCESS:
        return None
    kind = field.valueType
    value = field.value
    return {0: value.dVal, 1: value.uiVal, 2: value.ulVal, 3: value.ullVal, 4: value.sllVal,
            5: value.siVal, 6: value.usVal}.get(kind)


class _Reader:
    """Calls NVML for one GPU: None for unsupported readings, _GpuLost for a lost GPU."""

    def __init__(self, nvml, handle):
        self.nvml = nvml
        self.handle = handle

    def get(self, name, *args):
        func = getattr(self.nvml, name, None)
        if func is None:
            return None
        try:
            return func(self.handle, *args)
        except self.nvml.NVMLError as exc:
            if exc.value in LOST_ERRORS:
                raise _GpuLost(_describe(self.nvml, exc))
            return None

    def first(self, names, *args):
        """First of several versions of a call that exists (FunctionNotFound falls through)."""
        for name in names:
            func = getattr(self.nvml, name, None)
            if func is None:
                continue
            try:
                return func(self.handle, *args)
            except self.nvml.NVMLError as exc:
                if exc.value in LOST_ERRORS:
                    raise _GpuLost(_describe(self.nvml, exc))
                if exc.value == ERROR_FUNCTION_NOT_FOUND:
                    continue
                return None
        return None


def _number(value, scale=1, digits=None):
    if value is None:
        return None
    result = value / scale if scale != 1 else value
    return round(result, digits) if digits is not None else result


def read_gpu(nvml, index, include_processes=True):
    """One GPU → the GPU dict, or a lost GPU entry."""
    try:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
    except nvml.NVMLError as exc:
        return lost_gpu(index, None, _describe(nvml, exc))
    read = _Reader(nvml, handle)
    pci = None
    try:
        pci = read.get("nvmlDeviceGetPciInfo")
        bus_id = pci.busId if pci is not None else None
        if isinstance(bus_id, bytes):
            bus_id = bus_id.decode("ascii", "replace")
        return _read_gpu(nvml, read, index, bus_id or None, include_processes)
    except _GpuLost as lost:
        bus_id = getattr(pci, "busId", None)
        if isinstance(bus_id, bytes):
            bus_id = bus_id.decode("ascii", "replace")
        return lost_gpu(index, bus_id or None, lost.error)


def _read_gpu(nvml, read, index, bus_id, include_processes):
    memory = read.first(("nvmlDeviceGetMemoryInfo",), getattr(nvml, "nvmlMemory_v2", None))
    if memory is None:
        memory = read.get("nvmlDeviceGetMemoryInfo")
    total = memory.total // MIB if memory is not None else None
    used = memory.used // MIB if memory is not None else None
    fields = read.get("nvmlDeviceGetFieldValues", [nvml.NVML_FI_DEV_MEMORY_TEMP])
    memory_temp = _field_value(nvml, fields[0]) if fields is not None else None
    reasons = read.first(("nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"))
    ecc_mode = read.get("nvmlDeviceGetEccMode")
    ecc_on = ecc_mode is not None and ecc_mode[0] == 1
    constraints = read.get("nvmlDeviceGetPowerManagementLimitConstraints")
    remapped = read.get("nvmlDeviceGetRemappedRows")
    util = read.get("nvmlDeviceGetUtilizationRates")
    persistence = read.get("nvmlDeviceGetPersistenceMode")
    compute = read.get("nvmlDeviceGetComputeMode")
    pending_pages = read.get("nvmlDeviceGetRetiredPagesPendingStatus")
    single = read.get("nvmlDeviceGetRetiredPages", 0)
    double = read.get("nvmlDeviceGetRetiredPages", 1)

    def ecc_count(error_type, counter):
        if not ecc_on:
            return None
        return read.get("nvmlDeviceGetTotalEccErrors", error_type, counter)

    return dict(
        index=index,
        state="ok",
        error=None,
        name=read.get("nvmlDeviceGetName"),
        uuid=read.get("nvmlDeviceGetUUID"),
        serial=read.get("nvmlDeviceGetSerial") or None,
        pci_bus_id=bus_id,
        vbios_version=read.get("nvmlDeviceGetVbiosVersion") or None,
        temperature_c=read.get("nvmlDeviceGetTemperature", 0),
        memory_temperature_c=memory_temp,
        temperature_slowdown_c=read.get("nvmlDeviceGetTemperatureThreshold", 1),
        temperature_shutdown_c=read.get("nvmlDeviceGetTemperatureThreshold", 0),
        power_draw_w=_number(read.get("nvmlDeviceGetPowerUsage"), 1000.0, 2),
        power_limit_w=_number(read.get("nvmlDeviceGetEnforcedPowerLimit"), 1000.0, 2),
        power_default_limit_w=_number(read.get("nvmlDeviceGetPowerManagementDefaultLimit"), 1000.0, 2),
        power_max_limit_w=_number(constraints[1], 1000.0, 2) if constraints else None,
        fan_speed_pct=read.get("nvmlDeviceGetFanSpeed"),
        memory_total_mib=total,
        memory_used_mib=used,
        memory_used_pct=round(100.0 * used / total, 1) if total and used is not None else None,
        utilization_gpu_pct=util.gpu if util is not None else None,
        clocks_sm_mhz=read.get("nvmlDeviceGetClockInfo", 1),
        clocks_mem_mhz=read.get("nvmlDeviceGetClockInfo", 2),
        throttle_reasons=throttle_names(reasons) if reasons is not None else None,
        ecc=dict(
            mode_current=None if ecc_mode is None else ("enabled" if ecc_on else "disabled"),
            volatile_corrected=ecc_count(0, 0),
            volatile_uncorrected=ecc_count(1, 0),
            aggregate_corrected=ecc_count(0, 1),
            aggregate_uncorrected=ecc_count(1, 1),
        ),
        retired_pages=dict(
            single_bit=len(single) if single is not None else None,
            double_bit=len(double) if double is not None else None,
            pending=None if pending_pages is None else bool(pending_pages),
        ),
        remapped_rows=dict(
            correctable=remapped[0] if remapped else None,
            uncorrectable=remapped[1] if remapped else None,
            pending=bool(remapped[2]) if remapped else None,
            failure=bool(remapped[3]) if remapped else None,
        ),
        pcie=dict(
            gen_current=read.get("nvmlDeviceGetCurrPcieLinkGeneration"),
            gen_max=read.get("nvmlDeviceGetMaxPcieLinkGeneration"),
            width_current=read.get("nvmlDeviceGetCurrPcieLinkWidth"),
            width_max=read.get("nvmlDeviceGetMaxPcieLinkWidth"),
        ),
        persistence_mode=None if persistence is None else bool(persistence),
        compute_mode=COMPUTE_MODES.get(compute) if compute is not None else None,
        processes=_processes(nvml, read) if include_processes else None,
    )


def _processes(nvml, read):
    seen = {}
    for name in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
        for proc in read.first((name + "_v3", name + "_v2", name)) or []:
            if proc.pid in seen:
                continue
            try:
                proc_name = nvml.nvmlSystemGetProcessName(proc.pid) or None
            except nvml.NVMLError:
                proc_name = None
            used = getattr(proc, "usedGpuMemory", None)
            seen[proc.pid] = dict(pid=proc.pid, name=proc_name, used_memory_mib=used // MIB if used is not None else None)
    return [seen[pid] for pid in sorted(seen)]


def _system(nvml, name):
    func = getattr(nvml, name, None)
    if func is None:
        return None
    try:
        return func()
    except nvml.NVMLError:
        return None


def not_installed(facts):
    """Whether NVML facts say it is simply not installed here (no nvidia-ml-py, no libnvidia-ml), not that it failed."""
    reason = facts.get("reason") or ""
    return not facts.get("present") and (reason.startswith(NO_PYNVML) or reason == NO_LIBRARY)


def gather(include_processes=True, nvml=None):
    """Read every NVIDIA GPU through NVML.

    Returns ``(facts, problems, mismatch, fall_back)``: ``mismatch`` is a description when NVML
    reports a driver/library version mismatch; ``fall_back`` is True when NVML is not usable here
    (no nvidia-ml-py, no libnvidia-ml, a function this driver lacks) and nvidia-smi may do better.
    """
    if nvml is None:
        try:
            import pynvml as nvml  # pylint: disable=import-outside-toplevel
        except ImportError as exc:
            return absent("%s: %s" % (NO_PYNVML, exc), "nvml"), [], None, True
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        code = getattr(exc, "value", None)
        if code == ERROR_LIB_RM_VERSION_MISMATCH:
            facts = absent("driver/library version mismatch", "nvml")
            facts["present"] = True
            return facts, [], _describe(nvml, exc), False
        if code == ERROR_LIBRARY_NOT_FOUND:
            return absent(NO_LIBRARY, "nvml"), [], None, True
        if code == ERROR_DRIVER_NOT_LOADED:
            return absent("NVIDIA driver not loaded (NVML: %s)" % exc, "nvml"), [], None, True
        if code == ERROR_FUNCTION_NOT_FOUND:
            return absent("NVML of this driver is too old for nvidia-ml-py (%s)" % exc, "nvml"), [], None, True
        return absent("NVML could not start: %s" % _describe(nvml, exc), "nvml"), ["NVML init: %s" % _describe(nvml, exc)], None, True
    problems = []
    try:
        try:
            count = nvml.nvmlDeviceGetCount()
        except nvml.NVMLError as exc:
            return absent("NVML could not count the GPUs: %s" % _describe(nvml, exc), "nvml"), \
                ["NVML nvmlDeviceGetCount: %s" % _describe(nvml, exc)], None, True
        gpus = [read_gpu(nvml, index, include_processes) for index in range(count)]
        facts = dict(
            present=True,
            source="nvml",
            driver_version=_system(nvml, "nvmlSystemGetDriverVersion"),
            cuda_driver_version=cuda_version_string(
                _system(nvml, "nvmlSystemGetCudaDriverVersion_v2") or _system(nvml, "nvmlSystemGetCudaDriverVersion")),
            nvml_version=_system(nvml, "nvmlSystemGetNVMLVersion"),
            gpu_count=len(gpus),
            gpus=gpus,
        )
    finally:
        try:
            nvml.nvmlShutdown()
        except nvml.NVMLError:
            pass
    return facts, problems, None, False
