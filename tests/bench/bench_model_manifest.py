"""Throughput of model_manifest hashing, cold (every file hashed) and cached, against a plain sequential read.

    .venv/bin/python tests/bench/bench_model_manifest.py [--mib 512] [--files 4] [--dir /var/tmp]

Generates the files (random bytes, GGUF-named), then times on the same files:
  read    `dd if=<file> of=/dev/null bs=4M` over every file, from the page cache and with iflag=direct
          (O_DIRECT: the device's sequential read speed, without dropping anyone's page cache);
  sha256sum  coreutils over the same files (the hash speed of this CPU outside Python);
  scan    _areas/models/collect.scan with an empty hash cache (every byte read and sha256-hashed);
  cached  _areas/models/collect.scan again with the cache it filled (no file read);
  module  the real `model_manifest` module through ansible, cache cold (includes Ansible's start-up).
The files are read once before timing, so every figure is from the page cache unless the files are
larger than RAM: this measures whether the hash keeps up with a sequential read, not the disk.
Prints a Markdown table row for docs/performance.md. Not a test; nothing is asserted.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), os.path.join(HERE, "..", "..", ".collections")]  # as pytest.ini sets it
from testlib.ansible_run import run_module  # noqa: E402  (after the path is set)

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.collect import HashCache, scan  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=512, help="total size of the generated files")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--dir", default="/var/tmp")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="gpufleet-bench-", dir=args.dir)
    try:
        models = os.path.join(root, "models")
        os.mkdir(models)
        per_file = args.mib // args.files
        chunk = os.urandom(1024 * 1024)
        paths = []
        for index in range(args.files):
            path = os.path.join(models, "bench-%d-q4_k_m.gguf" % index)
            with open(path, "wb") as handle:
                for dummy in range(per_file):
                    handle.write(chunk)
            paths.append(path)
        total = sum(os.path.getsize(p) for p in paths)
        mb = total / 1e6

        def read_all(*flags):
            for path in paths:
                subprocess.run(["dd", "if=" + path, "of=/dev/null", "bs=4M", "status=none"] + list(flags), check=True)

        read_all()  # warm the page cache the same way for every contender
        read_s, dummy = timed(read_all)
        direct_s, dummy = timed(lambda: read_all("iflag=direct"))  # O_DIRECT: from the device, not the page cache
        sha_s, dummy = timed(lambda: subprocess.run(["sha256sum"] + paths, check=True, capture_output=True))
        cache = HashCache()
        scan_s, (manifest, dummy) = timed(lambda: scan([models], cache))
        assert cache.hashed_bytes == total and all(f["sha256"] for f in manifest["files"])
        warm = HashCache(cache.entries)
        cached_s, dummy = timed(lambda: scan([models], warm))
        assert warm.hashed_bytes == 0
        module_s, result = timed(lambda: run_module("gpufleet.maintenance.model_manifest", {
            "roots": [models], "manifest": os.path.join(root, "m.json"), "mode": "scan"}))
        assert result.get("hashed_bytes") == total, result
        rows = [("dd bs=4M (sequential read, page cache)", read_s), ("dd bs=4M iflag=direct (sequential read, device)", direct_s),
                ("sha256sum (coreutils) of the same files", sha_s),
                ("scan, cache cold (sha256 of every byte)", scan_s),
                ("scan, cache warm (no file read)", cached_s), ("model_manifest module via ansible, cold", module_s)]
        print("%d files, %.0f MB total, python %s, cpu %s" % (len(paths), mb, sys.version.split()[0], os.cpu_count()))
        print("| what | seconds | MB/s |")
        print("| --- | --- | --- |")
        for name, seconds in rows:
            print("| %s | %.3f | %s |" % (name, seconds, "%.0f" % (mb / seconds) if seconds > 0.01 and "warm" not in name else "—"))
        print(json.dumps({name: round(seconds, 4) for name, seconds in rows}))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
