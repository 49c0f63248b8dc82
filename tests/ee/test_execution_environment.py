"""The execution environment built here with ansible-builder (scripts/ee-image, execution-environment.yml)
from a local Debian base image, with this collection installed from its tarball; cadence playbooks run
inside it the way AWX runs jobs - ansible-runner with the EE as the container image, and the
``transmit | worker | process`` pipeline AWX's receptor uses, the worker inside the EE - against SSH
hosts (containers running sshd, key injected through ansible-runner's ``env/ssh_key`` as AWX injects a
machine credential). Checks the job events, the artifacts and the cadence report."""

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from testlib.ansible_run import REPO_ROOT
from testlib.ee_hosts import SshHosts, docker

pytestmark = pytest.mark.integration  # its own layer: scripts/test ee (not in the default run: ~15 min)
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope="module")
def ee_image():
    proc = subprocess.run([os.path.join(REPO_ROOT, "scripts", "ee-image")], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=3000, check=False, env=dict(os.environ, GPUFLEET_VENV=os.path.dirname(BIN)))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def hosts():
    with SshHosts(["box1", "box2"]) as fleet:
        yield fleet


def _in_image(image, *argv):
    return docker("run", "--rm", image, *argv, check=False, timeout=300)


def test_image_carries_the_collection_its_dependencies_and_tools(ee_image):
    listed = _in_image(ee_image, "ansible-galaxy", "collection", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    collections = {}
    for path, found in json.loads(listed.stdout).items():
        for name, info in found.items():
            collections.setdefault(name, (path, info["version"]))
    with open(os.path.join(REPO_ROOT, "galaxy.yml")) as handle:
        version = yaml.safe_load(handle)["version"]
    assert collections["gpufleet.maintenance"] == ("/usr/share/ansible/collections/ansible_collections", version)
    for dependency in ("community.docker", "community.general", "community.crypto", "ansible.posix"):
        assert dependency in collections, sorted(collections)
    doc = _in_image(ee_image, "ansible-doc", "gpufleet.maintenance.health_facts")
    assert doc.returncode == 0, doc.stderr
    assert "gpufleet.maintenance.health_facts" in doc.stdout and "/usr/share/ansible/collections/" in doc.stdout
    versions = _in_image(ee_image, "python3", "-c", "import ansible, ansible_runner, pynvml, pySMART, docker, jmespath; "
                                                    "from ansible.release import __version__; print(__version__)")
    assert versions.returncode == 0 and versions.stdout.strip() == "2.21.5", versions.stderr
    tools = _in_image(ee_image, "sh", "-c", "smartctl --version | head -n1 && lspci --version && ssh -V 2>&1")
    assert tools.returncode == 0 and "smartctl" in tools.stdout and "OpenSSH" in tools.stdout, tools.stderr
    labels = json.loads(docker("image", "inspect", ee_image).stdout)[0]["Config"]["Labels"]
    assert labels["ansible-execution-environment"] == "true"
    assert labels["org.opencontainers.image.title"] == "gpufleet.maintenance execution environment"


def _private_data_dir(tmp_path, hosts):
    """A job's private data directory as AWX lays it out: the project (playbooks only - the collection
    must come from the image), the inventory, the machine credential's key, extra vars."""
    pdd = tmp_path / "job"
    (pdd / "env").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    project = pdd / "project"
    shutil.copytree(os.path.join(REPO_ROOT, "playbooks"), project / "playbooks")
    shutil.copy(os.path.join(REPO_ROOT, "ansible.cfg"), project / "ansible.cfg")
    (pdd / "inventory" / "hosts.yml").write_text(yaml.safe_dump(hosts.inventory()))
    (pdd / "env" / "ssh_key").write_text(hosts.private_key)
    (pdd / "env" / "extravars").write_text(yaml.safe_dump({
        "gpufleet_hosts": "gpu_boxes", "gpufleet_disk_paths": ["/"], "gpufleet_report_dir": "/runner/project/reports",
        "gpufleet_history_path": "/runner/project/history.db", "gpufleet_metrics_export": False}))
    (pdd / "env" / "envvars").write_text(yaml.safe_dump({"ANSIBLE_DEPRECATION_WARNINGS": "0"}))
    return pdd


def _check_job(artifacts, events, names, cadence):
    assert (artifacts / "status").read_text() == "successful"
    assert (artifacts / "rc").read_text() == "0"
    stats = [e for e in events if e["event"] == "playbook_on_stats"][0]["event_data"]
    assert set(stats["ok"]) >= set(names) and stats["failures"] == {} and stats["dark"] == {}
    facts = {}
    for event in events:
        res = event.get("event_data", {}).get("res") or {}
        if event["event"] == "runner_on_ok" and "gpufleet_host" in (res.get("ansible_facts") or {}):
            facts[event["event_data"]["host"]] = res["ansible_facts"]["gpufleet_host"]
    assert sorted(facts) == sorted(names)
    for name in names:
        # the facts come from the SSH host itself: its hostname, not the EE's
        assert facts[name]["hostname"] == name.rsplit("-", 1)[-1], facts[name]
    assert len(list((artifacts / "job_events").glob("*.json"))) == len(events)
    assert "status: " in (artifacts / "stdout").read_text()


@pytest.mark.parametrize("cadence", ["daily", "weekly", "monthly", "quarterly", "annual"])
def test_cadence_runs_in_the_ee_through_ansible_runner(ee_image, hosts, tmp_path, cadence):
    import ansible_runner

    pdd = _private_data_dir(tmp_path, hosts)
    runner = ansible_runner.run(private_data_dir=str(pdd), playbook="playbooks/%s.yml" % cadence, ident=cadence, quiet=True,
                                process_isolation=True, process_isolation_executable="docker", container_image=ee_image,
                                container_options=["--network", hosts.network])
    events = list(runner.events)
    assert runner.status == "successful", (pdd / "artifacts" / cadence / "stdout").read_text()[-4000:]
    _check_job(pdd / "artifacts" / cadence, events, hosts.names, cadence)
    # the cadence report, written by the controller side (inside the EE) into the project directory
    [report] = glob.glob(str(pdd / "project" / "reports" / ("%s-*.json" % cadence)))
    with open(report) as handle:
        data = json.load(handle)
    assert data["cadence"] == cadence and sorted(h["host"] for h in data["hosts"]) == sorted(hosts.names), data.keys()


def test_daily_through_transmit_worker_process_with_the_worker_in_the_ee(ee_image, hosts, tmp_path):
    pdd = _private_data_dir(tmp_path, hosts)
    runner_bin = os.path.join(BIN, "ansible-runner")
    transmit = subprocess.Popen([runner_bin, "transmit", str(pdd), "-p", "playbooks/daily.yml"], stdout=subprocess.PIPE)
    worker = subprocess.Popen(["docker", "run", "--rm", "-i", "--network", hosts.network, ee_image, "ansible-runner", "worker"],
                              stdin=transmit.stdout, stdout=subprocess.PIPE)
    transmit.stdout.close()
    out_dir = tmp_path / "processed"
    process = subprocess.run([runner_bin, "process", str(out_dir)], stdin=worker.stdout, capture_output=True, text=True,
                             timeout=600, check=False)
    worker.wait(timeout=120)
    transmit.wait(timeout=60)
    assert process.returncode == 0 and worker.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    events = [json.loads(p.read_text()) for p in sorted((out_dir / "artifacts" / "job_events").glob("*.json"))]
    _check_job(out_dir / "artifacts", events, hosts.names, "daily")
    assert "gpufleet.maintenance.fleet_report : Print the health summary of each host" in process.stdout
