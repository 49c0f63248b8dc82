"""docs/cadence.md's Calendar as wired: the playbooks are read, their expressions evaluated by Ansible's own
templating with playbooks/group_vars/all/gpufleet.yml, and each cadence's row of the table must name
exactly the areas and steps its playbook runs (issue 19: "docs/cadence.md as wired").

What a playbook runs: the areas of its host_health step (``host_health_areas``), the areas of its report
(``fleet_report_areas``) and its steps (the roles and collection modules of its block, the generic
prerequisites, host_health and upkeep roles aside; upkeep's steps show as the areas they set). Each is
evaluated twice: with the defaults, and with every optional part switched on (:data:`ALL_ON`); the
row names the union. "Names" means the backticked words of the row's per-host column that are an area
of the registry (or ``llm``), a role or a module of the collection: the row may say more, in other
words, but no area or step it names may be missing from the playbook, and none the playbook runs may
be missing from the row.
"""

import os
import re

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CADENCES = ("daily", "weekly", "monthly", "quarterly", "annual")
COLLECTION = "gpufleet.maintenance."
GENERIC_ROLES = {"prerequisites", "host_health", "upkeep", "fleet_report"}

# Every optional part of the cadences on (the switches of playbooks/group_vars/all/gpufleet.yml that
# add areas or steps); test_all_on_switches_every_optional_part fails when a new switch is missed.
ALL_ON = {
    "gpufleet_prerequisites": True,
    "gpufleet_restart_on_vram_exhaustion": True,
    "gpufleet_llm_endpoint": "http://127.0.0.1:11434",
    "gpufleet_docker_hygiene": True,
    "gpufleet_image_audit": True,
    "gpufleet_package_pin_audit": True,
    "gpufleet_model_manifest": "/etc/gpufleet/models.yml",
    "gpufleet_model_serving": [{"name": "llama3.1:8b"}],   # an option of the model verify (vram_headroom), not a step
    "gpufleet_backup_target": "/srv/backup",
    "gpufleet_wsl_guard": True,
    "gpufleet_access_logs": ["/var/log/nginx/access.log"],
    "gpufleet_model_update_check": True,
}
# (gpufleet_log_rotate_paths, [] to turn the daily log rotation off, is read by host_health, not tested in a playbook)


def _loader():
    return DataLoader()


def _load(*parts):
    return _loader().load_from_file(os.path.join(REPO, *parts), trusted_as_template=True)


def _defaults():
    return dict(_load("playbooks", "group_vars", "all", "gpufleet.yml"))


def _template(value, variables):
    return Templar(loader=_loader(), variables=variables).template(value)


def _roles():
    return set(os.listdir(os.path.join(REPO, "roles")))


def _modules():
    return set(name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "modules"))
               if name.endswith(".py") and not name.startswith("_"))


def _vocabulary():
    return set(registry.NAMES) | set(registry.ALIASES) | _roles() | _modules()


def _short(name):
    return name[len(COLLECTION):] if name.startswith(COLLECTION) else name


def wired(cadence, switches=None):
    """``{host_health, report, steps}`` of ``playbooks/<cadence>.yml`` with the defaults (and ``switches``)."""
    variables = dict(_defaults(), **(switches or {}))
    # the report's optional areas are those any host of the play has on: one host with these settings
    variables.update(ansible_play_hosts_all=["host-1"], hostvars={"host-1": dict(variables)})
    [play] = _load("playbooks", "%s.yml" % cadence)
    host_health, report, steps = [], [], set()
    for task in play["tasks"]:
        for step in task.get("block", []):
            for key in ("ansible.builtin.import_role", "ansible.builtin.include_role"):
                if key in step:
                    role = _short(step[key]["name"])
                    step_vars = dict(variables, **_template(step.get("vars") or {}, variables))
                    if role == "host_health":
                        host_health = list(_template(step_vars["host_health_areas"], step_vars))
                    elif role == "upkeep":
                        # the whole role (its upkeep_steps) or one step's file (tasks_from)
                        upkeep = ({step[key]["tasks_from"]} if "tasks_from" in step[key]
                                  else set(_template(step_vars["upkeep_steps"], step_vars)))
                        # upkeep's steps as the areas they set (roles/upkeep): logs sets none
                        steps |= {"tls"} & upkeep
                        steps |= {"vram_guard"} if "vram" in upkeep else set()
                    elif role not in GENERIC_ROLES:
                        steps.add(role)
            modules = [_short(k) for k in step if k.startswith(COLLECTION)]
            steps.update(modules)
        if "ansible.builtin.import_role" in task and _short(task["ansible.builtin.import_role"]["name"]) == "fleet_report":
            report_vars = dict(variables, **_template(task.get("vars") or {}, variables))
            report = list(_template(report_vars["fleet_report_areas"], report_vars))
    return {"host_health": host_health, "report": report, "steps": steps}


def calendar():
    """``{cadence: per-host column text}`` of the Calendar table of docs/cadence.md."""
    with open(os.path.join(REPO, "docs", "cadence.md")) as handle:
        text = handle.read()
    section = text.split("\n## Calendar\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `(\w+)\.yml` \| (.*) \| (.*) \|$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def named(text):
    """The areas, roles and modules a row names (backticked words of the collection's vocabulary)."""
    return set(re.findall(r"`([a-z_]+)`", text)) & _vocabulary()


def test_the_calendar_has_one_row_per_cadence_playbook():
    assert sorted(calendar()) == sorted(CADENCES)


@pytest.mark.parametrize("cadence", CADENCES)
def test_the_calendar_row_names_exactly_what_the_playbook_runs(cadence):
    default, full = wired(cadence), wired(cadence, ALL_ON)
    assert set(default["host_health"]) <= set(full["host_health"]) and set(default["report"]) <= set(full["report"])
    runs = set(full["host_health"]) | set(full["report"]) | full["steps"]
    row = named(calendar()[cadence])
    assert row - runs == set(), "docs/cadence.md names for %s what %s.yml does not run" % (cadence, cadence)
    assert runs - row == set(), "%s.yml runs what docs/cadence.md does not name for %s" % (cadence, cadence)


def test_every_area_gathered_is_in_the_report():
    # A host_health area missing from fleet_report_areas would be gathered and never reported.
    for cadence in CADENCES:
        for switches in (None, ALL_ON):
            run = wired(cadence, switches)
            assert set(run["host_health"]) <= set(run["report"]), cadence


def test_issue_19_wiring():
    # The daily looks at WSL hosts (the wsl area; only_on_wsl keeps the others unchanged) and reports it.
    daily = wired("daily")
    assert "wsl" in daily["host_health"] and "wsl" in daily["report"]
    [play] = _load("playbooks", "daily.yml")
    [host_health] = [s for s in play["tasks"][0]["block"] if s.get("name") == "Step host_health"]
    assert host_health["vars"]["host_health_wsl_only_on_wsl"] is True
    # The monthly's driver_pin audit reaches the report as area package_pin (package_pin_newer_candidate).
    monthly = wired("monthly")
    assert "driver_pin" in monthly["steps"] and "package_pin" in monthly["report"]
    assert "package_pin_newer_candidate" in calendar()["monthly"]
    assert "`wsl` on WSL hosts only" in calendar()["daily"]


def test_all_on_switches_every_optional_part():
    # Every variable a cadence playbook tests in a `when:` or an `... if <var> ...` expression, or hands to a
    # role's `<role>_enabled` switch (the prerequisites step), switches a part on or off: ALL_ON must set them
    # all, so the union above is everything a playbook can run.
    texts = "".join(open(os.path.join(REPO, "playbooks", "%s.yml" % c)).read() for c in CADENCES)
    switches = set(re.findall(r"(?:when:\s*|\bif\s+|_enabled:\s*\"\{\{\s*)\(?(gpufleet_\w+)", texts))
    assert switches == set(ALL_ON)
    assert all(name in _defaults() for name in switches)


def test_named_reads_backticked_areas_roles_and_modules_only():
    assert named("`host` (disk), `gpufleet_disk_paths`, `ssd_wear` (SMART), `/`, `docker_hygiene`, `llm`") == {
        "host", "ssd_wear", "docker_hygiene", "llm"}


def test_no_setting_is_named_like_a_fact():
    # A fact is a host variable that outranks group_vars (and a cached one outlives the run): a switch named like
    # a fact (gpufleet_model_updates) reads as the last run's fact dict, not as the setting.
    facts = set(area.fact for area in registry.areas()) | {"gpufleet_trends", "gpufleet_platform"}
    assert set(_defaults()) & facts == set()
