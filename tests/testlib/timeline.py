"""Months, not runs: replay a fleet's 18 months with the real cadence playbooks (issue 19).

A scenario (tests/timeline/scenario.yml) names container hosts, the values their hardware boundary
reports day by day, one-off events (a command run on the host on a day) and the slow failures that
should be caught, each with its cadence and deadline. :class:`Timeline` starts the hosts (fresh
Debian images; the first daily run installs the prerequisites as on a user's box), then walks the
simulated days: before each run it writes what the doubles answer that day (the NVML double's
scenario, an nvidia-smi stand-in, a smartctl stand-in replaying a real capture with that day's
counters, the replay LLM server's delays, the fill of a tmpfs model store) and runs the cadence
playbook with ``gpufleet_now`` set to the simulated time, so the history, trends, alerts and the
hosts' SMART clock all see the simulated calendar. Only the clock and the hardware are simulated:
Ansible, the playbooks, dpkg, files and HTTP are real.

The pure parts (values, calendar, catch evaluation, the HTML/Markdown tables) are functions tested
in tests/unit/test_timeline_lib.py; ``python -m testlib.timeline --out DIR [--daily-every N]``
(from tests/) runs a scenario outside pytest.
"""

import argparse
import calendar as _calendar
import datetime
import html
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

import yaml

from testlib import fake_debs, nvml_double
from testlib.ansible_run import BIN, REPO_ROOT, ansible_env
from testlib.ssh_fleet import docker

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(REPO_ROOT, "tests", "timeline", "scenario.yml")
FIXTURES = os.path.join(REPO_ROOT, "tests", "unit", "fixtures")
IMAGE = "local/gpufleet-fresh:bookworm"
DAY = 86400
# When each cadence runs in the day (the timers role's and AWX schedules' defaults), so that on a day
# with several the weekly runs first and the daily last, as on a real controller.
CADENCE_HOUR = {"weekly": 3, "monthly": 4, "quarterly": 5, "annual": 5.5, "daily": 6}
CADENCE_ORDER = ["weekly", "monthly", "quarterly", "annual", "daily"]
# The weekly suite of the model-store host: a shorter form of the default suite's date-extraction prompt (roles/benchmark).
TIMELINE_PROMPT = {"name": "extract_dates_from_email", "max_tokens": 64, "expect": "2025-03-03",
                   "messages": [{"role": "user", "content": "Extract every date from this email as a list in ISO format "
                                 "(YYYY-MM-DD), nothing else. Email: \"the kickoff is on 3 March 2025.\""}]}
# The interpreter the prerequisites role leaves on a host (roles/prerequisites/defaults/main.yml, prerequisites_venv).
PROVISIONED_PYTHON = "/opt/gpufleet/venv/bin/python"
MODEL_ROT = "llama-3.2-1b-instruct-q4_k_m.gguf"   # the model file that rots (random bytes: a stand-in of the size class)


# ------------------------------------------------------------------ pure: scenario values and calendar

def load(path=SCENARIO):
    with open(path) as handle:
        return yaml.safe_load(handle)


def value_at(spec, day):
    """A scenario value on ``day``: ``points`` ([day, value] pairs) linear in between, held outside
    them; with ``step`` each value holds until the next point."""
    points = sorted(spec["points"], key=lambda p: p[0])
    if day <= points[0][0]:
        return points[0][1]
    for (d0, v0), (d1, v1) in zip(points, points[1:]):
        if d0 <= day < d1:
            if spec.get("step") or isinstance(v0, str):
                return v0
            return v0 + (v1 - v0) * float(day - d0) / (d1 - d0)
    return points[-1][1]


def start_epoch(scenario):
    start = datetime.datetime.strptime(scenario["start"], "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    return int(start.timestamp())


def runs(scenario, daily_every=1, weekly_every=1, monthly_every=1):
    """The cadence runs of the timeline in order: ``(day, cadence, epoch)``. Daily runs on every
    ``daily_every``-th day, weekly on every ``weekly_every``-th Sunday, monthly on the 1st of every
    ``monthly_every``-th month, quarterly on the 1st of January/April/July/October, annual on January 2nd."""
    base = start_epoch(scenario)
    out = []
    sundays = 0
    months = 0
    for day in range(scenario["days"]):
        date = datetime.datetime.fromtimestamp(base + day * DAY, datetime.timezone.utc)
        due = []
        if date.weekday() == 6:
            if sundays % weekly_every == 0:
                due.append("weekly")
            sundays += 1
        if date.day == 1:
            if months % monthly_every == 0:
                due.append("monthly")
            months += 1
            if date.month in (1, 4, 7, 10):
                due.append("quarterly")
        if date.month == 1 and date.day == 2:
            due.append("annual")
        if day % daily_every == 0:
            due.append("daily")
        for cadence in sorted(due, key=CADENCE_ORDER.index):
            out.append((day, cadence, base + day * DAY + int(CADENCE_HOUR[cadence] * 3600)))
    return out


def day_of(scenario, epoch):
    return int((epoch - start_epoch(scenario)) // DAY)


def host_values(scenario, host, day):
    """Every scenario value of ``host`` on ``day``: ``{key: value}``."""
    spec = scenario["hosts"][host]
    return dict((key, value_at(v, day)) for key, v in (spec.get("values") or {}).items())


def _check_matches(failure, problem, also=False):
    """Whether ``problem`` is the failure's check (on its host, its subject narrowing it); with ``also``,
    or one of the checks the failure ``explains`` (other symptoms of the same cause)."""
    if problem["host"] != failure["host"]:
        return False
    names = [failure["check"]] + (list(failure.get("explains") or []) if also else [])
    if "%s/%s" % (problem["area"], problem["check"]) not in names:
        return False
    return failure.get("subject", "") in (problem.get("subject") or "")


def evaluate(scenario, observations):
    """Judge a timeline from its observations: ``[{day, cadence, host, area, check, subject, status,
    message}]`` (every non-ok check of every report). Returns ``{failures: [...], false_crit: [...],
    other: [...]}``: per failure the first day it was warned and made crit by its cadence (and by any
    cadence), whether that was by the deadline and whether the message carries the fix word; the
    crits that no failure explains (a failure explains a problem from its start day on, on its host,
    of its check or of the checks it lists under ``explains``); and the warns that no failure explains (counted, not failed: a warn is an opinion)."""
    results = []
    for failure in scenario["failures"]:
        row = dict(failure, first_warn=None, first_crit=None, first_any=None, caught=False, fix_seen=None, message=None)
        for obs in observations:
            if obs["day"] < failure["day"] or obs["status"] not in ("warn", "crit") or not _check_matches(failure, obs):
                continue
            if row["first_any"] is None:
                row["first_any"] = obs["day"]
            if obs["cadence"] != failure["cadence"]:
                continue
            if row["first_warn"] is None:
                row["first_warn"] = obs["day"]
                row["message"] = obs["message"]
                row["fix_seen"] = failure.get("fix", "").lower() in obs["message"].lower()
            if obs["status"] == "crit" and row["first_crit"] is None:
                row["first_crit"] = obs["day"]
        row["caught"] = row["first_warn"] is not None and row["first_warn"] <= failure["deadline"] and bool(row["fix_seen"])
        results.append(row)
    false_crit, other = [], []
    for obs in observations:
        if obs["status"] not in ("warn", "crit"):
            continue
        explained = any(obs["day"] >= f["day"] and _check_matches(f, obs, also=True) for f in scenario["failures"])
        explained = explained or any(obs["day"] >= f["day"] and obs["host"] == f["host"] and obs["area"] == "run"
                                     for f in scenario["failures"])
        if explained:
            continue
        if obs["status"] == "crit":
            false_crit.append(obs)
        else:
            other.append(obs)
    return {"failures": results, "false_crit": false_crit, "other": other}


def observations_from_report(scenario, report):
    """The non-ok checks of one fleet report as observations."""
    day = day_of(scenario, report["_epoch"])
    return [{"day": day, "cadence": report["cadence"], "host": p["host"], "area": p["area"], "check": p["check"],
             "subject": p.get("subject") or "", "status": p["status"], "message": p["message"]}
            for p in report["problems"]]


def _cell(value):
    return "-" if value is None else str(value)


def catch_table_markdown(scenario, verdict):
    """The catch table of docs/cadence.md: one row per failure."""
    lines = ["| failure | host | starts on day | cadence, check | deadline | first warn | first crit | caught |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in verdict["failures"]:
        lines.append("| %s | %s | %d | %s `%s` | %d | %s | %s | %s |" % (
            row["title"], row["host"], row["day"], row["cadence"], row["check"], row["deadline"],
            _cell(row["first_warn"]), _cell(row["first_crit"]), "yes" if row["caught"] else "**no**"))
    return "\n".join(lines) + "\n"


def html_report(scenario, verdict, meta):
    """The timeline's report: a row per failure (injected on day X, first warned on day Y, first crit
    on day Z, by the deadline or not), the false crits and the other warnings, as one HTML page."""
    esc = html.escape
    rows = []
    for row in verdict["failures"]:
        rows.append("<tr data-id=\"%s\" data-caught=\"%s\"><td>%s</td><td>%s</td><td>%d</td><td>%s <code>%s</code></td>"
                    "<td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                        esc(row["id"]), "yes" if row["caught"] else "no", esc(row["title"]), esc(row["host"]), row["day"],
                        esc(row["cadence"]), esc(row["check"]), row["deadline"], _cell(row["first_warn"]),
                        _cell(row["first_crit"]), "yes" if row["caught"] else "NO", esc(row["message"] or "")))
    crit_rows = "".join("<li>day %d %s %s %s/%s %s: %s</li>" % (
        o["day"], esc(o["cadence"]), esc(o["host"]), esc(o["area"]), esc(o["check"]), esc(o["subject"]), esc(o["message"]))
        for o in verdict["false_crit"]) or "<li>none</li>"
    seen = {}
    for o in verdict["other"]:
        seen.setdefault((o["host"], o["area"], o["check"]), []).append(o["day"])
    other_rows = "".join("<li>%s %s/%s: warn on %d runs, first on day %d</li>" % (esc(h), esc(a), esc(c), len(d), min(d))
                         for (h, a, c), d in sorted(seen.items())) or "<li>none</li>"
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>gpufleet timeline</title>"
            "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px}table{border-collapse:collapse}"
            "tr[data-caught=no]{background:#fdd}</style></head><body>"
            "<h1>Fleet timeline: %d days from %s, %d hosts, %d runs</h1><p>%s</p>"
            "<table id=\"failures\"><tr><th>failure</th><th>host</th><th>injected (day)</th><th>cadence, check</th>"
            "<th>deadline</th><th>first warned</th><th>first crit</th><th>caught</th><th>message</th></tr>%s</table>"
            "<h2>Crit that no failure explains (false crit)</h2><ul id=\"false-crit\">%s</ul>"
            "<h2>Other warnings</h2><ul id=\"other\">%s</ul></body></html>" % (
                scenario["days"], esc(scenario["start"]), len(scenario["hosts"]), meta.get("runs", 0),
                esc(meta.get("sampling", "")), "".join(rows), crit_rows, other_rows))


# ------------------------------------------------------------------ the doubles of one day

def smart_text(template, values):
    """A real smartctl NVMe text capture with the day's counters written in (same layout)."""
    def put(label, value, text, suffix=""):
        pattern = re.compile(r"^(%s:\s+)[0-9\u2019,]+(%s.*)$" % (re.escape(label), re.escape(suffix)), re.M)
        number = "{:,}".format(int(round(value))).replace(",", "\u2019")  # smartctl 7.4 groups digits with U+2019
        if label == "Data Units Written":
            tb = int(round(value)) * 512000 / 1e12
            return pattern.sub(lambda m: "%s%s [%.1f TB]" % (m.group(1), number, tb), text)
        return pattern.sub(lambda m: "%s%s%s" % (m.group(1), number, m.group(2)), text)
    text = template
    for key, label in (("data_units_written", "Data Units Written"), ("media_errors", "Media and Data Integrity Errors"),
                       ("unsafe_shutdowns", "Unsafe Shutdowns"), ("power_on_hours", "Power On Hours")):
        if "smart." + key in values:
            text = put(label, values["smart." + key], text)
    if "smart.percentage_used" in values:
        text = put("Percentage Used", values["smart.percentage_used"], text)
    return text


SMI_STANDIN = """#!/bin/sh
# nvidia-smi stand-in of the timeline: replays the day's answer written by the runner.
d=/sim/smi
if [ "$(cat $d/rc)" != 0 ]; then cat $d/error; exit "$(cat $d/rc)"; fi
case " $* " in
  *" -L "*) cat $d/list ;;
  *) cat $d/xml ;;
esac
"""


class Host:
    def __init__(self, timeline, name, spec):
        self.timeline = timeline
        self.name = name
        self.spec = spec
        self.container = "%s-%s" % (timeline.prefix, name)
        self.simdir = os.path.join(timeline.workdir, "sim", name)
        self.gpu = "gpu" in spec
        self.smart = "smart" in spec
        self.llm = None
        self.done_events = set()
        self.fill = None
        self.tls_port = None

    # the container
    def start(self):
        for sub in ("nvml", "bin", "smi", "smart", "sysmodule"):
            os.makedirs(os.path.join(self.simdir, sub), exist_ok=True)
        argv = ["docker", "run", "-d", "--name", self.container, "--hostname", self.name, "--network", self.timeline.network,
                "--tmpfs", "/srv/models:size=64m", "-v", "%s:/sim:ro" % self.simdir]
        if self.gpu:
            shutil.copy(os.path.join(self.timeline.nvml_dir, "libnvidia-ml.so.1"), os.path.join(self.simdir, "nvml"))
            argv += ["-e", "LD_LIBRARY_PATH=/sim/nvml", "-e", "GPUFLEET_NVML_SCENARIO=/sim/nvml/scenario.txt",
                     "-e", "PATH=/sim/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
            with open(os.path.join(self.simdir, "bin", "nvidia-smi"), "w") as handle:
                handle.write(SMI_STANDIN)
            os.chmod(os.path.join(self.simdir, "bin", "nvidia-smi"), 0o755)
        if self.spec.get("driver_packages"):
            # The loaded kernel module as the kernel shows it (/sys/module/nvidia/version): a container
            # shares the machine's kernel, so the module is a bind mount the runner writes.
            argv += ["-v", "%s:/sys/module:ro" % os.path.join(self.simdir, "sysmodule")]
        with open(os.path.join(REPO_ROOT, "tests", "testlib", "fake_smartctl.py")) as source:
            body = source.read()
        with open(os.path.join(self.simdir, "smart", "smartctl"), "w") as handle:
            handle.write("#!/usr/bin/python3\n" + body)
        os.chmod(os.path.join(self.simdir, "smart", "smartctl"), 0o755)
        self.write_smart({})
        self.write_module(host_values(self.timeline.scenario, self.name, 0))
        docker("rm", "-f", self.container, check=False)
        docker(*argv[1:] + [IMAGE, "sleep", "infinity"])
        if self.spec.get("driver_packages"):
            self.install_driver(self.spec["driver_packages"], hold=True)
        if self.spec.get("models"):
            self.exec("mkdir -p /srv/models/gguf /etc/gpufleet && head -c 4194304 /dev/urandom > /srv/models/gguf/%s"
                      " && head -c 2097152 /dev/urandom > /srv/models/gguf/qwen2.5-0.5b-instruct-q8_0.gguf" % MODEL_ROT)
        if self.spec.get("llm"):
            self.llm = self.timeline.start_llm(self.name)
        if self.spec.get("tls"):
            expires = start_epoch(self.timeline.scenario) + self.spec["tls"]["expires_day"] * DAY
            self.tls_port = self.timeline.start_tls(self.name, expires)

    def install_driver(self, version, hold=False):
        """Ubuntu-style NVIDIA driver packages at ``version`` (fake packages, the real dpkg), and the DKMS
        build of their module for the running kernel, as the packages' postinst would leave it."""
        debdir = os.path.join(self.timeline.workdir, "debs", version)
        if not os.path.isdir(debdir):
            os.makedirs(debdir)
            full = "%s-0ubuntu0.22.04.1" % version
            for name, depends, files in (
                    ("libnvidia-compute-535", None, {"usr/lib/x86_64-linux-gnu/libnvidia-ml.so.%s" % version: ""}),
                    ("nvidia-dkms-535", None, {}),
                    ("nvidia-driver-535", "nvidia-dkms-535 (= %s), libnvidia-compute-535 (= %s)" % (full, full), {})):
                fake_debs.build_deb(debdir, name, full, depends, files)
        docker("cp", debdir, "%s:/tmp/debs-%s" % (self.container, version))
        kernel = os.uname().release
        self.exec("dpkg -i /tmp/debs-{v}/*.deb >/dev/null"
                  " && mkdir -p /lib/modules/{k}/updates/dkms /var/lib/dkms/nvidia/{v}/{k}/x86_64/module"
                  " && touch /lib/modules/{k}/updates/dkms/nvidia.ko /var/lib/dkms/nvidia/{v}/{k}/x86_64/module/nvidia.ko"
                  " && for d in /var/lib/dkms/nvidia/*; do [ \"$d\" = /var/lib/dkms/nvidia/{v} ] || rm -rf \"$d\"; done"
                  .format(k=kernel, v=version)
                  + (" && apt-mark hold nvidia-driver-535 nvidia-dkms-535 libnvidia-compute-535 >/dev/null" if hold else ""))

    def write_module(self, values):
        """/sys/module/nvidia/version of the day (only where the host has the driver packages)."""
        if self.spec.get("driver_packages"):
            os.makedirs(os.path.join(self.simdir, "sysmodule", "nvidia"), exist_ok=True)
            _write(os.path.join(self.simdir, "sysmodule", "nvidia", "version"),
                   "%s\n" % values.get("module_version", self.spec["driver_packages"]))

    def exec(self, command):
        return docker("exec", self.container, "sh", "-c", command)

    def remove(self):
        docker("rm", "-f", self.container, check=False)

    # the day's doubles
    def apply(self, day):
        values = host_values(self.timeline.scenario, self.name, day)
        if self.gpu:
            self.write_gpu(values)
        self.write_module(values)
        if self.smart:
            self.write_smart(values)
        if self.llm and any(k.startswith("llm.") for k in values):
            control = dict((k[4:], v) for k, v in values.items() if k.startswith("llm."))
            _post_json(self.llm["url"] + "/_control", control)
        if "fill_mib" in values:
            mib = int(round(values["fill_mib"]))
            if mib != self.fill:
                self.exec("rm -f /srv/models/.fill && fallocate -l %dM /srv/models/.fill" % mib)
                self.fill = mib
        for index, event in enumerate(self.spec.get("events") or []):
            if event["day"] <= day and index not in self.done_events:
                self.done_events.add(index)
                if event.get("run") == "rot":
                    self.rot_model()
                elif event.get("upgrade_driver"):
                    self.install_driver(event["upgrade_driver"])
                else:
                    self.exec(event["run"].replace("{newer_kernel}", newer_kernel()))

    def rot_model(self):
        """Other bytes in the middle of a model file, its size and mtime (to the nanosecond) put back:
        bit rot as the file system shows it."""
        self.exec("python3 -c \"import os; f='/srv/models/gguf/%s'; st=os.stat(f); fd=os.open(f, os.O_WRONLY); "
                  "os.pwrite(fd, b'ROT', 1048576); os.close(fd); os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))\"" % MODEL_ROT)

    def write_gpu(self, values):
        scenario = json.loads(json.dumps(self.timeline.gpu_base))
        scenario["driver_version"] = values.get("gpu.driver_version", self.spec["gpu"].get("driver_version", scenario.get("driver_version")))
        gpu = scenario["gpus"][0]
        gpu.setdefault("remap", "0,0,0,0")
        init = 0
        for key, value in values.items():
            if key == "gpu.init":
                init = int(value)
            elif key.startswith("gpu.") and key != "gpu.driver_version":
                gpu[key[4:]] = int(round(value)) if isinstance(value, float) else value
        scenario["init"] = init
        nvml_double.write_scenario(scenario, os.path.join(self.simdir, "nvml", "scenario.txt"))
        smi = os.path.join(self.simdir, "smi")
        xml = self.timeline.gpu_xml
        for tag, key, unit in (("gpu_temp", "temp", " C"), ("memory_temp", "field.82", " C")):
            xml = re.sub(r"<%s>[^<]*</%s>" % (tag, tag), "<%s>%s%s</%s>" % (tag, gpu.get(key), unit, tag), xml, count=1)
        _write(os.path.join(smi, "xml"), xml)
        _write(os.path.join(smi, "list"), "GPU 0: %s (UUID: %s)\n" % (gpu["name"], gpu["uuid"]))
        _write(os.path.join(smi, "rc"), "%d\n" % (18 if init == 18 else 0))
        _write(os.path.join(smi, "error"), "Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 535.216\n")

    def write_smart(self, values):
        devices = {}
        if self.smart:
            values = dict(values)
            _write(os.path.join(self.simdir, "smart", "nvme0.txt"), smart_text(self.timeline.smart_template, values))
            devices["/dev/nvme0"] = {"type": "nvme", "text": "nvme0.txt", "rc": 0}
        _write(os.path.join(self.simdir, "smart", "scenario.json"), json.dumps({"fixtures": "/sim/smart", "devices": devices}))

    def host_vars(self):
        # No Docker engine and no runner logs on these boxes: the weekly Docker hygiene and the daily log
        # rotation are off, as docs/cadence.md says to set them for such a box.
        # The docker CLI connection: measured here, a daily over the six hosts takes 8.8 s with it against
        # 10.2 s with docker_api (whose Python client each forked worker sets up again).
        out = {"ansible_connection": "community.docker.docker", "ansible_host": self.container,
               "gpufleet_disk_paths": ["/", "/srv/models"],
               "gpufleet_docker_hygiene": False, "gpufleet_log_rotate_paths": [],
               "ssd_wear_smartctl_path": "/sim/smart/smartctl"}
        if self.spec.get("psu_watts"):
            out["gpufleet_psu_watts"] = self.spec["psu_watts"]
        if self.smart and self.spec["smart"].get("rated_tbw"):
            out["ssd_wear_rated_tbw"] = {"WDS200T1X0E-00AFY0": self.spec["smart"]["rated_tbw"]}
        if self.llm:
            out["gpufleet_llm_endpoint"] = self.llm["container_url"]
            out["gpufleet_llm_model"] = "replay:1b"
            out["benchmark_repeats"] = 1   # the weekly suite: one measured request per prompt, no warm-up
            out["benchmark_warmup"] = 0
            # One prompt of the default suite: the replay server waits the simulated time to first token
            # (up to 11 s) and between tokens for real, once per prompt; one prompt shows the drift as well.
            out["benchmark_suite"] = [TIMELINE_PROMPT]
        if self.spec.get("tls"):
            out["gpufleet_tls_endpoints"] = [{"name": "front-door", "host": "127.0.0.1", "port": self.tls_port,
                                              "server_name": "%s.example.internal" % self.name}]
        if self.spec.get("models"):
            out["gpufleet_model_manifest"] = "/etc/gpufleet/models.json"
            out["gpufleet_model_roots"] = ["/srv/models"]
        return out


def newer_kernel(release=None):
    """A kernel release newer than the running one (containers share the machine's kernel): 6.18.44-x → 6.19.0-1-amd64."""
    major, minor = (release or os.uname().release).split(".")[:2]
    return "%s.%d.0-1-amd64" % (major, int(re.match(r"\d+", minor).group(0)) + 1)


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


class Timeline:
    """Run a scenario: ``with Timeline(workdir) as tl: tl.run(daily_every=14, weekly_every=4)``."""

    def __init__(self, workdir, scenario=None, prefix="gpftl", log=None):
        self.workdir = os.path.abspath(str(workdir))
        self.scenario = scenario or load()
        self.prefix = prefix
        self.log = log or (lambda msg: print(msg, flush=True))
        self.hosts = []
        self.servers = []
        self.sockets = []
        self.observations = []
        self.run_log = []
        with open(os.path.join(FIXTURES, self.scenario["gpu_capture"])) as handle:
            self.gpu_xml = handle.read()
        self.gpu_base = nvml_double.scenario_from_xml(self.gpu_xml)
        with open(os.path.join(FIXTURES, self.scenario["smart_capture"]), encoding="utf-8") as handle:
            self.smart_template = handle.read()
        self.nvml_dir = None
        self.gateway = None
        self.network = None

    def __enter__(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.nvml_dir = nvml_double.build()
        # The hosts' own network (a bridge of this timeline, so nothing else that resets docker0 cuts them
        # off): they reach the replay LLM servers at its gateway, and Debian's archive through its NAT.
        self.network = self.prefix + "-net"
        docker("network", "rm", self.network, check=False)
        docker("network", "create", self.network)
        self.gateway = docker("network", "inspect", self.network, "-f", "{{(index .IPAM.Config 0).Gateway}}").stdout.strip()
        for name, spec in self.scenario["hosts"].items():
            host = Host(self, name, spec)
            self.hosts.append(host)
        for host in self.hosts:
            host.start()
        self.inventory = os.path.join(self.workdir, "inventory.yml")
        self.write_inventory()
        return self

    def write_inventory(self, provisioned=False):
        """The hosts as fresh boxes (the prerequisites step of every cadence provisions them), or, once a run
        has, as a provisioned fleet: ``gpufleet_prerequisites: false`` and the interpreter of the virtual
        environment the role made (docs/fleet.md, "Managing the boxes' Python yourself")."""
        hosts = {}
        for host in self.hosts:
            hostvars = host.host_vars()
            if provisioned:
                hostvars.update({"gpufleet_prerequisites": False, "ansible_python_interpreter": PROVISIONED_PYTHON})
            hosts[host.name] = hostvars
        with open(self.inventory, "w") as handle:
            yaml.safe_dump({"all": {"hosts": hosts}}, handle)

    def __exit__(self, *exc):
        for host in self.hosts:
            host.remove()
        docker("network", "rm", self.network, check=False)
        for listener in self.sockets:
            listener.close()
        for proc in self.servers:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def start_llm(self, name):
        """The replay LLM server for one host, listening on the Docker bridge's gateway (the hosts reach it there)."""
        env = dict(os.environ, GPUFLEET_REPLAY_BIND=self.gateway)
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "llm_replay_server.py"),
                                 # one answer that every prompt of the weekly suite accepts (its expect patterns)
                                 json.dumps({"first_delay_s": 0.4, "tokens": 24,
                                             "text": "billing: notice of termination on 2025-03-03."})],
                                stdout=subprocess.PIPE, text=True, env=env)
        self.servers.append(proc)
        port = int(proc.stdout.readline().split()[1])
        return {"url": "http://%s:%d" % (self.gateway, port), "container_url": "http://%s:%d" % (self.gateway, port)}

    def start_tls(self, name, not_after):
        """A TLS front door on the controller (the weekly reads certificates from there) whose certificate
        expires on a simulated day."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "%s.example.internal" % name)])
        begins = datetime.datetime.fromtimestamp(start_epoch(self.scenario) - 30 * DAY, datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(begins)
                .not_valid_after(datetime.datetime.fromtimestamp(not_after, datetime.timezone.utc))
                .sign(key, hashes.SHA256()))
        pem = os.path.join(self.workdir, "tls-%s.pem" % name)
        with open(pem, "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pem)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        self.sockets.append(listener)

        def serve():
            while True:
                try:
                    conn, _addr = listener.accept()
                except OSError:
                    return
                try:
                    with context.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(1)
                except (OSError, ssl.SSLError):
                    pass
                finally:
                    conn.close()
        threading.Thread(target=serve, daemon=True).start()
        return listener.getsockname()[1]

    def _setup_models(self):
        """The model manifest of the hosts with models, written by the collection's own scan."""
        names = [h.name for h in self.hosts if h.spec.get("models")]
        if not names:
            return
        play = os.path.join(self.workdir, "models-scan.yml")
        with open(play, "w") as handle:
            yaml.safe_dump([{"name": "Write the model manifests", "hosts": ",".join(names), "gather_facts": False, "become": True,
                             "vars": {"ansible_python_interpreter": "/usr/bin/python3"},   # before the prerequisites: stdlib only
                             "tasks": [{"name": "Scan", "gpufleet.maintenance.model_manifest": {
                                 "mode": "scan", "roots": ["/srv/models"], "manifest": "/etc/gpufleet/models.json",
                                 "now": start_epoch(self.scenario)}}]}], handle)   # hashed on day 0 of the timeline
        proc = self.playbook(play, {})
        if proc.returncode != 0:
            raise RuntimeError("model manifest scan failed:\n%s" % proc.stdout[-3000:])

    def playbook(self, playbook, evars, timeout=600):
        """ansible-playbook over the timeline's hosts (the prerequisites role on, as on a user's fleet)."""
        cmd = [os.path.join(BIN, "ansible-playbook"), playbook, "-i", self.inventory, "-e", json.dumps(evars)]
        # Pipelining as ansible.cfg sets it for SSH (the docker connection has it too): one exec per task.
        env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
                          ANSIBLE_PIPELINING="1")
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        with open(os.path.join(self.workdir, "ansible.log"), "a") as handle:
            handle.write("### %s %s\n%s\n%s\n" % (playbook, json.dumps(evars), proc.stdout, proc.stderr))
        return proc

    def run(self, daily_every=1, weekly_every=1, limit_days=None, provision_once=True, monthly_every=1):
        """Every run of the schedule, in order. With ``provision_once`` the first run runs the prerequisites
        step on the fresh hosts (as every cadence does by default) and the later ones treat the hosts as
        provisioned (``write_inventory``): the step is a read and five task slots per host per run that no
        failure of the scenario is about, and the fleet tests prove it on every run."""
        schedule = runs(self.scenario, daily_every, weekly_every, monthly_every)
        if limit_days is not None:
            schedule = [r for r in schedule if r[0] < limit_days]
        reports = os.path.join(self.workdir, "reports")
        history = os.path.join(self.workdir, "history.db")
        started = time.time()
        self._setup_models()
        for index, (day, cadence, epoch) in enumerate(schedule):
            for host in self.hosts:
                host.apply(day)
            evars = {"gpufleet_now": epoch, "gpufleet_report_dir": reports, "gpufleet_history_path": history,
                     "gpufleet_report_formats": ["json"], "gpufleet_image_check_remote": False}
            t0 = time.time()
            proc = self.playbook("playbooks/%s.yml" % cadence, evars)
            took = time.time() - t0
            report = self._report(reports, cadence, t0)
            self.run_log.append({"day": day, "cadence": cadence, "epoch": epoch, "rc": proc.returncode, "seconds": round(took, 1)})
            if report is None:
                raise RuntimeError("day %d %s wrote no report (rc %s):\n%s\n%s" % (
                    day, cadence, proc.returncode, proc.stdout[-4000:], proc.stderr[-2000:]))
            report["_epoch"] = epoch
            self.observations.extend(observations_from_report(self.scenario, report))
            self.log("day %3d %-9s rc %s %5.1f s  %s  (%d/%d, %.0f s)" % (
                day, cadence, proc.returncode, took, report["status"], index + 1, len(schedule), time.time() - started))
            if provision_once and index == 0:
                self.write_inventory(provisioned=True)
        return evaluate(self.scenario, self.observations)

    @staticmethod
    def _report(directory, cadence, since):
        found = []
        for name in os.listdir(directory) if os.path.isdir(directory) else []:
            path = os.path.join(directory, name)
            if name.startswith(cadence + "-") and name.endswith(".json") and os.path.getmtime(path) >= since - 1:
                found.append(path)
        if not found:
            return None
        with open(max(found, key=os.path.getmtime)) as handle:
            return json.load(handle)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--scenario", default=SCENARIO)
    parser.add_argument("--daily-every", type=int, default=3)
    parser.add_argument("--weekly-every", type=int, default=1)
    parser.add_argument("--monthly-every", type=int, default=1)
    parser.add_argument("--limit-days", type=int)
    args = parser.parse_args(argv)
    scenario = load(args.scenario)
    with Timeline(args.out, scenario) as timeline:
        verdict = timeline.run(args.daily_every, args.weekly_every, args.limit_days, monthly_every=args.monthly_every)
    meta = {"runs": len(timeline.run_log), "sampling": "daily every %d days, weekly every %d weeks" % (args.daily_every, args.weekly_every)}
    with open(os.path.join(args.out, "timeline.json"), "w") as handle:
        json.dump({"meta": meta, "verdict": verdict, "runs": timeline.run_log}, handle, indent=1)
    with open(os.path.join(args.out, "timeline.html"), "w") as handle:
        handle.write(html_report(scenario, verdict, meta))
    print(catch_table_markdown(scenario, verdict))
    print("false crit: %d" % len(verdict["false_crit"]))
    return 0 if all(r["caught"] for r in verdict["failures"]) and not verdict["false_crit"] else 1


if __name__ == "__main__":
    sys.exit(main())
