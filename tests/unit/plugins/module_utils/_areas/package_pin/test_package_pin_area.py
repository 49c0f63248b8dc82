"""The package_pin area (gpufleet_package_pin, set monthly from the driver_pin audit): its checks as the op
makes them, and its summary lines. Versions are the fake GPU stack of tests/testlib/aptrepo.py."""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.package_pin import AREA, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import package_pin
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.apt import parse_policy
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _alerts, _report

OLD = "535.183.01-0ubuntu1"
NEW = "535.216.01-0ubuntu1"
INSTALLED = {"nvidia-driver-535": {"version": OLD}}


def _audit(holds=(), prefs="", requests=({"name": "nvidia-driver-535"},)):
    return package_pin.build_plan(list(requests), "held", "audit", INSTALLED, list(holds), {}, prefs, "", missing_ok=True)


def test_the_area_is_registered_for_the_report():
    assert registry.of_fact("gpufleet_package_pin") is AREA and AREA.module == "package_pin"


def test_drift_hold_and_match_checks_from_the_audit():
    drift = _audit(holds=["nvidia-driver-535"], prefs=package_pin.render_preferences({"nvidia-driver-535": NEW}))
    assert [(c["check"], c["status"], c["value"], c["threshold"]) for c in drift["checks"]] == [
        ("package_pin_drift", "crit", OLD, NEW)]
    lost = _audit(prefs=package_pin.render_preferences({"nvidia-driver-535": OLD}))
    assert [(c["check"], c["status"], c["value"]) for c in lost["checks"]] == [("package_pin_hold", "crit", "not held")]
    fresh = _audit()
    assert [(c["check"], c["status"]) for c in fresh["checks"]] == [("package_pin_hold", "warn")]
    none = _audit(requests=({"name": "rocm-*"},))
    assert [(c["check"], c["status"]) for c in none["checks"]] == [("package_pin_match", "warn")]


class _Apt:
    def simulate(self, command):
        return {"nvidia-driver-535": {"from": OLD, "to": NEW}, "__kept_back__": []} if command == "dist-upgrade" else {}


def test_an_upgrade_that_would_move_a_pinned_package_is_crit():
    result = dict(_audit(holds=["nvidia-driver-535"]), checks=[])
    package_pin.simulate(_Apt(), {"verify_upgrade": ["upgrade", "dist-upgrade"]}, result)
    [check] = result["checks"]
    assert (check["check"], check["status"], check["value"], check["threshold"], check["subject"]) == (
        "package_pin_upgrade_moves", "crit", NEW, OLD, {"package": "nvidia-driver-535"})
    assert check["message"].startswith("apt-get dist-upgrade would move nvidia-driver-535 from %s to %s despite the pin" % (OLD, NEW))
    assert result["status"] == "crit" and result["simulation"]["upgrade"]["moves"] == {}


def test_summary_lines():
    fact = {"packages": [{"name": "nvidia-driver-535", "installed_version": OLD, "pinned_version": NEW, "held_after": True,
                          "drift": True, "drift_reason": "it moved behind the pin"},
                         {"name": "nvidia-dkms-535", "installed_version": OLD, "pinned_version": OLD, "held_after": False}]}
    assert present.summary_lines(fact) == [
        "pin nvidia-driver-535 %s (pinned at %s, held): DRIFT: it moved behind the pin" % (OLD, NEW),
        "pin nvidia-dkms-535 %s (pinned at %s, NOT held)" % (OLD, OLD)]
    assert present.summary_lines({"packages": []}) == ["pin: no package of the GPU stack is installed"]
    newer = {"packages": [{"name": "nvidia-driver-535", "installed_version": OLD, "pinned_version": OLD, "held_after": True,
                           "newer_version": NEW}]}
    assert present.summary_lines(newer) == ["pin nvidia-driver-535 %s (pinned at %s, held), %s available" % (OLD, OLD, NEW)]


def test_a_newer_version_while_held_reaches_the_report_and_the_alerts(fixture_path):
    # The monthly's fact (playbooks/monthly.yml builds it from the driver_pin audit) on the real
    # apt-cache policy of a held and preferences-pinned package with a newer version in the repository.
    with open(fixture_path("apt", "apt-cache-policy-pinned-newer.txt")) as handle:
        policy = parse_policy(handle.read())
    installed = {"nvidia-driver-535": {"version": "535.183.01-0ubuntu1"}}
    audit = package_pin.build_plan([{"name": "nvidia-driver-535"}], "held", "audit", installed, ["nvidia-driver-535"],
                                   policy, package_pin.render_preferences({"nvidia-driver-535": "535.183.01-0ubuntu1"}), "")
    fact = {"schema_version": 1, "packages": audit["packages"], "drift": audit["drift"], "checks": audit["checks"],
            "status": audit["status"]}
    areas, rows, problems = _report.host_rows({"gpu-box-1": {"gpufleet_package_pin": fact}})
    assert areas == ["package_pin"] and rows[0]["areas"] == {"package_pin": "warn"}
    [problem] = problems
    assert (problem["area"], problem["check"], problem["subject"], problem["status"]) == (
        "package_pin", "package_pin_newer_candidate", "package=nvidia-driver-535", "warn")
    assert problem["message"].startswith("a newer nvidia-driver-535 535.183.06-0ubuntu1 is available while "
                                         "535.183.01-0ubuntu1 is held: read the release notes")
    assert list(_alerts.keyed(problems)) == [
        ("gpu-box-1", "package_pin/package_pin_newer_candidate/package=nvidia-driver-535")]


class _RecordingApt:
    """apt on a box whose dpkg lists ``installed``: records which simulations were asked for."""

    tools = {"apt-get": "/usr/bin/apt-get", "apt-mark": "/usr/bin/apt-mark", "dpkg-query": "/usr/bin/dpkg-query"}

    def __init__(self, installed):
        self._installed = installed
        self.simulated = []

    def installed(self):
        return self._installed

    def holds(self):
        return list(self._installed)

    def policy(self, names):
        return dict((n, parse_policy("%s:\n  Installed: %s\n  Candidate: %s\n" % (n, OLD, OLD))[n]) for n in names)

    def simulate(self, command):
        self.simulated.append(command)
        return {"__kept_back__": []}


def _pin_audit(apt, tmp_path):
    return package_pin.pin(apt, {"names": ["nvidia-driver-*"], "packages": [], "state": "held", "mode": "audit",
                                 "apt_preferences": False, "unattended_upgrades_blacklist": False, "missing_ok": True,
                                 "preferences_path": str(tmp_path / "prefs"), "blacklist_path": str(tmp_path / "blacklist"),
                                 "verify_upgrade": ["upgrade", "dist-upgrade"]})


def test_the_upgrade_simulation_runs_only_when_a_package_of_the_stack_is_installed(tmp_path):
    # a box without the GPU stack: nothing pinned can move, so apt-get -s is not run (it reads the APT cache)
    bare = _RecordingApt({"bash": {"version": "5.2.15-2+b2"}})
    result = _pin_audit(bare, tmp_path)
    assert bare.simulated == [] and "simulation" not in result and result["packages"] == []
    # the stack installed and held: both simulations, and their (empty) moves are in the result
    stack = _RecordingApt(INSTALLED)
    result = _pin_audit(stack, tmp_path)
    assert stack.simulated == ["upgrade", "dist-upgrade"]
    assert [p["name"] for p in result["packages"]] == ["nvidia-driver-535"]
    assert result["simulation"]["dist-upgrade"] == {"moves": {}, "kept_back": []}
