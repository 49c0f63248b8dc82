#!/usr/bin/env bash
# Run on a lent GPU machine from the repository root: the collection's GPU paths on the real card,
# idle and under load (a PyTorch process holding 20 GB and running matrix products), into $OUT.
set -u
out="${OUT:-/tmp/gpu-probe}"; mkdir -p "$out" /tmp/gpc/ansible_collections/gpufleet
ln -sfn "$PWD" /tmp/gpc/ansible_collections/gpufleet/maintenance
export PYTHONPATH=/tmp/gpc
python3 -c 'import pynvml; print("nvidia-ml-py", getattr(pynvml, "__version__", "?"))'
python3 tests/device/gpu_probe.py --processes --out "$out/probe-idle.json" > /dev/null; echo "idle probe rc=$?"
python3 tests/device/gpu_load.py 25 20 &
load=$!
sleep 10
python3 tests/device/gpu_probe.py --processes --out "$out/probe-load.json" > /dev/null; echo "load probe rc=$?"
wait "$load"
python3 - "$out" <<'PY'
import json, sys
for name in ("probe-idle.json", "probe-load.json"):
    d = json.load(open("%s/%s" % (sys.argv[1], name)))
    print("==", name, "keys:", sorted(d))
    print(json.dumps({k: d[k] for k in d if k not in ("nvml", "nvidia_smi")}, indent=1)[:2500])
    for path in ("nvml", "nvidia_smi"):
        fact = d.get(path) or {}
        gpus = (fact.get("facts") or fact).get("gpus") if isinstance(fact, dict) else None
        if gpus:
            g = gpus[0]
            print(path, {k: g.get(k) for k in ("name", "temperature_c", "memory_temperature_c", "power_draw_w", "fan_speed_pct",
                  "memory_used_mib", "utilization_gpu_pct", "throttle_reasons", "ecc", "remapped_rows", "retired_pages", "processes")})
PY
