"""proxmox_facts and the daily's proxmox area through the real Ansible on a container host (docker
connection) dressed as a Proxmox VE node: /etc/pve, a PCI bus with IOMMU groups written from captures
under /srv/pve-root, and pvesh/qm stand-ins on its PATH that print captured answers
(tests/testlib/proxmox_host.py, tests/unit/fixtures/proxmox/PROVENANCE.md).

The node: the VM list recorded from PVE 6.2 (VMs 101-103 running); VM 101 answers with the captured
config of a PVE 9.0.6 VM that passes 0000:01:00.0 and .1 through, 102 with a PVE 9.1 VM's (0000:03:00),
103 with qemu-server's multifunction test config. The bus: the Comet Lake IOMMU groups captured on
another machine, whose GTX 1660 SUPER sits at 01:00; its four functions bound as the vfio notes' capture
shows a Turing card's four functions left on the host (nvidia, snd_hda_intel, xhci_hcd, nvidia-gpu).
"""

import json
import os
import subprocess
import uuid

import pytest
import yaml

from testlib import pci_tree, proxmox_host
from testlib.ansible_run import BIN, REPO_ROOT, ansible_env, run_playbook
from testlib.ssh_fleet import FRESH, docker, ensure_images

pytestmark = pytest.mark.integration

MODULE = "gpufleet.maintenance.proxmox_facts"
ROOT = "/srv/pve-root"
HOST_DRIVERS = {"0000:01:00.0": "nvidia", "0000:01:00.1": "snd_hda_intel", "0000:01:00.2": "xhci_hcd",
                "0000:01:00.3": "nvidia-gpu"}


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pve-node")
    devices = pci_tree.from_iommu_listing(proxmox_host.read("proxmox", "iommu-groups-comet-lake-gtx1660super.txt"))
    tree = proxmox_host.node_tree(tmp / "pve-root", pci_tree.with_drivers(devices, HOST_DRIVERS))
    answers = proxmox_host.vm_list_answer()
    answers.update(proxmox_host.qm_config_answers({
        101: proxmox_host.read("proxmox", "qemu-server-100.conf-pve906-wintest-amd-phoenix3.txt"),
        102: proxmox_host.read("proxmox", "qm-config-pve91-102-mac-rx6600.txt"),
        103: proxmox_host.read("proxmox", "qemu-server-test-q35-linux-hostpci-multifunction.conf")}))
    proxmox_host.write_standins(tmp / "bin", answers)
    ensure_images(FRESH)
    name = "gpf-h-proxmox-%s" % uuid.uuid4().hex[:6]
    docker("run", "-d", "--name", name, "--network", "none", FRESH, "sleep", "infinity")
    try:
        docker("cp", tree, "%s:%s" % (name, ROOT))
        docker("cp", str(tmp / "bin") + "/.", "%s:/usr/local/sbin/" % name)
        inventory = tmp / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {name: {
            "ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}}}}))
        yield {"name": name, "inventory": str(inventory), "tmp": tmp}
    finally:
        docker("rm", "-f", name, check=False)


def _module(node, args, check=False):
    cmd = [os.path.join(BIN, "ansible"), node["name"], "-i", node["inventory"], "-m", MODULE, "-a", json.dumps(args)]
    proc = subprocess.run(cmd + (["--check"] if check else []), cwd=REPO_ROOT, env=ansible_env(), capture_output=True,
                          text=True, timeout=300, check=False)
    return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"][node["name"]]


def _by(fact):
    return dict(((c["check"], tuple(sorted(c["subject"].items()))), c) for c in fact["checks"])


def test_the_node_through_ansible_finds_the_gpu_left_on_nvidia(node):
    for check_mode in (True, False):
        result = _module(node, {"root": ROOT, "node": "testnode"}, check=check_mode)
        assert result.get("failed") is not True, result
        assert result["changed"] is False
        fact = result["ansible_facts"]["gpufleet_proxmox"]
        assert (fact["role"], fact["node"], fact["vm_count"], fact["iommu_enabled"]) == ("host", "testnode", 3, True)
        checks = _by(fact)
        gpu = checks[("gpu_host_driver", (("device", "0000:01:00.0"), ("vm", 101)))]
        assert (gpu["status"], gpu["value"]) == ("crit", "nvidia")
        assert "ids=10de:21c4,10de:1aeb" in gpu["message"]    # the ids of the two functions VM 101 passes
        audio = checks[("hostpci_not_vfio", (("device", "0000:01:00.1"), ("vm", 101)))]
        assert (audio["status"], audio["value"]) == ("crit", "snd_hda_intel")
        shared = checks[("iommu_group_shared", (("iommu_group", "1"), ("vm", 101)))]
        assert shared["status"] == "warn" and shared["value"] == ["0000:01:00.2", "0000:01:00.3"]
        assert checks[("hostpci_missing", (("device", "0000:03:00"), ("vm", 102)))]["status"] == "crit"
        assert checks[("pve_api", ())]["status"] == "ok" and checks[("iommu", ())]["status"] == "ok"
        assert fact["status"] == "crit"
        assert [(g["address"], g["driver"], g["held_by"]) for g in fact["gpus"]] == [("0000:01:00.0", "nvidia", [101])]


def test_a_wrong_node_name_is_unknown_not_ok(node):
    result = _module(node, {"root": ROOT, "node": "pve"})
    fact = result["ansible_facts"]["gpufleet_proxmox"]
    [api] = fact["checks"]
    assert (api["check"], api["status"]) == ("pve_api", "unknown")
    assert "pvesh get /nodes/pve/qemu exited 2" in api["message"]


def test_the_daily_reports_the_proxmox_area_of_the_node(node):
    reports = node["tmp"] / "reports"
    extra = {"gpufleet_hosts": node["name"], "gpufleet_daily_areas": ["host", "proxmox"], "gpufleet_disk_paths": ["/"],
             "gpufleet_proxmox_node": "testnode", "host_health_proxmox_root": ROOT,
             "gpufleet_report_dir": str(reports), "gpufleet_report_formats": ["json"],
             "gpufleet_history_path": str(node["tmp"] / "history.db")}
    proc = run_playbook("playbooks/daily.yml", ["-i", node["inventory"], "-e", json.dumps(extra)])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    # The summary, printed for every host in one task (the yaml callback folds its long lines wherever the
    # nesting puts them: compare with the whitespace collapsed)
    printed = " ".join(proc.stdout.split())
    assert "proxmox: node testnode, 3 VM(s), 3 with PCI passthrough, IOMMU on" in printed
    assert "proxmox VM 101 test-qemu (running): 0000:01:00.0 NVIDIA nvidia, 0000:01:00.1 class" in printed
    [name] = os.listdir(str(reports))
    with open(str(reports / name)) as handle:
        report = json.load(handle)
    assert report["areas"] == ["host", "proxmox"]
    assert report["hosts"][0]["areas"]["proxmox"] == "crit"
    problems = sorted((p["check"], p["status"]) for p in report["problems"] if p["area"] == "proxmox")
    assert problems == [("gpu_host_driver", "crit"), ("hostpci_missing", "crit"), ("hostpci_missing", "crit"),
                        ("hostpci_missing", "crit"), ("hostpci_not_vfio", "crit"), ("iommu_group_shared", "warn")]
