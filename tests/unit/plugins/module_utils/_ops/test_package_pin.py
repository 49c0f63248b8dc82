"""The pin plan of package_pin (_ops/package_pin.py): its files, decisions and diff, on the versions of
real apt/dpkg captures (tests/unit/fixtures/apt)."""

import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import package_pin
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.apt import parse_policy, parse_preferences

NV_OLD, NV_NEW = "535.183.01-0ubuntu1", "535.183.06-0ubuntu1"


# ---------------------------------------------------------------- renderers round-trip

def test_preferences_render_and_parse_round_trip():
    pins = {"nvidia-driver-535": NV_OLD, "libnvidia-compute-535": "535.183.*"}
    text = package_pin.render_preferences(pins)
    assert text.startswith("# gpufleet.maintenance.package_pin manages this file")
    assert "Package: libnvidia-compute-535\nPin: version 535.183.*\nPin-Priority: 1001\n" in text
    assert text.index("libnvidia-compute-535") < text.index("nvidia-driver-535")
    assert parse_preferences(text) == pins
    assert package_pin.render_preferences({}) == ""


def test_blacklist_render_and_parse_round_trip():
    text = package_pin.render_blacklist(["nvidia-driver-535", "libstdc++6", "a.b"])
    assert "Unattended-Upgrade::Package-Blacklist {" in text
    assert '    "^libstdc[+][+]6$";' in text and '    "^a[.]b$";' in text
    assert "\\" not in text  # apt.conf strings take no backslash escapes
    assert package_pin.parse_blacklist(text) == ["a.b", "libstdc++6", "nvidia-driver-535"]
    assert package_pin.parse_blacklist("// nothing here\n") == []
    assert package_pin.render_blacklist([]) == ""


# ---------------------------------------------------------------- decisions

INSTALLED = {
    "nvidia-driver-535": {"version": NV_OLD},
    "nvidia-dkms-535": {"version": NV_OLD},
    "libnvidia-compute-535": {"version": NV_OLD},
    "gpufleet-unrelated": {"version": "1.0-1"},
}
POLICY = {"nvidia-driver-535": {"installed": NV_OLD, "candidate": NV_NEW}}


def _plan(requests, state="held", mode="enforce", holds=(), prefs="", black="", **kw):
    return package_pin.build_plan(requests, state, mode, INSTALLED, holds, POLICY, prefs, black, **kw)


@pytest.mark.parametrize("installed, wanted, expected", [
    (NV_OLD, NV_OLD, True),
    (NV_NEW, NV_OLD, False),
    (NV_OLD, "535.183.*", True),
    ("550.1-1", "535.183.*", False),
    (None, NV_OLD, False),
    ("1.0-1", None, False),
])
def test_version_matches(installed, wanted, expected):
    assert package_pin.version_matches(installed, wanted) is expected


def test_expand_requests_globs_and_exact():
    targets, unmatched = package_pin.expand_requests(
        [{"name": "nvidia-*"}, {"name": "nvidia-driver-535", "version": "535.*"}, {"name": "absent-pkg"}], INSTALLED)
    assert list(targets) == ["nvidia-driver-535", "nvidia-dkms-535"]
    assert targets["nvidia-driver-535"] == {"pattern": "nvidia-driver-535", "version": "535.*"}
    assert targets["nvidia-dkms-535"]["pattern"] == "nvidia-*"
    assert unmatched == ["absent-pkg"]


def test_first_pin_holds_and_writes_both_files():
    plan = _plan([{"name": "nvidia-*"}, {"name": "libnvidia-compute-*"}])
    assert plan["errors"] == [] and plan["drift"] == []
    assert sorted(plan["hold"]) == ["libnvidia-compute-535", "nvidia-dkms-535", "nvidia-driver-535"]
    prefs = plan["files"][package_pin.PREFERENCES_PATH]
    assert prefs["before"] == "" and parse_preferences(prefs["after"]) == {
        "nvidia-driver-535": NV_OLD, "nvidia-dkms-535": NV_OLD, "libnvidia-compute-535": NV_OLD}
    assert package_pin.parse_blacklist(plan["files"][package_pin.BLACKLIST_PATH]["after"]) == [
        "libnvidia-compute-535", "nvidia-dkms-535", "nvidia-driver-535"]
    driver = [p for p in plan["packages"] if p["name"] == "nvidia-driver-535"][0]
    assert driver == {"name": "nvidia-driver-535", "pattern": "nvidia-*", "installed_version": NV_OLD,
                      "candidate_version": NV_NEW, "newer_version": None, "pinned_version": NV_OLD, "held_before": False,
                      "held_after": True, "drift": False, "drift_reason": None, "changed": True}
    diff = package_pin.plan_diff(plan)
    assert diff[0]["before_header"] == "apt-mark showhold"
    assert "nvidia-driver-535: not held" in diff[0]["before"] and "nvidia-driver-535: held" in diff[0]["after"]
    assert [d["after_header"] for d in diff[1:]] == [package_pin.BLACKLIST_PATH, package_pin.PREFERENCES_PATH]


def test_second_run_is_empty():
    first = _plan([{"name": "nvidia-*"}])
    second = _plan([{"name": "nvidia-*"}], holds=first["hold"],
                   prefs=first["files"][package_pin.PREFERENCES_PATH]["after"],
                   black=first["files"][package_pin.BLACKLIST_PATH]["after"])
    assert (second["hold"], second["unhold"], second["files"], second["errors"]) == ([], [], {}, [])
    assert all(not p["changed"] and p["held_after"] for p in second["packages"])
    assert package_pin.plan_diff(second) == []


def test_version_drift_fails_enforce_and_is_reported_in_audit():
    prefs = package_pin.render_preferences({"nvidia-driver-535": NV_NEW})
    enforce = _plan([{"name": "nvidia-driver-535"}], holds=["nvidia-driver-535"], prefs=prefs)
    assert enforce["drift"] == ["nvidia-driver-535"]
    assert len(enforce["errors"]) == 1
    assert ("nvidia-driver-535 is installed at %s but pinned at %s" % (NV_OLD, NV_NEW)) in enforce["errors"][0]
    audit = _plan([{"name": "nvidia-driver-535"}], mode="audit", holds=["nvidia-driver-535"], prefs=prefs)
    assert audit["errors"] == [] and audit["hold"] == [] and audit["files"] == {}
    assert audit["status"] == "crit"
    assert audit["checks"][0]["check"] == "package_pin_drift" and audit["checks"][0]["package"] == "nvidia-driver-535"


def test_explicit_version_is_not_silently_repinned():
    plan = _plan([{"name": "nvidia-driver-535", "version": NV_NEW}], holds=["nvidia-driver-535"])
    assert plan["errors"] and plan["packages"][0]["pinned_version"] == NV_NEW


def test_glob_version_matches():
    plan = _plan([{"name": "nvidia-driver-535", "version": "535.183.*"}], holds=["nvidia-driver-535"])
    assert plan["errors"] == [] and plan["packages"][0]["drift"] is False
    assert "Pin: version 535.183.*" in plan["files"][package_pin.PREFERENCES_PATH]["after"]


def test_lost_hold_is_drift_and_enforce_rehold():
    prefs = package_pin.render_preferences({"nvidia-driver-535": NV_OLD})
    black = package_pin.render_blacklist(["nvidia-driver-535"])
    plan = _plan([{"name": "nvidia-driver-535"}], prefs=prefs, black=black)
    assert plan["drift"] == ["nvidia-driver-535"] and plan["errors"] == []
    assert "lost its hold" in plan["packages"][0]["drift_reason"]
    assert plan["hold"] == ["nvidia-driver-535"] and plan["files"] == {}
    audit = _plan([{"name": "nvidia-driver-535"}], mode="audit", prefs=prefs, black=black)
    assert audit["hold"] == [] and audit["pending"]["hold"] == ["nvidia-driver-535"]
    assert audit["checks"][0]["check"] == "package_pin_hold" and audit["checks"][0]["status"] == "crit"


def test_missing_package_fails_unless_missing_ok():
    plan = _plan([{"name": "nvidia-driver-550"}])
    assert plan["errors"] == ["nvidia-driver-550 is not installed: install it first, fix the name, or set missing_ok"]
    assert _plan([{"name": "nvidia-driver-550"}], missing_ok=True)["errors"] == []
    assert _plan([{"name": "rocm-*"}])["errors"] == []  # a glob matching nothing is fine


def test_release_removes_hold_and_file_entries():
    prefs = package_pin.render_preferences({"nvidia-driver-535": NV_OLD, "nvidia-dkms-535": NV_OLD})
    black = package_pin.render_blacklist(["nvidia-driver-535", "nvidia-dkms-535"])
    plan = _plan([{"name": "nvidia-driver-535"}], state="released", holds=["nvidia-driver-535", "nvidia-dkms-535"],
                 prefs=prefs, black=black)
    assert plan["unhold"] == ["nvidia-driver-535"] and plan["hold"] == []
    assert parse_preferences(plan["files"][package_pin.PREFERENCES_PATH]["after"]) == {"nvidia-dkms-535": NV_OLD}
    assert package_pin.parse_blacklist(plan["files"][package_pin.BLACKLIST_PATH]["after"]) == ["nvidia-dkms-535"]
    everything = _plan([{"name": "nvidia-*"}], state="released", holds=["nvidia-driver-535", "nvidia-dkms-535"],
                       prefs=prefs, black=black)
    assert {path: change["after"] for path, change in everything["files"].items()} == {
        package_pin.PREFERENCES_PATH: "", package_pin.BLACKLIST_PATH: ""}
    assert package_pin.plan_diff(everything)[-1]["after_header"].endswith("(removed)")


def test_hand_edited_file_is_rewritten_and_shown():
    prefs = package_pin.render_preferences({"nvidia-driver-535": NV_OLD}).replace("Pin-Priority: 1001", "Pin-Priority: 500")
    plan = _plan([{"name": "nvidia-driver-535"}], holds=["nvidia-driver-535"], prefs=prefs,
                 black=package_pin.render_blacklist(["nvidia-driver-535"]))
    assert list(plan["files"]) == [package_pin.PREFERENCES_PATH]
    diff = package_pin.plan_diff(plan)
    assert "Pin-Priority: 500" in diff[0]["before"] and "Pin-Priority: 1001" in diff[0]["after"]


def test_files_off_touch_nothing():
    plan = _plan([{"name": "nvidia-driver-535"}], apt_preferences=False, unattended_upgrades_blacklist=False)
    assert plan["files"] == {} and plan["hold"] == ["nvidia-driver-535"]


def test_missing_tools_message():
    assert package_pin.missing_tools_message({"dpkg-query": "/usr/bin/dpkg-query", "apt-mark": "/usr/bin/apt-mark",
                                              "apt-cache": "/usr/bin/apt-cache"}) is None
    message = package_pin.missing_tools_message({"dpkg-query": None, "apt-mark": None, "apt-cache": None})
    assert message.startswith("package_pin needs apt and dpkg (a Debian or Ubuntu host): dpkg-query, apt-mark, apt-cache")


def test_write_text_atomic_and_remove(tmp_path):
    path = str(tmp_path / "sub" / "file.pref")
    package_pin.write_text(path, "x\n")
    assert package_pin.read_text(path) == "x\n" and oct(os.stat(path).st_mode & 0o777) == "0o644"
    package_pin.write_text(path, "")
    assert not os.path.exists(path) and package_pin.read_text(path) == ""
    assert os.listdir(str(tmp_path / "sub")) == []


# ---------------------------------------------------------------- issue 18

def test_nothing_matched_is_a_warning_that_nothing_is_held():
    plan = _plan([{"name": "rocm-*"}, {"name": "amdgpu-dkms"}], missing_ok=True)
    assert plan["packages"] == [] and plan["errors"] == [] and plan["hold"] == []
    assert plan["unmatched"] == ["rocm-*", "amdgpu-dkms"]
    [check] = plan["checks"]
    assert (check["check"], check["status"], check["subject"]) == ("package_pin_match", "warn", {})
    assert check["message"].startswith("nothing is held: no installed package matches rocm-*, amdgpu-dkms: fix the names")
    assert plan["status"] == "warn"


def test_one_pattern_matching_is_enough_and_the_others_are_listed():
    plan = _plan([{"name": "nvidia-driver-*"}, {"name": "rocm-*"}])
    assert [p["name"] for p in plan["packages"]] == ["nvidia-driver-535"]
    assert plan["unmatched"] == ["rocm-*"] and plan["checks"] == [] and plan["status"] == "ok"


def test_releasing_nothing_and_asking_nothing_are_not_warnings():
    assert _plan([{"name": "rocm-*"}], state="released")["checks"] == []
    assert _plan([])["checks"] == [] and _plan([])["unmatched"] == []


def test_a_negative_lock_timeout_fails_naming_the_option_before_anything_runs():
    params = dict((name, spec.get("default")) for name, spec in package_pin.ARGUMENT_SPEC.items())
    with pytest.raises(package_pin.AptError, match=r"^lock_timeout must be at least 0 \(got -1\)$"):
        package_pin.run(None, dict(params, lock_timeout=-1), find=lambda name: pytest.fail("looked for %s" % name))


# ---------------------------------------------------------------- a newer version while held (monthly)

def _policy(fixture_path, name):
    with open(fixture_path("apt", name)) as handle:
        return parse_policy(handle.read())


NEWER_MESSAGE = ("a newer nvidia-driver-535 %s is available while %s is held: read the release notes and bump the pin "
                 "in a planned window (playbooks/driver_bump.yml)" % (NV_NEW, NV_OLD))


@pytest.mark.parametrize("capture", ["apt-cache-policy-held-newer.txt", "apt-cache-policy-pinned-newer.txt"])
def test_a_held_package_with_a_newer_version_warns_in_audit(fixture_path, capture):
    # Both real shapes: held with apt-mark only (candidate = newer), and also pinned by our
    # preferences file (candidate = installed; the newer version only in the table).
    policy = _policy(fixture_path, capture)
    prefs = package_pin.render_preferences({"nvidia-driver-535": NV_OLD})
    plan = package_pin.build_plan([{"name": "nvidia-driver-535"}], "held", "audit", INSTALLED,
                                  ["nvidia-driver-535"], policy, prefs, "")
    assert plan["errors"] == [] and plan["drift"] == []
    assert plan["packages"][0]["newer_version"] == NV_NEW
    assert [(c["check"], c["status"], c["package"], c["value"], c["threshold"]) for c in plan["checks"]] == [
        ("package_pin_newer_candidate", "warn", "nvidia-driver-535", NV_NEW, NV_OLD)]
    assert plan["checks"][0]["message"] == NEWER_MESSAGE
    assert plan["status"] == "warn"


def test_a_newer_version_of_a_package_that_is_not_held_is_the_hold_check_only(fixture_path):
    policy = _policy(fixture_path, "apt-cache-policy-held-newer.txt")
    plan = package_pin.build_plan([{"name": "nvidia-driver-535"}], "held", "audit", INSTALLED, [], policy, "", "")
    assert [(c["check"], c["status"]) for c in plan["checks"]] == [("package_pin_hold", "warn")]


def test_enforce_holds_and_still_says_a_newer_version_waits(fixture_path):
    policy = _policy(fixture_path, "apt-cache-policy-held-newer.txt")
    plan = package_pin.build_plan([{"name": "nvidia-driver-535"}], "held", "enforce", INSTALLED, [], policy, "", "")
    assert plan["hold"] == ["nvidia-driver-535"]
    assert [(c["check"], c["status"]) for c in plan["checks"]] == [("package_pin_newer_candidate", "warn")]


def test_nothing_newer_is_no_check(fixture_path):
    policy = _policy(fixture_path, "apt-cache-policy-up-to-date.txt")
    plan = package_pin.build_plan([{"name": "nvidia-driver-535"}], "held", "audit", INSTALLED,
                                  ["nvidia-driver-535"], policy, "", "")
    assert plan["checks"] == [] and plan["status"] == "ok"
    assert plan["packages"][0]["newer_version"] is None


def test_version_drift_is_reported_instead_of_a_newer_version(fixture_path):
    # Installed is not the pinned version: the drift is the problem to fix first.
    policy = _policy(fixture_path, "apt-cache-policy-held-newer.txt")
    prefs = package_pin.render_preferences({"nvidia-driver-535": "535.100.*"})
    plan = package_pin.build_plan([{"name": "nvidia-driver-535"}], "held", "audit", INSTALLED,
                                  ["nvidia-driver-535"], policy, prefs, "")
    assert [c["check"] for c in plan["checks"]] == ["package_pin_drift"]
