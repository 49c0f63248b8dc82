"""package_pin through the real Ansible, apt and dpkg of this machine, read-only.

The state-changing paths (holds, pin files, upgrades, drift, bump and rollback, the dpkg lock) run
on throw-away containers in molecule/driver_pin; here the module only reads this host's real
package database (audit and check mode), so the machine running the tests is never changed, or a
private APT/dpkg root (tests/testlib/aptroot.py) below the test's temporary directory.
"""

import os
import subprocess

import pytest

from testlib.ansible_run import run_module

pytestmark = pytest.mark.integration

PREFS = "/etc/apt/preferences.d/gpufleet-package-pin.pref"
BLACK = "/etc/apt/apt.conf.d/51gpufleet-package-pin"


def _showhold():
    return subprocess.run(["apt-mark", "showhold"], capture_output=True, text=True, check=True).stdout


def _version(package):
    return subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(autouse=True)
def _debian_only():
    if not os.path.exists("/var/lib/dpkg/status"):
        pytest.skip("needs a Debian/Ubuntu host with dpkg (no /var/lib/dpkg/status)")


def test_audit_reports_the_real_versions_and_changes_nothing():
    holds = _showhold()
    result = run_module("gpufleet.maintenance.package_pin", {"names": ["dpkg", "apt*"], "mode": "audit"})
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    by_name = {p["name"]: p for p in result["packages"]}
    assert by_name["dpkg"]["installed_version"] == _version("dpkg")
    assert by_name["apt"]["installed_version"] == _version("apt")
    assert by_name["apt"]["pattern"] == "apt*"
    assert by_name["dpkg"]["held_before"] is ("dpkg" in holds.split())
    assert result["plan"] == {"hold": [], "unhold": [], "files": []}
    assert _showhold() == holds


def test_check_mode_plans_a_hold_and_changes_nothing():
    holds = _showhold()
    if "dpkg" in holds.split():
        pytest.skip("dpkg is already held on this machine")
    before = [os.path.exists(PREFS), os.path.exists(BLACK)]
    result = run_module("gpufleet.maintenance.package_pin", {"names": ["dpkg"]}, check=True)
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert result["plan"]["hold"] == ["dpkg"]
    entry = result["packages"][0]
    assert entry["pinned_version"] == _version("dpkg") and entry["held_after"] is True
    assert _showhold() == holds
    assert [os.path.exists(PREFS), os.path.exists(BLACK)] == before


def test_missing_package_fails_with_a_clear_message():
    result = run_module("gpufleet.maintenance.package_pin", {"names": ["gpufleet-no-such-package"]}, check=True)
    assert result["failed"] is True
    assert "gpufleet-no-such-package is not installed: install it first, fix the name, or set missing_ok" in result["msg"]
    assert "Traceback" not in result.get("module_stderr", "")
    ok = run_module("gpufleet.maintenance.package_pin", {"names": ["gpufleet-no-such-package"], "missing_ok": True},
                    check=True)
    assert ok.get("failed") is not True and ok["changed"] is False and ok["packages"] == []


def test_nothing_requested_is_a_no_op():
    result = run_module("gpufleet.maintenance.package_pin", {"mode": "audit"})
    assert result.get("failed") is not True, result
    assert result["changed"] is False and result["packages"] == [] and result["status"] == "ok"


def test_a_pattern_matching_nothing_warns_that_nothing_is_held():
    result = run_module("gpufleet.maintenance.package_pin", {"names": ["gpufleet-no-such-stack-*"]}, check=True)
    assert result.get("failed") is not True, result
    assert result["changed"] is False and result["packages"] == []
    assert result["unmatched"] == ["gpufleet-no-such-stack-*"]
    assert result["status"] == "warn"
    assert [(c["check"], c["status"]) for c in result["checks"]] == [("package_pin_match", "warn")]
    assert result["checks"][0]["message"].startswith("nothing is held: no installed package matches gpufleet-no-such-stack-*")


def test_a_negative_lock_timeout_fails_naming_the_option():
    result = run_module("gpufleet.maintenance.package_pin", {"names": ["dpkg"], "lock_timeout": -1}, check=True)
    assert result["failed"] is True and result["msg"] == "lock_timeout must be at least 0 (got -1)"


# ---------------------------------------------------------------- a newer version appears while held

def test_a_newer_version_appearing_after_the_hold_warns_in_the_monthly_audit(tmp_path):
    """A private APT/dpkg root (tests/testlib/aptroot.py: the real apt-get, apt-mark, apt-cache and
    dpkg-query of this machine through APT_CONFIG and DPKG_ADMINDIR) with the local repository of
    tests/testlib/aptrepo.py: the old GPU stack is installed and pinned by package_pin in enforce
    mode, then the repository gains the newer versions; the audit (what the monthly runs) says so,
    although the preferences pin keeps apt's candidate at the installed version."""
    from testlib import aptrepo
    from testlib.aptroot import AptRoot

    repo = tmp_path / "repo"
    aptrepo.build(str(repo), only=aptrepo.OLD)
    root = AptRoot(tmp_path / "root", repo)
    root.update()
    root.run("apt-get", "install", "-y", "nvidia-driver-535")
    args = {"names": ["nvidia-driver-535", "nvidia-utils-535"], "verify_upgrade": ["upgrade"],
            "preferences_path": os.path.join(root.preferences_dir, "gpufleet-package-pin.pref"),
            "blacklist_path": os.path.join(root.etc, "apt.conf.d", "51gpufleet-package-pin")}

    pinned = run_module("gpufleet.maintenance.package_pin", args, env=root.env)
    assert pinned.get("failed") is not True, pinned
    assert pinned["changed"] is True and pinned["plan"]["hold"] == ["nvidia-driver-535", "nvidia-utils-535"]
    assert root.run("apt-mark", "showhold").stdout.split() == ["nvidia-driver-535", "nvidia-utils-535"]
    assert pinned["checks"] == [] and pinned["status"] == "ok"
    assert [p["newer_version"] for p in pinned["packages"]] == [None, None]

    aptrepo.build(str(repo))  # the vendor publishes 535.183.06
    root.update()
    policy = root.policy("nvidia-driver-535")
    assert "Candidate: %s" % aptrepo.NV_OLD in policy and aptrepo.NV_NEW in policy  # the pin hides it from Candidate

    audit = run_module("gpufleet.maintenance.package_pin", dict(args, mode="audit"), env=root.env)
    assert audit.get("failed") is not True, audit
    assert audit["changed"] is False
    by_name = {p["name"]: p for p in audit["packages"]}
    assert by_name["nvidia-driver-535"]["candidate_version"] == aptrepo.NV_OLD
    assert by_name["nvidia-driver-535"]["newer_version"] == aptrepo.NV_NEW
    newer = [c for c in audit["checks"] if c["check"] == "package_pin_newer_candidate"]
    assert [(c["package"], c["status"], c["value"], c["threshold"]) for c in newer] == [
        ("nvidia-driver-535", "warn", aptrepo.NV_NEW, aptrepo.NV_OLD),
        ("nvidia-utils-535", "warn", aptrepo.NV_NEW, aptrepo.NV_OLD)]
    assert newer[0]["message"] == (
        "a newer nvidia-driver-535 %s is available while %s is held: read the release notes and bump the pin in a "
        "planned window (playbooks/driver_bump.yml)" % (aptrepo.NV_NEW, aptrepo.NV_OLD))
    # Nothing moved: the hold and the pin keep the old stack, and the simulated upgrade leaves it alone.
    assert [c["check"] for c in audit["checks"]] == ["package_pin_newer_candidate"] * 2
    assert audit["status"] == "warn"
    versions = dict(line.split() for line in root.query("${Package} ${Version}\n").splitlines())
    assert versions["nvidia-driver-535"] == versions["nvidia-utils-535"] == aptrepo.NV_OLD
    assert audit["simulation"]["upgrade"]["moves"] == {}
