"""Run gpu_facts' NVML path and nvidia-smi path on a REAL NVIDIA machine and compare them.

Standalone (stdlib + nvidia-ml-py); imports the collection from the checkout:

    PYTHONPATH=.collections python3 tests/device/gpu_probe.py [--nvidia-smi PATH] [--processes] [--out FILE]

Prints one JSON document: both ``gpufleet_gpu.nvidia`` facts, the checks of each, the time each path
took, and a parity diff. Readings that move between two reads (temperatures, power, clocks,
utilisation, memory used, processes) are listed under ``drift`` with both values; any other
difference is a real parity problem and is listed under ``mismatches`` (exit status 1).
"""

import argparse
import json
import os
import subprocess
import sys
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import nvidia_smi as _nvidia_smi, nvml as _nvml

# Keys whose value may change between the NVML read and the nvidia-smi read a moment later.
VOLATILE = {
    "temperature_c", "memory_temperature_c", "power_draw_w", "fan_speed_pct", "memory_used_mib", "memory_used_pct",
    "utilization_gpu_pct", "clocks_sm_mhz", "clocks_mem_mhz", "throttle_reasons", "processes",
    "pcie.gen_current", "pcie.width_current", "ecc.volatile_corrected", "ecc.aggregate_corrected",
}
PATH_ONLY = {"source", "nvml_version", "reason"}


def run_command(args, check_rc=False, environ_update=None, data=None, handle_exceptions=False):
    """AnsibleModule.run_command's signature, enough for _common/runner.py's run."""
    env = dict(os.environ)
    env.update(environ_update or {})
    proc = subprocess.run(args, input=data, env=env, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def flatten(value, prefix=""):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(flatten(item, "%s%s." % (prefix, key) if isinstance(item, dict) else "%s%s" % (prefix, key)))
        return out
    return {prefix.rstrip("."): value}


def compare(nvml, smi):
    drift, mismatches = [], []
    for key in sorted(set(nvml) | set(smi)):
        if key in PATH_ONLY or key == "gpus":
            continue
        if nvml.get(key) != smi.get(key):
            mismatches.append({"key": key, "nvml": nvml.get(key), "nvidia_smi": smi.get(key)})
    for a, b in zip(nvml.get("gpus") or [], smi.get("gpus") or []):
        fa, fb = flatten(a), flatten(b)
        for key in sorted(set(fa) | set(fb)):
            if fa.get(key) == fb.get(key):
                continue
            row = {"gpu": a.get("index"), "key": key, "nvml": fa.get(key), "nvidia_smi": fb.get(key)}
            (drift if key in VOLATILE else mismatches).append(row)
    if len(nvml.get("gpus") or []) != len(smi.get("gpus") or []):
        mismatches.append({"key": "gpus (count)", "nvml": len(nvml.get("gpus") or []), "nvidia_smi": len(smi.get("gpus") or [])})
    return drift, mismatches


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nvidia-smi", default=None, help="path of nvidia-smi (default: found on PATH)")
    parser.add_argument("--processes", action="store_true", help="include the process lists")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args()

    started = time.perf_counter()
    nvml, nvml_problems, mismatch, fall_back = _nvml.gather(include_processes=args.processes)
    nvml_s = time.perf_counter() - started

    tool = _runner.find_tool("nvidia-smi", args.nvidia_smi)
    started = time.perf_counter()
    if tool:
        smi, smi_problems, smi_mismatch = _nvidia_smi.gather(run_command, tool, include_processes=args.processes)
    else:
        smi, smi_problems, smi_mismatch = _nvidia_smi.absent("nvidia-smi not found", "nvidia_smi"), [], None
    smi_s = time.perf_counter() - started

    fact_nvml, _w1 = AREA.gather(run_command, AREA.validate({"source": "nvml", "include_processes": args.processes}))
    fact_smi, _w2 = AREA.gather(run_command, AREA.validate({"source": "nvidia_smi", "nvidia_smi_path": tool,
                                                            "include_processes": args.processes}))
    drift, mismatches = compare(nvml, smi)
    report = {
        "host": os.uname().nodename,
        "nvidia_ml_py": getattr(sys.modules.get("pynvml"), "__version__", None),
        "nvml": {"facts": nvml, "problems": nvml_problems, "mismatch": mismatch, "fall_back": fall_back,
                 "seconds": round(nvml_s, 4), "status": fact_nvml["status"],
                 "non_ok_checks": [c for c in fact_nvml["checks"] if c["status"] != "ok"]},
        "nvidia_smi": {"path": tool, "facts": smi, "problems": smi_problems, "mismatch": smi_mismatch,
                       "seconds": round(smi_s, 4), "status": fact_smi["status"],
                       "non_ok_checks": [c for c in fact_smi["checks"] if c["status"] != "ok"]},
        "parity": {"drift": drift, "mismatches": mismatches, "equal": not mismatches},
    }
    text = json.dumps(report, indent=2, sort_keys=True, default=str)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    return 0 if not mismatches else 1


if __name__ == "__main__":
    sys.exit(main())
