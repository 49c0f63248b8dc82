"""Every role's meta/argument_specs.yml is its contract; defaults/main.yml must mirror it."""

import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLES_DIR = os.path.join(ROOT, "roles")
ROLES = sorted(name for name in os.listdir(ROLES_DIR) if os.path.isdir(os.path.join(ROLES_DIR, name)))


def _load(role, *parts):
    path = os.path.join(ROLES_DIR, role, *parts)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def test_there_are_roles():
    assert "host_health" in ROLES and "summary" in ROLES


@pytest.mark.parametrize("role", ROLES)
def test_defaults_mirror_argument_specs(role):
    specs = _load(role, "meta", "argument_specs.yml")
    assert specs, "%s has no meta/argument_specs.yml" % role
    options = specs["argument_specs"]["main"].get("options", {})
    defaults = _load(role, "defaults", "main.yml") or {}
    public_defaults = {k: v for k, v in defaults.items() if not k.startswith("__")}
    with_default = {name: spec["default"] for name, spec in options.items() if "default" in spec}
    assert set(public_defaults) == set(with_default), "defaults/main.yml and argument_specs differ for %s" % role
    for name, value in with_default.items():
        assert public_defaults[name] == value, "%s: default of %s differs" % (role, name)


@pytest.mark.parametrize("role", ROLES)
def test_public_variables_are_prefixed_and_described(role):
    options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"].get("options", {})
    for name, spec in options.items():
        assert name.startswith(role + "_"), "%s: variable %s lacks the role prefix" % (role, name)
        assert spec.get("description"), "%s: %s has no description" % (role, name)
        assert spec.get("type"), "%s: %s has no type" % (role, name)


def test_runner_service_fills_in_each_runner_with_the_defaults_its_argument_spec_documents():
    """The per-runner defaults the role applies (vars/main.yml) are the suboption defaults of its contract."""
    runners = _load("runner_service", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]["runner_service_runners"]
    documented = {name: spec["default"] for name, spec in runners["options"].items() if "default" in spec}
    applied = _load("runner_service", "vars", "main.yml")["__runner_service_runner_defaults"]
    assert applied == documented
    required = {name for name, spec in runners["options"].items() if spec.get("required")}
    assert required == {"name", "exec", "version", "port"} and not required & set(applied)


def test_runner_service_defaults_are_the_guides_values():
    """Issue 20: "defaults are not safe" - the unit and front-door values the maintenance guides give."""
    applied = _load("runner_service", "vars", "main.yml")["__runner_service_runner_defaults"]
    assert (applied["restart_sec"], applied["start_limit_burst"], applied["start_limit_interval_sec"]) == (2, 5, 60)
    assert (applied["memory_max"], applied["cpu_quota"]) == ("90%", "")
    assert (applied["proxy_read_timeout"], applied["client_max_body_size"]) == ("300s", "2m")
