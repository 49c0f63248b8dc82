"""Capture raw GPU facts on a real NVIDIA machine, for fixtures and for checking our parsers.

Run on a GPU box: python3 tests/device/capture_gpu_raw.py OUTDIR (no shebang: ansible-test allows none here)
Writes nvidia-smi XML/text/CSV, driver version files, linker view, and a JSON dump of every NVML
call the collection uses (value or the NVML error name), so a fake-NVML scenario can be built
from a real card. Uses only the standard library and nvidia-ml-py.
"""

import json
import os
import platform
import subprocess
import sys


def sh(argv, name, outdir):
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        text = proc.stdout + (("\n# stderr:\n" + proc.stderr) if proc.stderr else "") + "\n# rc=%d\n" % proc.returncode
    except (OSError, subprocess.TimeoutExpired) as exc:
        text = "# could not run %s: %s\n" % (argv, exc)
    with open(os.path.join(outdir, name), "w") as handle:
        handle.write(text)


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as exc:
        return "# %s" % exc


def nvml_dump():
    import pynvml as n

    def call(fn, *args):
        try:
            value = fn(*args)
        except n.NVMLError as exc:
            return {"error": str(exc), "error_value": getattr(exc, "value", None)}
        except Exception as exc:  # noqa: BLE001 -- capture script: record whatever happened
            return {"exception": repr(exc)}
        return to_json(value)

    def to_json(value):
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        if isinstance(value, bytes):
            return value.decode(errors="replace")
        if isinstance(value, (list, tuple)) or (hasattr(value, "_type_") and hasattr(value, "__len__")):
            return [to_json(v) for v in value]
        if hasattr(value, "_fields_"):
            return {f[0]: to_json(getattr(value, f[0])) for f in value._fields_}
        return repr(value)

    out = {"pynvml_file": n.__file__}
    n.nvmlInit()
    out["driver_version"] = call(n.nvmlSystemGetDriverVersion)
    out["nvml_version"] = call(n.nvmlSystemGetNVMLVersion)
    out["cuda_driver_version"] = call(n.nvmlSystemGetCudaDriverVersion_v2)
    count = n.nvmlDeviceGetCount()
    out["device_count"] = count
    fields = {name: getattr(n, name) for name in dir(n) if name.startswith("NVML_FI_DEV_") and isinstance(getattr(n, name), int)}
    wanted = ["NVML_FI_DEV_MEMORY_TEMP", "NVML_FI_DEV_ECC_CURRENT", "NVML_FI_DEV_RETIRED_SBE", "NVML_FI_DEV_RETIRED_DBE",
              "NVML_FI_DEV_RETIRED_PENDING", "NVML_FI_DEV_REMAPPED_COR", "NVML_FI_DEV_REMAPPED_UNC",
              "NVML_FI_DEV_REMAPPED_PENDING", "NVML_FI_DEV_REMAPPED_FAILURE", "NVML_FI_DEV_PCIE_LINK_GEN_CURRENT"]
    out["devices"] = []
    for index in range(count):
        h = n.nvmlDeviceGetHandleByIndex(index)
        dev = {"index": index}
        for label, fn, args in [
            ("name", n.nvmlDeviceGetName, ()), ("uuid", n.nvmlDeviceGetUUID, ()), ("serial", n.nvmlDeviceGetSerial, ()),
            ("pci", n.nvmlDeviceGetPciInfo, ()), ("vbios", n.nvmlDeviceGetVbiosVersion, ()),
            ("temperature_gpu", n.nvmlDeviceGetTemperature, (n.NVML_TEMPERATURE_GPU,)),
            ("temp_threshold_slowdown", n.nvmlDeviceGetTemperatureThreshold, (n.NVML_TEMPERATURE_THRESHOLD_SLOWDOWN,)),
            ("temp_threshold_shutdown", n.nvmlDeviceGetTemperatureThreshold, (n.NVML_TEMPERATURE_THRESHOLD_SHUTDOWN,)),
            ("power_usage_mw", n.nvmlDeviceGetPowerUsage, ()), ("power_limit_mw", n.nvmlDeviceGetEnforcedPowerLimit, ()),
            ("power_default_limit_mw", n.nvmlDeviceGetPowerManagementDefaultLimit, ()),
            ("power_constraints_mw", n.nvmlDeviceGetPowerManagementLimitConstraints, ()),
            ("fan_speed", n.nvmlDeviceGetFanSpeed, ()), ("memory", n.nvmlDeviceGetMemoryInfo, ()),
            ("utilization", n.nvmlDeviceGetUtilizationRates, ()),
            ("clock_sm", n.nvmlDeviceGetClockInfo, (n.NVML_CLOCK_SM,)), ("clock_mem", n.nvmlDeviceGetClockInfo, (n.NVML_CLOCK_MEM,)),
            ("throttle_reasons", n.nvmlDeviceGetCurrentClocksEventReasons, ()),
            ("ecc_mode", n.nvmlDeviceGetEccMode, ()),
            ("ecc_volatile_corrected", n.nvmlDeviceGetTotalEccErrors, (n.NVML_MEMORY_ERROR_TYPE_CORRECTED, n.NVML_VOLATILE_ECC)),
            ("ecc_volatile_uncorrected", n.nvmlDeviceGetTotalEccErrors, (n.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, n.NVML_VOLATILE_ECC)),
            ("ecc_aggregate_corrected", n.nvmlDeviceGetTotalEccErrors, (n.NVML_MEMORY_ERROR_TYPE_CORRECTED, n.NVML_AGGREGATE_ECC)),
            ("ecc_aggregate_uncorrected", n.nvmlDeviceGetTotalEccErrors, (n.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, n.NVML_AGGREGATE_ECC)),
            ("retired_pages_pending", n.nvmlDeviceGetRetiredPagesPendingStatus, ()),
            ("remapped_rows", n.nvmlDeviceGetRemappedRows, ()),
            ("pcie_gen_current", n.nvmlDeviceGetCurrPcieLinkGeneration, ()), ("pcie_gen_max", n.nvmlDeviceGetMaxPcieLinkGeneration, ()),
            ("pcie_width_current", n.nvmlDeviceGetCurrPcieLinkWidth, ()), ("pcie_width_max", n.nvmlDeviceGetMaxPcieLinkWidth, ()),
            ("persistence_mode", n.nvmlDeviceGetPersistenceMode, ()), ("compute_mode", n.nvmlDeviceGetComputeMode, ()),
            ("compute_processes", n.nvmlDeviceGetComputeRunningProcesses, ()),
            ("mig_mode", n.nvmlDeviceGetMigMode, ()),
        ]:
            dev[label] = call(fn, h, *args)
        fv = call(n.nvmlDeviceGetFieldValues, h, [fields[w] for w in wanted if w in fields])
        dev["field_values"] = dict(zip([w for w in wanted if w in fields], fv)) if isinstance(fv, list) else fv
        out["devices"].append(dev)
    n.nvmlShutdown()
    return out


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    sh(["nvidia-smi", "-q", "-x"], "nvidia-smi-q-x.xml", outdir)
    sh(["nvidia-smi", "-q"], "nvidia-smi-q.txt", outdir)
    sh(["nvidia-smi"], "nvidia-smi.txt", outdir)
    sh(["nvidia-smi", "--query-gpu=index,name,temperature.gpu,temperature.memory,power.draw,power.limit,memory.used,memory.total,"
        "utilization.gpu,clocks.sm,clocks.mem,fan.speed,ecc.mode.current,pcie.link.gen.current", "--format=csv"], "nvidia-smi-query.csv", outdir)
    sh(["dkms", "status"], "dkms-status.txt", outdir)
    sh(["ldconfig", "-p"], "ldconfig-p.txt", outdir)
    sh(["sh", "-c", "dpkg-query -W -f='${Package} ${Version} ${Status}\\n' '*nvidia*' 'cuda*' 'libcudnn*' 'libnccl*' 2>&1 | head -200"],
       "dpkg-nvidia.txt", outdir)
    info = {
        "uname": platform.uname()._asdict(),
        "proc_driver_nvidia_version": read("/proc/driver/nvidia/version"),
        "sys_module_nvidia_version": read("/sys/module/nvidia/version"),
        "proc_version": read("/proc/version"),
    }
    try:
        info["nvml"] = nvml_dump()
    except Exception as exc:  # noqa: BLE001
        info["nvml"] = {"exception": repr(exc)}
    with open(os.path.join(outdir, "system-and-nvml.json"), "w") as handle:
        json.dump(info, handle, indent=2, sort_keys=True)
    print(json.dumps(info, indent=1)[:6000])


if __name__ == "__main__":
    main()
