"""prerequisites_facts against ansible.builtin.setup on the same container hosts (docker connection).

Debian 12 and Ubuntu 24.04 are the fresh images; Ubuntu 22.04 is the Ubuntu 24.04 image with the real
jammy os-release, debian_version and lsb-release files mounted over its own (no 22.04 image is built
here; tests/unit/fixtures/prerequisites/PROVENANCE.md); "fedora" is a stand-in os-release with an
/etc/fedora-release beside it, which makes the module leave the answer to Ansible's own collector and
the role stop with its "not supported" message.
"""

import json
import os
import subprocess
import sys

import pytest

from testlib.ansible_run import REPO_ROOT, ansible_env
from testlib.ssh_fleet import FRESH, FRESH_NOBLE, ensure_images

pytestmark = pytest.mark.integration
BIN = os.path.dirname(sys.executable)
FIX = os.path.join(REPO_ROOT, "tests", "unit", "fixtures", "prerequisites")
PREFIX = "gpufleet-prereq-facts-"
KEYS = ("distribution", "distribution_version", "distribution_major_version", "distribution_release", "os_family")
FEDORA = 'NAME="Fedora Linux"\nVERSION="40 (Container Image)"\nID=fedora\nVERSION_ID=40\nPRETTY_NAME="Fedora Linux 40 (Container Image)"\n'


def _docker(*args, check=True):
    return subprocess.run(["docker"] + list(args), capture_output=True, text=True, timeout=120, check=check)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("fedora")
    (scratch / "os-release").write_text(FEDORA)
    (scratch / "fedora-release").write_text("Fedora release 40 (Forty)\n")
    (scratch / "empty").write_text("")   # over the image's /etc/lsb-release, which says Ubuntu
    jammy = ["-v", "%s/os-release-ubuntu-22.04-jammy:/etc/os-release:ro" % FIX,
             "-v", "%s/debian_version-ubuntu-22.04-jammy:/etc/debian_version:ro" % FIX]
    fedora = ["-v", "%s/os-release:/etc/os-release:ro" % scratch, "-v", "%s/fedora-release:/etc/fedora-release:ro" % scratch,
              "-v", "%s/empty:/etc/lsb-release:ro" % scratch]
    specs = {"bookworm": ("local/gpufleet-fresh:bookworm", []), "noble": ("local/gpufleet-fresh:noble", []),
             "jammy": ("local/gpufleet-fresh:noble", jammy), "fedora": ("local/gpufleet-fresh:noble", fedora)}
    ensure_images(FRESH, FRESH_NOBLE)   # built by scripts/docker-infra when missing, as the fleet tests do
    names = dict((key, PREFIX + key) for key in specs)
    try:
        for key, (image, mounts) in specs.items():
            _docker("rm", "-f", names[key], check=False)
            _docker(*(["run", "-d", "--name", names[key]] + mounts + [image, "sleep", "infinity"]))
        yield names
    finally:
        for name in names.values():
            _docker("rm", "-f", name, check=False)


def _adhoc(names, module, args):
    cmd = [os.path.join(BIN, "ansible"), "all", "-i", ",".join(names) + ",", "-c", "community.docker.docker",
           "-e", "ansible_python_interpreter=/usr/bin/python3", "-m", module, "-a", json.dumps(args)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=ansible_env(), capture_output=True, text=True, timeout=600, check=False)
    try:
        return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]
    except (ValueError, KeyError, IndexError):
        pytest.fail("ansible did not print JSON (rc %s):\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))


def test_the_distribution_is_what_setup_reports(hosts):
    names = list(hosts.values())
    setup = _adhoc(names, "ansible.builtin.setup", {"gather_subset": ["!all", "!min", "distribution"]})
    ours = _adhoc(names, "gpufleet.maintenance.prerequisites_facts", {"packages": ["base-files", "smartmontools"]})
    for key, name in hosts.items():
        said = dict((k, setup[name]["ansible_facts"]["ansible_" + k]) for k in KEYS)
        fact = ours[name]["ansible_facts"]["gpufleet_platform"]
        assert dict((k, fact[k]) for k in KEYS) == said, (key, fact)
        assert fact["distribution_source"] == ("ansible" if key == "fedora" else "os-release"), (key, fact)
        assert fact["packages"]["installed"] == ["base-files"] and fact["packages"]["missing"] == ["smartmontools"]
        assert fact["venv_stamp"] is None and fact["effective_user_id"] == 0
    assert ours[hosts["bookworm"]]["ansible_facts"]["gpufleet_platform"]["distribution_version"].startswith("12.")


def test_check_mode_reads_and_never_changes(hosts):
    result = _adhoc([hosts["noble"]], "gpufleet.maintenance.prerequisites_facts", {"venv_stamp": "/etc/hostname"})
    fact = result[hosts["noble"]]["ansible_facts"]["gpufleet_platform"]
    assert result[hosts["noble"]]["changed"] is False
    assert fact["venv_stamp"] is None and "not JSON" in fact["venv_stamp_reason"]


def test_an_unsupported_distribution_stops_with_the_roles_message(hosts):
    setup = _adhoc([hosts["fedora"]], "ansible.builtin.setup", {"gather_subset": ["!all", "!min", "distribution"]})
    said = setup[hosts["fedora"]]["ansible_facts"]
    assert said["ansible_os_family"] != "Debian", said   # ("Fedora Linux": the stand-in is read as an unknown, NA variety)
    play = os.path.join(REPO_ROOT, "tests", "integration", "files", "prerequisites_play.yml")
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", hosts["fedora"] + ",", "-c", "community.docker.docker",
           "-e", "ansible_python_interpreter=/usr/bin/python3", "--check", play]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=ansible_env(), capture_output=True, text=True, timeout=600, check=False)
    data = json.loads(proc.stdout)
    failed = [(task["task"]["name"], result.get("msg", "")) for task in data["plays"][0]["tasks"]
              for result in task["hosts"].values() if result.get("failed")]
    assert failed and failed[0][0].endswith("Stop on a distribution the role does not know"), failed
    # the message the role gave with setup's facts (the same words with the branch base, run by hand: "Fedora Linux 40")
    assert failed[0][1].startswith("prerequisites: %s %s is not supported (Debian 12, Ubuntu 22.04 and 24.04 and macOS are);" % (
        said["ansible_distribution"], said["ansible_distribution_version"])), failed
