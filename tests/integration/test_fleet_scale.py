"""Running at fleet scale: AWX schedules and execution environment, ansible-runner the way AWX runs
playbooks, systemd timers for one box, Prometheus textfile metrics scraped by a real node_exporter."""

import datetime
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml
from dateutil import rrule as du_rrule
from dateutil import tz

from testlib.ansible_run import REPO_ROOT, run_module, run_playbook
from testlib.system import apt_ensure

pytestmark = pytest.mark.integration
BIN = os.path.dirname(sys.executable)
CADENCES = ["daily", "weekly", "monthly", "quarterly", "annual"]


# ---------------------------------------------------------------- AWX / Automation Controller

def test_awx_configure_resolves_its_modules():
    proc = run_playbook("playbooks/awx_configure.yml", ["--syntax-check"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_awx_schedules_are_valid_rrules_in_the_users_time_zone():
    proc = run_playbook("playbooks/awx_configure.yml", ["-e", "gpufleet_awx_preview=true", "-e", "gpufleet_awx_timezone=America/New_York"],
                        json_output=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    data = json.loads(proc.stdout)
    schedules = data["plays"][0]["tasks"][0]["hosts"]["localhost"]["__gpufleet_awx_schedules"]
    assert sorted(schedules) == sorted(CADENCES)
    newyork = tz.gettz("America/New_York")
    after = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=newyork)
    expected = {
        "daily": "2026-11-27 06:00 Fri",
        "weekly": "2026-11-29 03:00 Sun",
        "monthly": "2026-12-01 04:00 Tue",
        "quarterly": "2027-01-01 05:00 Fri",
        "annual": "2027-01-02 05:00 Sat",
    }
    for cadence, rule in schedules.items():
        assert rule.startswith("DTSTART;TZID=America/New_York:")
        parsed = du_rrule.rrulestr(rule.replace(" RRULE:", "\nRRULE:"))
        nxt = parsed.after(after)
        assert nxt.strftime("%Y-%m-%d %H:%M %a") == expected[cadence], cadence
        assert nxt.utcoffset() == datetime.timedelta(hours=-5)  # EST in winter: the user's zone, not UTC


def test_execution_environment_build_context(tmp_path):
    """ansible-builder create on the EE definition with the collection tarball beside it (the image itself is
    built and run in tests/ee/test_execution_environment.py)."""
    shutil.copy(os.path.join(REPO_ROOT, "execution-environment.yml"), tmp_path / "execution-environment.yml")
    shutil.copytree(os.path.join(REPO_ROOT, "ee"), tmp_path / "ee", ignore=shutil.ignore_patterns("dist"))
    build = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path / "ee" / "dist"),
                            REPO_ROOT], capture_output=True, text=True, check=False, timeout=300)
    assert build.returncode == 0, build.stderr
    context = tmp_path / "context"
    proc = subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", str(context),
                           "--output-filename", "Containerfile"], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="local/gpufleet-ee-base:trixie"' in containerfile
    assert 'ARG PKGMGR="/usr/local/bin/apt-dnf"' in containerfile
    assert 'ARG ANSIBLE_GALAXY_CLI_COLLECTION_OPTS="--no-deps"' in containerfile
    assert "/output/scripts/pip_install" not in containerfile   # skip_pip_install: the base has pip
    assert 'LABEL org.opencontainers.image.title="gpufleet.maintenance execution environment"' in containerfile
    built = context / "_build"
    assert (built / "requirements.txt").read_text().splitlines()[-1] == "ansible==14.5.0"
    galaxy = yaml.safe_load((built / "requirements.yml").read_text())
    with open(os.path.join(REPO_ROOT, "galaxy.yml")) as handle:
        version = yaml.safe_load(handle)["version"]
    assert galaxy["collections"] == [{"name": "dist/gpufleet-maintenance-%s.tar.gz" % version, "type": "file"}]
    assert (built / "dist" / ("gpufleet-maintenance-%s.tar.gz" % version)).is_file()


# ---------------------------------------------------------------- ansible-runner, as AWX runs jobs

def _private_data_dir(tmp_path):
    pdd = tmp_path / "pdd"
    (pdd / "env").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    project = pdd / "project"
    shutil.copytree(os.path.join(REPO_ROOT, "playbooks"), project / "playbooks")
    # AWX installs the project's collections under the project; here the checkout is linked.
    coll = project / "collections" / "ansible_collections" / "gpufleet"
    coll.mkdir(parents=True)
    os.symlink(REPO_ROOT, coll / "maintenance")
    (pdd / "inventory" / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    (pdd / "env" / "envvars").write_text(yaml.safe_dump({
        "ANSIBLE_COLLECTIONS_PATH": str(project / "collections"), "ANSIBLE_DEPRECATION_WARNINGS": "0"}))
    # the prerequisites role is for fleet hosts: on this localhost it would install packages as root
    (pdd / "env" / "extravars").write_text(yaml.safe_dump({"host_health_paths": ["/", "/nonexistent-gpufleet"],
                                                          "gpufleet_prerequisites": False}))
    return pdd


def test_ansible_runner_runs_daily_with_events_and_artifacts(tmp_path):
    import ansible_runner

    pdd = _private_data_dir(tmp_path)
    runner = ansible_runner.run(private_data_dir=str(pdd), playbook="playbooks/daily.yml", ident="daily-1", quiet=True,
                                envvars={"PATH": BIN + os.pathsep + os.environ["PATH"]})
    assert runner.status == "successful", runner.stdout.read()[-3000:]
    assert runner.rc == 0
    assert runner.stats["ok"]["localhost"] >= 3 and runner.stats["failures"] == {}
    oks = [e for e in runner.events if e["event"] == "runner_on_ok"]
    facts_events = [e for e in oks if "gpufleet_host" in (e["event_data"].get("res", {}).get("ansible_facts") or {})]
    assert len(facts_events) == 1
    disks = facts_events[0]["event_data"]["res"]["ansible_facts"]["gpufleet_host"]["disks"]
    assert [d["path"] for d in disks] == ["/", "/nonexistent-gpufleet"]
    artifacts = pdd / "artifacts" / "daily-1"
    assert (artifacts / "status").read_text() == "successful"
    assert (artifacts / "rc").read_text() == "0"
    assert len(list((artifacts / "job_events").glob("*.json"))) == len(list(runner.events))
    assert "status: " in (artifacts / "stdout").read_text()
    # The cadence report is an artifact of the job too (reports/ relative to the project AWX runs in).
    reports = glob.glob(str(pdd / "project" / "reports" / "daily-*.json"))
    assert len(reports) == 1, "the daily run wrote %s" % reports
    with open(reports[0]) as handle:
        assert [h["host"] for h in json.load(handle)["hosts"]] == ["localhost"]


def test_ansible_runner_transmit_worker_process_pipeline(tmp_path):
    pdd = _private_data_dir(tmp_path)
    runner_bin = os.path.join(BIN, "ansible-runner")
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
    transmit = subprocess.Popen([runner_bin, "transmit", str(pdd), "-p", "playbooks/daily.yml"], stdout=subprocess.PIPE, env=env)
    worker = subprocess.Popen([runner_bin, "worker"], stdin=transmit.stdout, stdout=subprocess.PIPE, env=env)
    transmit.stdout.close()
    out_dir = tmp_path / "processed"
    process = subprocess.run([runner_bin, "process", str(out_dir)], stdin=worker.stdout, capture_output=True, text=True,
                             env=env, timeout=300, check=False)
    worker.wait(timeout=60)
    transmit.wait(timeout=60)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert (out_dir / "artifacts" / "status").read_text() == "successful"
    assert (out_dir / "artifacts" / "rc").read_text() == "0"
    assert list((out_dir / "artifacts" / "job_events").glob("*.json"))
    assert "gpufleet.maintenance.fleet_report : Print the health summary of each host" in process.stdout


# ---------------------------------------------------------------- systemd timers for one box

def _timers_playbook(tmp_path, cadences, state="present", **extra):
    playbook = tmp_path / "timers.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "cadence timers", "hosts": "localhost", "gather_facts": False,
        "roles": [{"role": "gpufleet.maintenance.cadence_timers", "vars": {
            "cadence_timers_state": state,
            "cadence_timers_cadences": cadences,
            "cadence_timers_checkout": REPO_ROOT,
            "cadence_timers_venv": os.path.dirname(BIN),
            "cadence_timers_unit_dir": str(tmp_path / "units"),
            "cadence_timers_wrapper_path": str(tmp_path / "libexec" / "run-cadence"),
            **extra,
        }}]}]))
    (tmp_path / "units").mkdir(exist_ok=True)
    return str(playbook)


def test_cadence_timers_units_verify_and_are_idempotent(tmp_path):
    cadences = CADENCES
    playbook = _timers_playbook(tmp_path, cadences)
    check = run_playbook(playbook, ["--check"])
    assert check.returncode == 0, check.stdout + check.stderr
    assert sorted(os.listdir(tmp_path / "units")) == [], "check mode wrote files"
    first = run_playbook(playbook)
    assert first.returncode == 0, first.stdout + first.stderr
    # Enabling needs a running systemd (PID 1 with /run/systemd/system); CI machines have none, and
    # the role says so instead of failing (molecule or a systemd container host covers enabling).
    if os.path.isdir("/run/systemd/system"):
        assert "Enable and start the timers" in first.stdout and "systemd is not running" not in first.stdout
    else:
        assert "systemd is not running on localhost: units written to %s" % (tmp_path / "units") in first.stdout
    units = sorted(os.listdir(tmp_path / "units"))
    assert units == sorted(["gpufleet-%s.%s" % (c, k) for c in cadences for k in ("service", "timer")])
    verify = subprocess.run(["systemd-analyze", "verify"] + [str(tmp_path / "units" / u) for u in units],
                            capture_output=True, text=True, check=False, timeout=60)
    assert verify.returncode == 0, verify.stderr
    for cadence in cadences:
        timer = (tmp_path / "units" / ("gpufleet-%s.timer" % cadence)).read_text()
        assert "Persistent=true" in timer and "RandomizedDelaySec=15min" in timer
        on_calendar = [line.split("=", 1)[1] for line in timer.splitlines() if line.startswith("OnCalendar=")][0]
        cal = subprocess.run(["systemd-analyze", "calendar", on_calendar], capture_output=True, text=True, check=False)
        assert cal.returncode == 0 and "Next elapse:" in cal.stdout, cal.stderr
        service = (tmp_path / "units" / ("gpufleet-%s.service" % cadence)).read_text()
        assert "ExecStart=%s %s" % (tmp_path / "libexec" / "run-cadence", cadence) in service
        assert "SyslogIdentifier=gpufleet-%s" % cadence in service
    second = run_playbook(playbook)
    assert second.returncode == 0 and "changed=0" in second.stdout, second.stdout
    removed = run_playbook(_timers_playbook(tmp_path, cadences, state="absent"))
    assert removed.returncode == 0, removed.stdout
    assert os.listdir(tmp_path / "units") == [] and not (tmp_path / "libexec" / "run-cadence").exists()


def test_cadence_wrapper_prefixes_every_line(tmp_path):
    playbook = _timers_playbook(tmp_path, ["daily"])
    assert run_playbook(playbook).returncode == 0
    proc = subprocess.run([str(tmp_path / "libexec" / "run-cadence"), "daily"], capture_output=True, text=True, check=False,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) > 5
    prefix = "host=%s playbook=daily.yml collection=0.1.0 " % socket.gethostname()
    assert all(line.startswith(prefix) for line in lines), lines[:3]
    assert any("status: " in line for line in lines)


def test_cadence_timers_unreachable_ok(tmp_path):
    """cadence_timers_unreachable_ok: the service counts ansible-playbook's exit code 4 (hosts unreachable,
    none failed) as success and the wrapper asks the playbook for gpufleet_unreachable_ok; the wrapper
    passes the real exit code of a run whose only host is down."""
    default = _timers_playbook(tmp_path, ["daily"])
    assert run_playbook(default).returncode == 0
    assert "SuccessExitStatus" not in (tmp_path / "units" / "gpufleet-daily.service").read_text()
    inventory = tmp_path / "down.yml"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]   # nothing listens there once the socket is closed
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"box-down": {
        "ansible_host": "127.0.0.1", "ansible_port": port, "ansible_connection": "ssh"}}}}))
    playbook = _timers_playbook(tmp_path, ["daily"], cadence_timers_unreachable_ok=True, cadence_timers_inventory=str(inventory),
                                cadence_timers_extra_args=["-e", json.dumps({"gpufleet_report_dir": str(tmp_path / "reports"),
                                                                             "gpufleet_history_path": str(tmp_path / "h.db")})])
    proc = run_playbook(playbook)
    assert proc.returncode == 0, proc.stdout[-3000:]
    service = (tmp_path / "units" / "gpufleet-daily.service").read_text()
    assert "\nSuccessExitStatus=4\n" in service
    verify = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "units" / "gpufleet-daily.service"),
                             str(tmp_path / "units" / "gpufleet-daily.timer")], capture_output=True, text=True, check=False, timeout=60)
    assert verify.returncode == 0, verify.stderr
    wrapper = tmp_path / "libexec" / "run-cadence"
    assert '"playbooks/${cadence}.yml" -e gpufleet_unreachable_ok=true -e ' in wrapper.read_text()
    run = subprocess.run([str(wrapper), "daily"], capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode == 4, run.stdout[-3000:]   # what SuccessExitStatus=4 turns into a successful unit
    assert "UNREACHABLE!" in run.stdout and "unreachable=1" in run.stdout


# ---------------------------------------------------------------- Prometheus textfile metrics

@pytest.fixture(scope="module")
def prometheus_tools():
    apt_ensure("prometheus", "prometheus-node-exporter")
    return shutil.which("promtool") or "/usr/bin/promtool", shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _scrape(node_exporter, textdir):
    """Start the real node_exporter on the textfile directory, return one scrape of /metrics."""
    port = _free_port()
    proc = subprocess.Popen([node_exporter, "--web.listen-address=127.0.0.1:%d" % port,
                             "--collector.textfile.directory=%s" % textdir, "--no-collector.systemd"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2).read().decode()
            except OSError:
                time.sleep(0.2)
        raise AssertionError("node_exporter did not answer")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


SAMPLE_FACTS = {
    "gpufleet_gpu": {"nvidia": {"gpus": [{"index": 0, "uuid": "GPU-b29d356a", "name": "NVIDIA H200", "temperature_c": 31,
                                          "memory_temperature_c": 35, "power_draw_w": 101.4, "memory_used_mib": 615,
                                          "memory_total_mib": 143771, "ecc": {"volatile_uncorrected": 0}}]},
                     "checks": [{"check": "temperature", "gpu": 0, "status": "ok"}], "status": "ok"},
    "gpufleet_smart": {"devices": [{"name": "/dev/nvme0", "model": "WDS100T2B0C", "serial": "X", "wear_pct_used": 2,
                                    "projected_days_to_rated_tbw": 2100.0}], "checks": [], "status": "ok"},
}


def test_metrics_file_passes_promtool_and_is_scraped_by_node_exporter(tmp_path, prometheus_tools):
    promtool, node_exporter = prometheus_tools
    textdir = tmp_path / "textfile"
    textdir.mkdir()
    host = run_module("gpufleet.maintenance.host_facts", {"paths": ["/"]})["ansible_facts"]
    facts = dict(SAMPLE_FACTS, **host)
    path = str(textdir / "gpufleet.prom")
    check = run_module("gpufleet.maintenance.prometheus_textfile", {"path": path, "facts": facts, "cadence": "daily"}, check=True)
    assert check["changed"] is True and not os.path.exists(path)
    result = run_module("gpufleet.maintenance.prometheus_textfile", {"path": path, "facts": facts, "cadence": "daily"})
    assert result["changed"] is True and result["samples"] > 10
    assert os.listdir(textdir) == ["gpufleet.prom"]  # no temp file left behind
    text = open(path).read()
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    again = run_module("gpufleet.maintenance.prometheus_textfile", {"path": path, "facts": facts})
    assert again["changed"] is False
    # a later daily run refreshes the last-run time: the file is rewritten, the task is not a change
    later = run_module("gpufleet.maintenance.prometheus_textfile", {"path": path, "facts": facts, "cadence": "daily"})
    assert later["changed"] is False and open(path).read() != text
    body = _scrape(node_exporter, textdir)
    assert "node_textfile_scrape_error 0" in body
    assert 'gpufleet_gpu_memory_temperature_celsius{gpu="0",name="NVIDIA H200",uuid="GPU-b29d356a",vendor="nvidia"} 35' in body
    assert 'gpufleet_last_success_timestamp_seconds{cadence="daily"}' in body
    assert 'gpufleet_disk_used_ratio{mount="/",path="/"}' in body
    series = 'gpufleet_ssd_projected_seconds_to_rated_tbw{device="/dev/nvme0",model="WDS100T2B0C",serial="X"} '
    values = [float(line[len(series):]) for line in body.splitlines() if line.startswith(series)]
    assert values == [2100 * 86400.0]


def test_metrics_module_fails_cleanly_without_the_directory(tmp_path):
    result = run_module("gpufleet.maintenance.prometheus_textfile", {"path": str(tmp_path / "missing" / "x.prom")})
    assert result["failed"] is True
    assert "does not exist" in result["msg"] and "metrics_export_create_dir" in result["msg"]


def test_daily_with_metrics_export_writes_what_node_exporter_scrapes(tmp_path, prometheus_tools):
    """The metrics_export role at the end of playbooks/daily.yml (gpufleet_metrics_export on)."""
    promtool, node_exporter = prometheus_tools
    textdir = tmp_path / "textfile"
    textdir.mkdir()
    evars = {"gpufleet_metrics_export": True, "metrics_export_dir": str(textdir),
             "gpufleet_report_dir": str(tmp_path / "reports"), "gpufleet_history_path": str(tmp_path / "history.db")}
    proc = run_playbook("playbooks/daily.yml", ["-e", json.dumps(evars)])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "gpufleet.maintenance.metrics_export : Write the metrics file" in proc.stdout
    assert os.listdir(textdir) == ["gpufleet.prom"]
    text = (textdir / "gpufleet.prom").read_text()
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    body = _scrape(node_exporter, textdir)
    assert "node_textfile_scrape_error 0" in body
    started = [float(line.rsplit(" ", 1)[1]) for line in body.splitlines()
               if line.startswith('gpufleet_last_success_timestamp_seconds{cadence="daily"} ')]
    assert len(started) == 1 and started[0] <= time.time()
    used = [float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith('gpufleet_disk_used_ratio{mount="/",path="/"} ')]
    df = subprocess.run(["df", "--output=pcent", "/"], capture_output=True, text=True, check=True).stdout.splitlines()[1]
    assert len(used) == 1 and abs(used[0] * 100 - int(df.strip().rstrip("%"))) <= 1  # df rounds up
    # The controller's trend checks (daily disk_fill) wait for history: one run so far is no verdict, so no
    # series (a waiting check is not exported as unknown or ok); tests/unit/plugins/action covers a judged one.
    assert not [line for line in body.splitlines() if line.startswith('gpufleet_check_status{area="trends"')]

    # Where the textfile directory is missing, the role says so and the cadence goes on.
    evars["metrics_export_dir"] = str(tmp_path / "no-node-exporter-here")
    proc = run_playbook("playbooks/daily.yml", ["-e", json.dumps(evars)])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "localhost: no metrics written:" in proc.stdout and "(install prometheus-node-exporter" in proc.stdout
    assert not (tmp_path / "no-node-exporter-here").exists()


def _normalized(calendar):
    """systemd's own normalized form of a calendar expression (systemd-analyze calendar)."""
    proc = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return re.search(r"Normalized form: (.+)", proc.stdout).group(1).strip()


def test_timers_playbook_writes_units_systemd_accepts(tmp_path):
    """playbooks/timers.yml itself (staged rollout, canary first) on this machine, where systemd is not
    PID 1: the units are written and verified; enabling them is covered where systemd runs
    (tests/integration/test_handlers.py)."""
    evars = {"gpufleet_rollout_hosts": "localhost", "cadence_timers_unit_dir": str(tmp_path / "units"),
             "cadence_timers_wrapper_path": str(tmp_path / "libexec" / "run-cadence"),
             "cadence_timers_venv": os.path.dirname(BIN)}
    (tmp_path / "units").mkdir()
    proc = run_playbook("playbooks/timers.yml", ["-e", json.dumps(evars)], json_output=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert [p["play"]["name"] for p in data["plays"]] == ["Install the gpufleet cadence timers"]
    units = sorted(os.listdir(tmp_path / "units"))
    assert units == sorted("gpufleet-%s.%s" % (c, k) for c in CADENCES for k in ("service", "timer"))
    verify = subprocess.run(["systemd-analyze", "verify"] + [str(tmp_path / "units" / u) for u in units],
                            capture_output=True, text=True, check=False, timeout=60)
    assert verify.returncode == 0, verify.stderr
    # The calendar of docs/cadence.md, written here as systemd expressions and compared in systemd's
    # normalized form: daily 06:00, Sundays 03:00, the 1st at 04:00, quarterly on the 1st of Jan/Apr/
    # Jul/Oct at 05:00, yearly on 2 January at 05:00 (the host's local time).
    expected = {"daily": "*-*-* 06:00", "weekly": "Sun *-*-* 03:00", "monthly": "*-*-01 04:00",
                "quarterly": "*-01,04,07,10-01 05:00", "annual": "*-01-02 05:00"}
    for cadence, calendar in expected.items():
        timer = (tmp_path / "units" / ("gpufleet-%s.timer" % cadence)).read_text()
        [written] = [line.split("=", 1)[1] for line in timer.splitlines() if line.startswith("OnCalendar=")]
        assert _normalized(written) == _normalized(calendar), (cadence, written)
        service = (tmp_path / "units" / ("gpufleet-%s.service" % cadence)).read_text()
        assert "ExecStart=%s %s" % (tmp_path / "libexec" / "run-cadence", cadence) in service
        assert "WorkingDirectory=%s" % REPO_ROOT in service
    wrapper = (tmp_path / "libexec" / "run-cadence").read_text()
    assert os.access(str(tmp_path / "libexec" / "run-cadence"), os.X_OK) and os.path.dirname(BIN) in wrapper
    reload = [t["hosts"]["localhost"] for t in data["plays"][0]["tasks"] if t["task"]["name"].endswith("Reload systemd units")]
    assert reload and reload[0].get("skipped") is True  # notified; no systemd to reload here
