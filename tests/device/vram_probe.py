"""Run vram_guard's readings and decisions on a REAL NVIDIA GPU (stdlib, nvidia-ml-py and PyTorch).

    PYTHONPATH=<dir holding ansible_collections> python3 tests/device/vram_probe.py --out FILE

A PyTorch child process takes most of the free VRAM. The probe reads the GPUs through NVML (the
reader vram_guard uses) and decides with a threshold just under the loaded use:
- "stays": two readings 3 s apart while the memory is held -> the GPU is in ``stayed``;
- "falls": the child frees the memory during the wait -> the GPU is in ``fell``;
- idle: nothing is at the threshold.
Prints and writes one JSON document with the readings (used %, MiB) next to what PyTorch allocated.
Exit status 1 when a decision is not the expected one.
"""

import argparse
import json
import subprocess
import sys
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.vram_guard import build_fact
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import vram_guard as _vram
from gpu_probe import run_command  # the same AnsibleModule.run_command stand-in (this directory)

CHILD = r"""
import sys, time, torch
free, total = torch.cuda.mem_get_info()
take = int(free * float(sys.argv[1]))
hold = torch.empty(take, dtype=torch.uint8, device="cuda")
hold.fill_(1)
torch.cuda.synchronize()
print("%d %d" % (take, total), flush=True)
sys.stdin.readline()          # hold until told to free
del hold
torch.cuda.empty_cache()
print("freed", flush=True)
time.sleep(float(sys.argv[2]))
"""


def read():
    started = time.time()
    fact, warnings = AREA.gather(run_command, AREA.validate({"source": "nvml"}))
    gpus = (fact.get("nvidia") or {}).get("gpus") or []
    return {
        "readings": _vram.gpu_readings(fact),
        "used_mib": [g.get("memory_used_mib") for g in gpus],
        "total_mib": [g.get("memory_total_mib") for g in gpus],
        "present": _vram.gpu_present(fact),
        "warnings": warnings,
        "seconds": round(time.time() - started, 3),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/vram-probe.json")
    parser.add_argument("--fraction", type=float, default=0.9, help="share of the free VRAM the child takes")
    args = parser.parse_args()
    doc = {"idle": read()}
    failures = []
    idle_top = max([r["used_pct"] for r in doc["idle"]["readings"] if r["used_pct"] is not None] or [0])

    child = subprocess.Popen([sys.executable, "-c", CHILD, str(args.fraction), "5"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    taken, total = (int(x) for x in child.stdout.readline().split())
    doc["torch"] = {"allocated_bytes": taken, "total_bytes": total, "allocated_pct": round(100.0 * taken / total, 2)}
    first = read()
    loaded_top = max(r["used_pct"] for r in first["readings"] if r["used_pct"] is not None)
    threshold = round(loaded_top - 2.0, 1)          # just under the loaded use, far above idle
    doc["threshold_pct"] = threshold
    doc["idle_decision"] = _vram.decide(doc["idle"]["readings"], None, threshold)
    if doc["idle_decision"]["stayed"]:
        failures.append("idle GPU counted as exhausted at %s %%" % threshold)

    time.sleep(3)
    second = read()
    stays = _vram.decide(first["readings"], second["readings"], threshold)
    doc["stays"] = {"first": first, "second": second, "decision": stays}
    if [r["gpu"] for r in stays["stayed"]] != [0]:
        failures.append("held memory did not stay: %s" % stays)

    child.stdin.write("\n")
    child.stdin.flush()
    child.stdout.readline()                           # "freed"
    time.sleep(1)
    third = read()
    falls = _vram.decide(second["readings"], third["readings"], threshold)
    doc["falls"] = {"second": third, "decision": falls}
    if falls["stayed"] or [r["gpu"] for r in falls["fell"]] != [0]:
        failures.append("freed memory did not fall: %s" % falls)
    child.wait(timeout=30)

    fact = build_fact(first["readings"], stays, [], threshold, 3, [], True)
    doc["fact_when_stayed_without_services"] = fact
    doc["idle_top_pct"] = idle_top
    doc["failures"] = failures
    with open(args.out, "w") as handle:
        json.dump(doc, handle, indent=1, sort_keys=True)
    print(json.dumps(doc, indent=1, sort_keys=True)[:6000])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
