"""The prerequisites role's decisions per platform, from its own files, evaluated by Ansible's templating.

What the role's one read of a host (``prerequisites_facts``, registered as ``__prerequisites_host``)
leads to is variables (vars/main.yml) and ``when:`` expressions (tasks/main.yml). They are evaluated here
with the read of a Debian host and of a Mac (what Ansible's distribution collector and the module report
on macOS: ``MacOSX``, os_family ``Darwin``, no ``dpkg-query``): on a Mac the role must not try APT or a
virtual environment, and the rest of the play must run with ``/usr/bin/python3`` (issue 20, part 3).
No Mac runs this; the expressions are the role's own.
"""

import os

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.plugins.loader import init_plugin_loader

init_plugin_loader()   # the role's variables use lookups (first_found, file)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ROLE = os.path.join(ROOT, "roles", "prerequisites")


def _load(*parts):
    return DataLoader().load_from_file(os.path.join(ROLE, *parts), trusted_as_template=True)


def platform(family, distribution, version, python, packages_present):
    return {"distribution": distribution, "distribution_version": version,
            "distribution_major_version": version.split(".")[0], "os_family": family,
            "python": {"version": python, "version_full": python + ".0", "executable": "/usr/bin/python3"},
            "effective_user_id": 0, "venv_stamp": None,
            "packages": {"present": packages_present, "reason": None if packages_present else "dpkg-query not found",
                         "status": {}, "installed": [], "missing": []}}


MAC = platform("Darwin", "MacOSX", "14.5", "3.9", False)
DEBIAN = platform("Debian", "Debian", "12.15", "3.11", True)


def variables(read, **extra):
    values = dict(_load("defaults", "main.yml"))
    values.update(_load("vars", "main.yml"))
    values.update(role_path=ROLE, ansible_playbook_python="/usr/bin/python3", ansible_check_mode=False,
                  __prerequisites_host={"ansible_facts": {"gpufleet_platform": read}})
    values.update(extra)
    return values


def evaluate(expression, values):
    templar = Templar(loader=DataLoader(), variables=values)
    # the expressions come from the role's files (trusted when loaded) or name one of its variables
    return templar.template(expression if "{{" in expression else trust_as_template("{{ %s }}" % expression))


def tasks():
    [block] = _load("tasks", "main.yml")
    return dict((task["name"].split(" (")[0], task) for task in block["block"])


def test_a_mac_is_supported_and_needs_no_package_and_no_environment():
    values = variables(MAC, prerequisites_packages_extra=["jq"])
    assert evaluate("__prerequisites_supported", values) is True
    assert evaluate("__prerequisites_missing", values) == []          # no dpkg: apt is never asked
    assert evaluate("__prerequisites_venv_wanted", values) is False
    install = tasks()["Install what is missing"]["when"]
    assert evaluate(install, values) is False                         # stamp_want (a wheel set) is never read


def test_a_mac_runs_the_rest_of_the_play_with_the_system_python():
    task = tasks()["Run the rest of the play's modules with the virtual environment's Python"]
    for check_mode in (False, True):
        values = variables(MAC, ansible_check_mode=check_mode)
        assert all(evaluate(condition, values) for condition in task["when"])
        assert evaluate(task["ansible.builtin.set_fact"]["ansible_python_interpreter"], values) == "/usr/bin/python3"


def test_a_debian_host_still_gets_its_packages_and_environment():
    values = variables(DEBIAN)
    assert evaluate("__prerequisites_venv_wanted", values) is True
    assert "smartmontools" in evaluate("__prerequisites_missing", values)
    assert evaluate(tasks()["Install what is missing"]["when"], values) is True
    task = tasks()["Run the rest of the play's modules with the virtual environment's Python"]
    assert evaluate(task["ansible.builtin.set_fact"]["ansible_python_interpreter"], values) == "/opt/gpufleet/venv/bin/python"


@pytest.mark.parametrize("hosts, wanted", [
    ({"mac": MAC, "deb": DEBIAN}, ["3.11"]),
    ({"mac": MAC}, []),
])
def test_the_controller_collects_no_wheels_for_macs(hosts, wanted):
    hostvars = dict((name, {"__prerequisites_host": {"ansible_facts": {"gpufleet_platform": read}},
                            "__prerequisites_checked": {"failed": False, "changed": False}})
                    for name, read in hosts.items())
    values = variables(MAC, ansible_play_hosts=sorted(hosts), hostvars=hostvars)
    assert evaluate("__prerequisites_versions", values) == wanted
