"""Parsers, renderers and the pin plan of _apt.py, on real apt/dpkg output (tests/unit/fixtures/apt)."""

import fcntl
import os
import subprocess
import sys

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _apt

NV_OLD, NV_NEW = "535.183.01-0ubuntu1", "535.183.06-0ubuntu1"


def _read(fixture_path, name):
    with open(fixture_path("apt", name)) as handle:
        return handle.read()


# ---------------------------------------------------------------- parsers

def test_parse_showhold_real_capture(fixture_path):
    assert _apt.parse_showhold(_read(fixture_path, "apt-mark-showhold-three-held.txt")) == [
        "linux-dtb-dev-sun8i", "linux-image-dev-sun8i", "linux-u-boot-nanopineo-dev"]


@pytest.mark.parametrize("text, expected", [
    ("", []),
    ("\n\n", []),
    ("b\na\na\n", ["a", "b"]),
    ("libc6:i386\n", ["libc6:i386"]),
])
def test_parse_showhold_table(text, expected):
    assert _apt.parse_showhold(text) == expected


def test_parse_dpkg_query_real_capture(fixture_path):
    packages = _apt.parse_dpkg_query(_read(fixture_path, "dpkg-query-status.txt"))
    # Captured while nvidia-driver-535 and nvidia-dkms-535 were held: dpkg's selection says so.
    assert packages["nvidia-driver-535"] == {"version": NV_OLD, "selection": "hold", "state": "installed"}
    assert packages["libnvidia-compute-535"] == {"version": NV_OLD, "selection": "install", "state": "installed"}
    assert packages["gpufleet-unrelated"]["version"] == "1.0-1"
    assert "apt" in packages and "dpkg" in packages
    assert len(packages) > 150


def test_parse_dpkg_query_leaves_out_removed_and_keeps_holds():
    text = ("foo\t1.0\tdeinstall ok config-files\n"
            "bar\t2.0\thold ok installed\n"
            "baz\t\tunknown ok not-installed\n"
            "broken line\n"
            "qux\t3:1.2\tinstall ok half-configured\n")
    assert _apt.parse_dpkg_query(text) == {
        "bar": {"version": "2.0", "selection": "hold", "state": "installed"},
        "qux": {"version": "3:1.2", "selection": "install", "state": "half-configured"},
    }


def test_parse_policy_real_capture(fixture_path):
    policy = _apt.parse_policy(_read(fixture_path, "apt-cache-policy-three.txt"))
    assert policy["nvidia-driver-535"] == {"installed": NV_OLD, "candidate": NV_NEW}
    assert policy["gpufleet-unrelated"] == {"installed": "1.0-1", "candidate": "2.0-1"}
    assert set(policy) == {"nvidia-driver-535", "gpufleet-unrelated", "nvidia-utils-535"}


def test_parse_policy_not_installed():
    text = "nvidia-driver-550:\n  Installed: (none)\n  Candidate: 550.1-1\n  Version table:\n     550.1-1 500\n"
    assert _apt.parse_policy(text) == {"nvidia-driver-550": {"installed": None, "candidate": "550.1-1"}}


def test_parse_simulation_kept_back(fixture_path):
    moves = _apt.parse_simulation(_read(fixture_path, "apt-get-s-upgrade-kept-back.txt"))
    assert moves["gpufleet-unrelated"] == {"from": "1.0-1", "to": "2.0-1", "action": "upgrade"}
    assert "nvidia-driver-535" not in moves
    assert moves["__kept_back__"] == ["libnvidia-compute-535", "nvidia-dkms-535", "nvidia-driver-535",
                                      "nvidia-kernel-common-535", "nvidia-utils-535"]


def test_parse_simulation_unpinned(fixture_path):
    moves = _apt.parse_simulation(_read(fixture_path, "apt-get-s-upgrade-unpinned.txt"))
    assert moves["nvidia-driver-535"] == {"from": NV_OLD, "to": NV_NEW, "action": "upgrade"}
    assert len([n for n in moves if not n.startswith("__")]) == 6
    assert "__kept_back__" not in moves


def test_parse_simulation_install_and_remove():
    moves = _apt.parse_simulation("Inst foo (1.0 stable [amd64])\nRemv bar [2.0]\nConf foo (1.0 stable [amd64])\n")
    assert moves == {"foo": {"from": None, "to": "1.0", "action": "install"},
                     "bar": {"from": "2.0", "to": None, "action": "remove"}}


# ---------------------------------------------------------------- renderers round-trip

def test_preferences_render_and_parse_round_trip():
    pins = {"nvidia-driver-535": NV_OLD, "libnvidia-compute-535": "535.183.*"}
    text = _apt.render_preferences(pins)
    assert text.startswith("# gpufleet.maintenance.package_pin manages this file")
    assert "Package: libnvidia-compute-535\nPin: version 535.183.*\nPin-Priority: 1001\n" in text
    assert text.index("libnvidia-compute-535") < text.index("nvidia-driver-535")
    assert _apt.parse_preferences(text) == pins
    assert _apt.render_preferences({}) == ""


def test_parse_preferences_ignores_other_pins():
    text = ("Package: *\nPin: release a=bookworm-backports\nPin-Priority: 100\n\n"
            "Package: foo bar\nPin: version 1.2*\nPin-Priority: 1001\n")
    assert _apt.parse_preferences(text) == {"foo": "1.2*", "bar": "1.2*"}


def test_blacklist_render_and_parse_round_trip():
    text = _apt.render_blacklist(["nvidia-driver-535", "libstdc++6", "a.b"])
    assert "Unattended-Upgrade::Package-Blacklist {" in text
    assert '    "^libstdc[+][+]6$";' in text and '    "^a[.]b$";' in text
    assert "\\" not in text  # apt.conf strings take no backslash escapes
    assert _apt.parse_blacklist(text) == ["a.b", "libstdc++6", "nvidia-driver-535"]
    assert _apt.parse_blacklist("// nothing here\n") == []
    assert _apt.render_blacklist([]) == ""


def test_parse_proc_locks():
    text = ("1: POSIX  ADVISORY  WRITE 4242 00:2d:1234 0 EOF\n"
            "2: FLOCK  ADVISORY  WRITE 77 fd:01:99 0 EOF\n"
            "2: -> POSIX  ADVISORY  WRITE 88 00:2d:1234 0 EOF\n"
            "3: OFDLCK ADVISORY  READ  0 00:2d:1234 0 EOF\n")
    assert _apt.parse_proc_locks(text, 1234) == [4242]
    assert _apt.parse_proc_locks(text, 99) == [77]
    assert _apt.parse_proc_locks("", 1) == []


def test_lock_holders_names_the_real_holder(tmp_path):
    lock = tmp_path / "lock-frontend"
    lock.write_text("")
    holder = subprocess.Popen([sys.executable, "-c",
                               "import fcntl,sys,time; f=open(sys.argv[1],'w'); fcntl.lockf(f, fcntl.LOCK_EX); "
                               "print('locked', flush=True); time.sleep(30)", str(lock)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        held = _apt.lock_holders([str(lock), str(tmp_path / "absent")])
        assert held == {str(lock): [holder.pid]}
        with pytest.raises(_apt.AptError) as info:
            _apt.wait_for_lock(0.3, [str(lock)])
        assert "%s is held by PID %d" % (lock, holder.pid) in str(info.value)
        assert "raise lock_timeout" in str(info.value)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert _apt.lock_holders([str(lock)]) == {}
    clock = _Clock()
    assert _apt.wait_for_lock(1, [str(lock)], sleep=clock.sleep, clock=clock.time) == 0 and clock.sleeps == []
    # We released the lock we took to test it.
    with open(str(lock), "w") as handle:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


# ---------------------------------------------------------------- decisions

INSTALLED = {
    "nvidia-driver-535": {"version": NV_OLD},
    "nvidia-dkms-535": {"version": NV_OLD},
    "libnvidia-compute-535": {"version": NV_OLD},
    "gpufleet-unrelated": {"version": "1.0-1"},
}
POLICY = {"nvidia-driver-535": {"installed": NV_OLD, "candidate": NV_NEW}}


def _plan(requests, state="held", mode="enforce", holds=(), prefs="", black="", **kw):
    return _apt.build_plan(requests, state, mode, INSTALLED, holds, POLICY, prefs, black, **kw)


@pytest.mark.parametrize("installed, wanted, expected", [
    (NV_OLD, NV_OLD, True),
    (NV_NEW, NV_OLD, False),
    (NV_OLD, "535.183.*", True),
    ("550.1-1", "535.183.*", False),
    (None, NV_OLD, False),
    ("1.0-1", None, False),
])
def test_version_matches(installed, wanted, expected):
    assert _apt.version_matches(installed, wanted) is expected


def test_expand_requests_globs_and_exact():
    targets, unmatched = _apt.expand_requests(
        [{"name": "nvidia-*"}, {"name": "nvidia-driver-535", "version": "535.*"}, {"name": "absent-pkg"}], INSTALLED)
    assert list(targets) == ["nvidia-driver-535", "nvidia-dkms-535"]
    assert targets["nvidia-driver-535"] == {"pattern": "nvidia-driver-535", "version": "535.*"}
    assert targets["nvidia-dkms-535"]["pattern"] == "nvidia-*"
    assert unmatched == ["absent-pkg"]


def test_first_pin_holds_and_writes_both_files():
    plan = _plan([{"name": "nvidia-*"}, {"name": "libnvidia-compute-*"}])
    assert plan["errors"] == [] and plan["drift"] == []
    assert sorted(plan["hold"]) == ["libnvidia-compute-535", "nvidia-dkms-535", "nvidia-driver-535"]
    prefs = plan["files"][_apt.PREFERENCES_PATH]
    assert prefs["before"] == "" and _apt.parse_preferences(prefs["after"]) == {
        "nvidia-driver-535": NV_OLD, "nvidia-dkms-535": NV_OLD, "libnvidia-compute-535": NV_OLD}
    assert _apt.parse_blacklist(plan["files"][_apt.BLACKLIST_PATH]["after"]) == [
        "libnvidia-compute-535", "nvidia-dkms-535", "nvidia-driver-535"]
    driver = [p for p in plan["packages"] if p["name"] == "nvidia-driver-535"][0]
    assert driver == {"name": "nvidia-driver-535", "pattern": "nvidia-*", "installed_version": NV_OLD,
                      "candidate_version": NV_NEW, "pinned_version": NV_OLD, "held_before": False,
                      "held_after": True, "drift": False, "drift_reason": None, "changed": True}
    diff = _apt.plan_diff(plan)
    assert diff[0]["before_header"] == "apt-mark showhold"
    assert "nvidia-driver-535: not held" in diff[0]["before"] and "nvidia-driver-535: held" in diff[0]["after"]
    assert [d["after_header"] for d in diff[1:]] == [_apt.BLACKLIST_PATH, _apt.PREFERENCES_PATH]


def test_second_run_is_empty():
    first = _plan([{"name": "nvidia-*"}])
    second = _plan([{"name": "nvidia-*"}], holds=first["hold"],
                   prefs=first["files"][_apt.PREFERENCES_PATH]["after"],
                   black=first["files"][_apt.BLACKLIST_PATH]["after"])
    assert (second["hold"], second["unhold"], second["files"], second["errors"]) == ([], [], {}, [])
    assert all(not p["changed"] and p["held_after"] for p in second["packages"])
    assert _apt.plan_diff(second) == []


def test_version_drift_fails_enforce_and_is_reported_in_audit():
    prefs = _apt.render_preferences({"nvidia-driver-535": NV_NEW})
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
    assert "Pin: version 535.183.*" in plan["files"][_apt.PREFERENCES_PATH]["after"]


def test_lost_hold_is_drift_and_enforce_rehold():
    prefs = _apt.render_preferences({"nvidia-driver-535": NV_OLD})
    black = _apt.render_blacklist(["nvidia-driver-535"])
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
    prefs = _apt.render_preferences({"nvidia-driver-535": NV_OLD, "nvidia-dkms-535": NV_OLD})
    black = _apt.render_blacklist(["nvidia-driver-535", "nvidia-dkms-535"])
    plan = _plan([{"name": "nvidia-driver-535"}], state="released", holds=["nvidia-driver-535", "nvidia-dkms-535"],
                 prefs=prefs, black=black)
    assert plan["unhold"] == ["nvidia-driver-535"] and plan["hold"] == []
    assert _apt.parse_preferences(plan["files"][_apt.PREFERENCES_PATH]["after"]) == {"nvidia-dkms-535": NV_OLD}
    assert _apt.parse_blacklist(plan["files"][_apt.BLACKLIST_PATH]["after"]) == ["nvidia-dkms-535"]
    everything = _plan([{"name": "nvidia-*"}], state="released", holds=["nvidia-driver-535", "nvidia-dkms-535"],
                       prefs=prefs, black=black)
    assert {path: change["after"] for path, change in everything["files"].items()} == {
        _apt.PREFERENCES_PATH: "", _apt.BLACKLIST_PATH: ""}
    assert _apt.plan_diff(everything)[-1]["after_header"].endswith("(removed)")


def test_hand_edited_file_is_rewritten_and_shown():
    prefs = _apt.render_preferences({"nvidia-driver-535": NV_OLD}).replace("Pin-Priority: 1001", "Pin-Priority: 500")
    plan = _plan([{"name": "nvidia-driver-535"}], holds=["nvidia-driver-535"], prefs=prefs,
                 black=_apt.render_blacklist(["nvidia-driver-535"]))
    assert list(plan["files"]) == [_apt.PREFERENCES_PATH]
    diff = _apt.plan_diff(plan)
    assert "Pin-Priority: 500" in diff[0]["before"] and "Pin-Priority: 1001" in diff[0]["after"]


def test_files_off_touch_nothing():
    plan = _plan([{"name": "nvidia-driver-535"}], apt_preferences=False, unattended_upgrades_blacklist=False)
    assert plan["files"] == {} and plan["hold"] == ["nvidia-driver-535"]


def test_missing_tools_message():
    assert _apt.missing_tools_message({"dpkg-query": "/usr/bin/dpkg-query", "apt-mark": "/usr/bin/apt-mark",
                                       "apt-cache": "/usr/bin/apt-cache"}) is None
    message = _apt.missing_tools_message({"dpkg-query": None, "apt-mark": None, "apt-cache": None})
    assert message.startswith("package_pin needs apt and dpkg (a Debian or Ubuntu host): dpkg-query, apt-mark, apt-cache")


def test_write_text_atomic_and_remove(tmp_path):
    path = str(tmp_path / "sub" / "file.pref")
    _apt.write_text(path, "x\n")
    assert _apt.read_text(path) == "x\n" and oct(os.stat(path).st_mode & 0o777) == "0o644"
    _apt.write_text(path, "")
    assert not os.path.exists(path) and _apt.read_text(path) == ""
    assert os.listdir(str(tmp_path / "sub")) == []


class _Clock:
    """A clock the test moves: each sleep advances it by exactly what was asked."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_for_lock_free_returns_without_waiting(tmp_path):
    clock = _Clock()
    assert _apt.wait_for_lock(5, [str(tmp_path / "none")], sleep=clock.sleep, clock=clock.time) == 0
    assert clock.sleeps == []


def test_wait_for_lock_counts_the_time_it_waited(tmp_path, monkeypatch):
    """Held for three looks, free at the fourth: 1 s sleeps, the waited time from the clock."""
    clock = _Clock()
    looks = []

    def holders(lock_files):
        looks.append(clock.now)
        return {lock_files[0]: [4242]} if len(looks) <= 3 else {}

    monkeypatch.setattr(_apt, "lock_holders", holders)
    assert _apt.wait_for_lock(5, [str(tmp_path / "lock")], sleep=clock.sleep, clock=clock.time) == 3.0
    assert clock.sleeps == [1.0, 1.0, 1.0] and looks == [1000.0, 1001.0, 1002.0, 1003.0]


def test_wait_for_lock_gives_up_at_the_timeout(tmp_path, monkeypatch):
    """Always held, lock_timeout 2.5 s: sleeps of 1, 1, then the 0.5 s left; then the error."""
    clock = _Clock()
    monkeypatch.setattr(_apt, "lock_holders", lambda lock_files: {lock_files[0]: [4242]})
    with pytest.raises(_apt.AptError, match="is held by PID 4242"):
        _apt.wait_for_lock(2.5, [str(tmp_path / "lock")], sleep=clock.sleep, clock=clock.time)
    assert clock.sleeps == [1.0, 1.0, 0.5]
