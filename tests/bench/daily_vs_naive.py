"""Time playbooks/daily.yml against the naive seed-style daily (tests/bench/naive-daily.yml) over the
same container hosts, in one run, and print a Markdown table for docs/performance.md.

Usage: .venv/bin/python tests/bench/daily_vs_naive.py [--hosts 1 8] [--repeat 3]
Needs Docker and the local image (scripts/docker-infra image). Containers are named
gpufleet-cadence-bench-N and removed at the end (also on failure).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)
IMAGE = os.environ.get("GPUFLEET_IMAGE", "local/gpufleet-debian:bookworm")
PREFIX = "gpufleet-cadence-bench-"


def docker(*args, check=True):
    return subprocess.run(["docker"] + list(args), capture_output=True, text=True, check=check, timeout=300)


def start(count):
    names = ["%s%d" % (PREFIX, i) for i in range(1, count + 1)]
    for name in names:
        docker("rm", "-f", name, check=False)
        docker("run", "-d", "--name", name, IMAGE, "sleep", "infinity")
    return names


def remove(names):
    for name in names:
        docker("rm", "-f", name, check=False)


def inventory(names, path):
    hosts = dict((n, {"ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"})
                 for n in names)
    with open(path, "w") as handle:
        json.dump({"all": {"hosts": hosts}}, handle)


def run(playbook, inv, workdir):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FACT_CACHING="memory")
    evars = {"gpufleet_report_dir": os.path.join(workdir, "reports"),
             "gpufleet_history_path": os.path.join(workdir, "history.db")}
    start_t = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inv, playbook, "-e", json.dumps(evars)],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800)
    elapsed = time.monotonic() - start_t
    if proc.returncode != 0:
        raise SystemExit("%s failed (rc %s):\n%s\n%s" % (playbook, proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for count in args.hosts:
        names = start(count)
        try:
            with tempfile.TemporaryDirectory(prefix="gpufleet-bench-") as workdir:
                inv = os.path.join(workdir, "inventory.json")
                inventory(names, inv)
                naive, ours = [], []
                for _round in range(args.repeat):  # interleaved, so both see the same machine load
                    naive.append(run(os.path.join(ROOT, "tests", "bench", "naive-daily.yml"), inv, workdir))
                    ours.append(run(os.path.join(ROOT, "playbooks", "daily.yml"), inv, workdir))
                n, o = statistics.median(naive), statistics.median(ours)
                rows.append((count, n, o, o / n))
                print("hosts=%d naive=%.1fs daily=%.1fs ratio=%.2f (runs: naive %s, daily %s)" % (
                    count, n, o, o / n, ["%.1f" % x for x in naive], ["%.1f" % x for x in ours]), flush=True)
        finally:
            remove(names)
    print()
    print("| hosts | naive daily (median of %d) | playbooks/daily.yml | ratio | target | machine |" % args.repeat)
    print("| --- | --- | --- | --- | --- | --- |")
    for count, n, o, ratio in rows:
        print("| %d | %.1f s | %.1f s | %.2f | <= 0.50 | %s, %d CPUs, %s |" % (
            count, n, o, ratio, platform.system(), os.cpu_count(), time.strftime("%Y-%m-%d")))
    return 0 if all(r[3] <= 0.5 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
