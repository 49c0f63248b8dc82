"""The prerequisites role on a fresh Ubuntu 24.04 box over SSH, cut off from every package index.

Debian 12 is covered by the fleet test (test_fleet_ssh.py); here the role's own contract: check mode on
a new box says what it would do and changes nothing, a box without root is told so, the first run
installs from the controller's wheels and switches the play's interpreter, later runs change nothing,
a stale environment is rebuilt, and an air-gapped controller without the wheels is told how to get them.
"""

import json
import os
import re

import pytest

from testlib.ansible_run import REPO_ROOT
from testlib.ssh_fleet import FRESH_SSH_NOBLE, FleetHost, SshFleet

pytestmark = pytest.mark.integration
PLAY = os.path.join(REPO_ROOT, "tests", "integration", "files", "prerequisites_play.yml")
VENV = "/opt/gpufleet/venv"
STAMP = VENV + "/gpufleet-prerequisites.json"


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    with SshFleet("gpf18p", [FleetHost("noble", image=FRESH_SSH_NOBLE)]) as fleet:
        fleet.cache = str(tmp_path_factory.mktemp("wheels"))
        yield fleet


def _play(box, *args, check=False, **extra):
    evars = dict({"prerequisites_wheel_cache": box.cache}, **extra)
    return box.playbook(PLAY, *args, check=check, extra_vars=evars)


def _installed(box, package):
    proc = box.exec("noble", "dpkg-query", "-W", "-f=${db:Status-Abbrev}", package, check=False)
    return proc.stdout.startswith("ii")


def _constraint(name):
    with open(os.path.join(REPO_ROOT, "constraints.txt")) as handle:
        return re.search(r"^%s==(\S+)$" % re.escape(name), handle.read(), re.M | re.I).group(1)


def test_check_mode_on_a_new_box_plans_and_changes_nothing(box):
    host = box.name("noble")
    run = _play(box, check=True)
    plan = [result["msg"] for task, result in run.results(host) if task.endswith("Say what would be installed (check mode)")]
    assert plan and "smartmontools" in plan[0] and "pySMART==%s" % _constraint("pySMART") in plan[0], run.explain()
    assert run.returncode == 0 and run.stats[host]["changed"] == 1, run.explain()   # that plan, nothing else
    assert box.exec("noble", "test", "-e", "/opt/gpufleet", check=False).returncode == 1
    assert not _installed(box, "smartmontools")


def test_without_root_it_says_so_and_installs_nothing(box):
    host = box.name("noble")
    run = _play(box, ansible_become=False)
    failed = run.failed_tasks(host)
    assert failed and "needs root" in failed[0][1] and "become" in failed[0][1], run.explain()
    assert not _installed(box, "smartmontools")


def test_first_run_installs_from_the_controllers_wheels_and_switches_the_interpreter(box):
    host = box.name("noble")
    run = _play(box)
    assert run.returncode == 0, run.explain()
    assert run.facts(host, "ansible_python")["executable"] == VENV + "/bin/python"
    smart = [result for task, result in run.results(host) if task == "Read SMART data (smart_facts imports pySMART)"]
    assert smart and not smart[0].get("failed"), smart
    assert all(_installed(box, p) for p in ("smartmontools", "iproute2", "dmidecode", "python3-apt"))
    versions = json.loads(box.exec("noble", VENV + "/bin/python", "-c", (
        "import json, sys, importlib.metadata as m, apt, yaml, pynvml, pySMART, docker; "
        "print(json.dumps(dict(python='%d.%d' % sys.version_info[:2], **dict((d, m.version(d)) "
        "for d in ('nvidia-ml-py', 'pySMART', 'docker')))))")).stdout)
    assert versions.pop("python") == "3.12"   # Ubuntu 24.04's Python
    assert versions == dict((d, _constraint(d)) for d in ("nvidia-ml-py", "pySMART", "docker"))
    assert box.exec("noble", "python3", "-c", "import docker", check=False).returncode != 0   # system Python untouched (PEP 668)
    assert not box.proxy.refused(), box.proxy.refused()


def test_later_runs_and_check_mode_change_nothing(box):
    host = box.name("noble")
    for check in (False, True):
        run = _play(box, check=check)
        assert run.returncode == 0 and run.stats[host]["changed"] == 0, run.explain()
        assert run.facts(host, "ansible_python")["executable"] == VENV + "/bin/python"


def test_a_stale_environment_is_rebuilt(box):
    host = box.name("noble")
    good = box.exec("noble", "cat", STAMP).stdout
    box.exec("noble", "sh", "-c", "echo '{\"requirements\": [\"docker==1.0\"]}' > %s && rm -rf %s/lib/python3*/site-packages/docker" % (STAMP, VENV))
    run = _play(box)
    assert run.returncode == 0, run.explain()
    assert any("Install the pinned packages" in task for task in run.changed_tasks(host)), run.changed_tasks(host)
    assert box.exec("noble", "cat", STAMP).stdout == good
    box.exec("noble", VENV + "/bin/python", "-c", "import docker")


def test_an_air_gapped_controller_without_the_wheels_is_told_how_to_get_them(box, tmp_path):
    host = box.name("noble")
    run = box.playbook(PLAY, extra_vars={"prerequisites_wheel_cache": str(tmp_path / "empty"), "prerequisites_wheel_download": False})
    failed = run.failed_tasks(host)
    assert failed, run.explain()
    message = failed[0][1]
    assert str(tmp_path / "empty") in message and "pip download" in message and "Python 3.12" in message, message
    assert not os.path.exists(tmp_path / "empty")   # nothing was downloaded
