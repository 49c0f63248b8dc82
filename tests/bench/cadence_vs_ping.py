"""Time the cadence playbooks against the one-ping floor over the same container hosts, in one run,
and print a Markdown table for docs/performance.md (issue 21: daily <= 2x ping at 16 hosts).

Usage: .venv/bin/python tests/bench/cadence_vs_ping.py [--hosts 1 8 16 32] [--prerequisites-at 16]
Needs Docker and the local image (scripts/docker-infra image). The anchor is the shared one-ping
playbook, ../shared/bench/ping.yml beside this checkout (GPUFLEET_PING_PLAYBOOK overrides it).
Containers are named gpufleet-scale-bench-N and removed at the end (also on failure).

Every playbook runs with forks 20 (ansible.cfg), the docker connection, an in-memory fact cache and
pipelining (as ansible.cfg sets it for SSH; GPUFLEET_BENCH_NO_PIPELINING=1 turns it off) and
the -e settings of the integration tests' localhost-safe runs (reports and history in a scratch
directory, gpufleet_prerequisites=false: the modules run with the image's /usr/bin/python3). With
--prerequisites-at N, the daily also runs twice at N hosts with the prerequisites step on: the first run
provisions the hosts (the image has no /opt/gpufleet/venv), the second shows what the step costs
where the hosts already satisfy it.
"""

import argparse
import collections
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time

# The container hosts and their inventory are the ones of the naive-daily bench (same directory).
from daily_vs_naive import docker, inventory, remove  # noqa: E402 pylint: disable=wrong-import-position

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)
IMAGE = os.environ.get("GPUFLEET_IMAGE", "local/gpufleet-debian:bookworm")
PREFIX = "gpufleet-scale-bench-"
PING = os.environ.get("GPUFLEET_PING_PLAYBOOK", os.path.join(os.path.dirname(ROOT), "shared", "bench", "ping.yml"))
TARGET = 2.0


def start(names):
    for name in names:
        for attempt in (1, 2):   # on a loaded machine docker run now and then leaves a container "Created"
            docker("rm", "-f", name, check=False)
            proc = docker("run", "-d", "--name", name, IMAGE, "sleep", "infinity", check=False)
            if proc.returncode == 0:
                break
            if attempt == 2:
                raise SystemExit("docker run %s failed: %s" % (name, proc.stderr.strip()))


def task_slots(output):
    """Task results per host (ok, changed, skipped, failed alike) from the ansible.posix.json callback."""
    data = json.loads(output)
    counts = collections.Counter()
    for play in data["plays"]:
        for task in play["tasks"]:
            for host in task["hosts"]:
                counts[host] += 1
    return counts


def run(playbook, inv, workdir, prerequisites=False):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FACT_CACHING="memory", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_FORKS="20",
               # ansible.cfg pipelines SSH only; a fleet runs over SSH, so the docker connection pipelines too
               ANSIBLE_PIPELINING="0" if os.environ.get("GPUFLEET_BENCH_NO_PIPELINING") else "1")
    evars = {"gpufleet_report_dir": os.path.join(workdir, "reports"),
             "gpufleet_history_path": os.path.join(workdir, "history.db"),
             "gpufleet_prerequisites": prerequisites}
    start_t = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inv, playbook, "-e", json.dumps(evars)],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800)
    elapsed = time.monotonic() - start_t
    if proc.returncode != 0:
        raise SystemExit("%s failed (rc %s):\n%s\n%s" % (playbook, proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))
    rescued = sorted(host for host, stat in json.loads(proc.stdout).get("stats", {}).items() if stat.get("rescued"))
    if rescued:   # a failed step is rescued and reported: the run "passes" but did not do the work it times
        print("%s: a step failed and was rescued on %d host(s): %s" % (os.path.basename(playbook), len(rescued),
                                                                       ", ".join(rescued)), flush=True)
    slots = task_slots(proc.stdout)
    # (the first host, which also carries the run_once tasks; every other host)
    return elapsed, (max(slots.values()), min(slots.values())) if slots else (0, 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 8, 16, 32])
    parser.add_argument("--prerequisites-at", type=int, default=16,
                        help="also run the daily with gpufleet_prerequisites=true at this host count (0: never)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each playbook per host count, interleaved; the median counts")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))   # the finally below still removes the containers
    if not os.path.isfile(PING):
        raise SystemExit("the one-ping anchor playbook is missing: %s (a playbook with one ansible.builtin.ping task, "
                         "hosts: all, gather_facts: false; or set GPUFLEET_PING_PLAYBOOK)" % PING)
    daily = os.path.join(ROOT, "playbooks", "daily.yml")
    weekly = os.path.join(ROOT, "playbooks", "weekly.yml")
    rows, prereq, slots = [], {}, {}
    for count in args.hosts:
        names = ["%s%d" % (PREFIX, i) for i in range(1, count + 1)]
        try:
            start(names)
            with tempfile.TemporaryDirectory(prefix="gpufleet-scale-") as workdir:
                inv = os.path.join(workdir, "inventory.json")
                inventory(names, inv)
                times = collections.defaultdict(list)
                for _round in range(args.repeat):   # interleaved, so all three see the same machine load
                    for key, playbook in (("ping", PING), ("daily", daily), ("weekly", weekly)):
                        seconds, slots[key] = run(playbook, inv, workdir)
                        times[key].append(seconds)
                ping_s, daily_s, weekly_s = (statistics.median(times[key]) for key in ("ping", "daily", "weekly"))
                rows.append((count, ping_s, daily_s, weekly_s))
                print("hosts=%d ping=%.1fs daily=%.1fs (%.2fx) weekly=%.1fs (%.2fx) runs: %s" % (
                    count, ping_s, daily_s, daily_s / ping_s, weekly_s, weekly_s / ping_s, dict(times)), flush=True)
                if count == args.prerequisites_at:
                    # the step is the same in every cadence: the daily shows what it costs. The image has no
                    # /opt/gpufleet/venv: the first run provisions it, the second finds it satisfied.
                    try:
                        prereq["provisioning"], _slots = run(daily, inv, workdir, prerequisites=True)
                        prereq["satisfied"], slots["daily+prerequisites"] = run(daily, inv, workdir, prerequisites=True)
                    except SystemExit as err:
                        print("the daily with gpufleet_prerequisites=true failed: %s" % str(err)[-1500:], flush=True)
                    print("hosts=%d with prerequisites: %s" % (count, prereq), flush=True)
        finally:
            remove(names)
    print()
    print("%s, %d CPUs, %s, forks 20, docker connection, pipelining %s, median of %d, load average before the last run %.1f" % (
        platform.system(), os.cpu_count(), time.strftime("%Y-%m-%d %H:%M"),
        "off" if os.environ.get("GPUFLEET_BENCH_NO_PIPELINING") else "on", args.repeat, os.getloadavg()[0]))
    print()
    print("| hosts | ping s | daily s | daily/ping | weekly s | weekly/ping | per extra host s (ping / daily / weekly) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    first = rows[0]
    for count, ping_s, daily_s, weekly_s in rows:
        extra = "-" if count == first[0] else " / ".join(
            "%.2f" % ((now - then) / (count - first[0])) for now, then in zip((ping_s, daily_s, weekly_s), first[1:]))
        print("| %d | %.1f | %.1f | %.2f | %.1f | %.2f | %s |" % (count, ping_s, daily_s, daily_s / ping_s, weekly_s, weekly_s / ping_s, extra))
    print()
    print("Task slots per host (first host / the others): %s" % ", ".join(
        "%s %d / %d" % ((key,) + value) for key, value in sorted(slots.items())))
    for state, seconds in sorted(prereq.items()):
        base = [r for r in rows if r[0] == args.prerequisites_at][0]
        print("daily at %d hosts with gpufleet_prerequisites=true (%s): %.1f s (+%.1f s over the daily without it)" % (
            args.prerequisites_at, state, seconds, seconds - base[2]))
    at16 = [r for r in rows if r[0] == 16]
    return 0 if not at16 or at16[0][2] / at16[0][1] <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
