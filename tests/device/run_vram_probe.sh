#!/usr/bin/env bash
# Run on a lent GPU machine from the repository root: vram_guard's readings and decisions on the
# real card, with PyTorch holding and then freeing most of the VRAM. Results into $OUT.
set -u
out="${OUT:-/tmp/vram-probe}"; mkdir -p "$out" /tmp/gpc/ansible_collections/gpufleet
ln -sfn "$PWD" /tmp/gpc/ansible_collections/gpufleet/maintenance
export PYTHONPATH=/tmp/gpc
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv | tee "$out/nvidia-smi.csv"
python3 tests/device/vram_probe.py --out "$out/vram-probe.json"; echo "vram probe rc=$?"
