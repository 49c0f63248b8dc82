"""Load a real GPU for the device probes: hold GB of VRAM and run fp32 matrix products for SECONDS.

    python3 tests/device/gpu_load.py [SECONDS] [GB]      (PyTorch, as on the lent machines; defaults 25 s, 20 GB)
"""

import sys
import time

import torch


def main(seconds=25.0, gigabytes=20.0):
    hold = torch.empty(int(gigabytes * 1e9), dtype=torch.uint8, device="cuda")
    a = torch.randn(8192, 8192, device="cuda")
    end = time.time() + seconds
    while time.time() < end:
        a @ a
    torch.cuda.synchronize()
    del hold


if __name__ == "__main__":
    main(*[float(arg) for arg in sys.argv[1:3]])
