"""Sizes and times of the monthly backup per switch: model weights, prompt templates, Docker named volumes.

    .venv/bin/python tests/bench/bench_backup_sizes.py [--weights-mib 2048] [--volume-mib 512] [--prompts 2000] [--dir /var/tmp]

Generates, under a scratch directory: a model store of ``--weights-mib`` in GGUF-named files of 512 MiB (random
bytes: nothing compresses or deduplicates), ``--prompts`` prompt template files of 1-8 KiB in 20 directories, and a
Docker named volume of ``--volume-mib`` (random bytes in 64 MiB files plus small ones) on a private dockerd
(testlib.docker_lab: own data root on the same disk). Then times what the backup role runs, the
``backup_snapshot`` body with the real rsync into a local target on the same disk (no Ansible start-up, about 3 s
per task on top):

  first      the first snapshot of that part alone (everything copied; the weights also hashed by the drill);
  unchanged  the next month's snapshot with nothing changed (weights and prompts: rsync's quick check and hard
             links; the volume: read again through the engine and hashed, then hard-linked because the bytes are the
             same);
  drill      the restore drill of the first snapshot (rsync back into a scratch directory, every byte hashed);
  added      the bytes the unchanged snapshot added on the target (blocks of files not hard-linked to the first).

Prints a Markdown table for docs/backup.md, with the machine's load. Not a test; nothing is asserted.
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), os.path.join(HERE, "..", "..", ".collections")]  # as pytest.ini sets it
from testlib.docker_lab import Dockerd  # noqa: E402  (after the path is set)
from testlib.local_run import run_command  # noqa: E402

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import AREA  # noqa: E402
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.collect import HashCache, scan  # noqa: E402
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import backup_snapshot  # noqa: E402

MIB = 1024 * 1024


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def write_random(path, size):
    with open(path, "wb") as handle:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 * MIB))
            handle.write(chunk)
            left -= len(chunk)


def disk_bytes(tree, seen):
    """Blocks of the files under ``tree`` whose inode is not in ``seen`` (what a snapshot added)."""
    added = 0
    for dirpath, dummy, files in os.walk(tree):
        for name in files:
            stat = os.lstat(os.path.join(dirpath, name))
            if stat.st_ino not in seen:
                added += stat.st_blocks * 512
            seen.add(stat.st_ino)
    return added


def params(root, part, name, **extra):
    values = dict((key, spec.get("default")) for key, spec in AREA.argument_spec().items())
    values.update(target=os.path.join(root, "backup-" + part), name=name, state_dir=os.path.join(root, "state-" + part),
                  scratch=os.path.join(root, "scratch-" + part), timeout_s=7200)
    values.update(extra)
    return values


def measure(root, part, **extra):
    first, dummy = timed(lambda: backup_snapshot.run(run_command, params(root, part, "2026-10", **extra)))
    seen = set()
    disk_bytes(os.path.join(root, "backup-" + part, "2026-10"), seen)
    unchanged, result = timed(lambda: backup_snapshot.run(run_command, params(root, part, "2026-11", **extra)))
    added = disk_bytes(os.path.join(root, "backup-" + part, "2026-11"), seen)
    drill_params = params(root, part, "2026-10", mode="drill", **extra)
    drill, dummy = timed(lambda: backup_snapshot.run(run_command, drill_params))
    return first, unchanged, drill, added


def make_volume(engine, name, size_mib):
    engine.make_image("gpfbench/helper:1", "helper")
    engine.docker("volume", "create", name)
    engine.docker("create", "--name", "gpfbench-app", "--network", "none", "-v", name + ":/data", "gpfbench/helper:1")
    left = size_mib * MIB
    index = 0
    while left > 0:
        size = min(left, 64 * MIB)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as archive:
            info = tarfile.TarInfo("blob-%03d.bin" % index)
            info.size, info.uid, info.mode = size, 1000, 0o600
            archive.addfile(info, io.BytesIO(os.urandom(size)))
            for small in range(50):
                data = json.dumps({"row": small, "blob": index}).encode()
                info = tarfile.TarInfo("rows/%03d-%02d.json" % (index, small))
                info.size, info.uid, info.mode = len(data), 1000, 0o600
                archive.addfile(info, io.BytesIO(data))
        subprocess.run(["docker", "-H", engine.host, "cp", "-", "gpfbench-app:/data"], input=buf.getvalue(), check=True)
        left -= size
        index += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights-mib", type=int, default=2048)
    parser.add_argument("--volume-mib", type=int, default=512)
    parser.add_argument("--prompts", type=int, default=2000)
    parser.add_argument("--dir", default="/var/tmp")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="gpufleet-bench-backup-", dir=args.dir)
    rows = []
    try:
        store = os.path.join(root, "models")
        os.makedirs(store)
        left, index = args.weights_mib * MIB, 0
        while left > 0:
            size = min(left, 512 * MIB)
            write_random(os.path.join(store, "model-%02d-q4_k_m.gguf" % index), size)
            left -= size
            index += 1
        manifest = os.path.join(root, "models.manifest.json")
        with open(manifest, "w") as handle:
            json.dump(scan([store], HashCache())[0], handle)
        first, unchanged, drill, added = measure(root, "weights", sources=[manifest], weights=[store], model_manifest=manifest)
        rows.append(("model weights (`gpufleet_backup_weights`)", "%d MiB in %d GGUF files" % (args.weights_mib, index),
                     first, unchanged, drill, added))

        prompts = os.path.join(root, "prompts")
        total = 0
        for number in range(args.prompts):
            folder = os.path.join(prompts, "team-%02d" % (number % 20))
            os.makedirs(folder, exist_ok=True)
            text = ("You are a careful assistant for team %d. " % number) * (1 + hashlib.sha256(str(number).encode()).digest()[0] % 180)
            with open(os.path.join(folder, "prompt-%04d.txt" % number), "w") as handle:
                handle.write(text)
            total += len(text)
        first, unchanged, drill, added = measure(root, "prompts", sources=[prompts])
        rows.append(("prompt templates (`gpufleet_backup_prompts`)", "%d files, %.1f MiB" % (args.prompts, total / float(MIB)),
                     first, unchanged, drill, added))

        with Dockerd() as engine:
            make_volume(engine, "gpfbench-data", args.volume_mib)
            empty = os.path.join(root, "empty")
            os.makedirs(empty)
            first, unchanged, drill, added = measure(root, "volume", sources=[empty], docker_volumes=["gpfbench-data"],
                                                     docker_host=engine.host)
            rows.append(("Docker named volume (`gpufleet_backup_docker_volumes`)",
                         "%d MiB (%d files of 64 MiB, 50 small ones each)" % (args.volume_mib, -(-args.volume_mib // 64)),
                         first, unchanged, drill, added))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load = os.getloadavg()
    print("| part | size | first snapshot | next month, unchanged | restore drill | added by the unchanged month |")
    print("| --- | --- | --- | --- | --- | --- |")
    for part, size, first, unchanged, drill, added in rows:
        space = "%.1f MiB" % (added / float(MIB)) if added >= MIB else "%d KiB" % (added // 1024)
        print("| %s | %s | %.1f s | %.1f s | %.1f s | %s |" % (part, size, first, unchanged, drill, space))
    print("\nload average %.1f %.1f %.1f on %d CPU(s)" % (load + (os.cpu_count(),)))


if __name__ == "__main__":
    main()
