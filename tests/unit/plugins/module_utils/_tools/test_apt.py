"""apt/dpkg parsers and the dpkg lock (_tools/apt.py), on real apt/dpkg output (tests/unit/fixtures/apt)."""

import fcntl
import subprocess
import sys

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import apt as _apt

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


def _installed_and_candidate(entry):
    return {"installed": entry["installed"], "candidate": entry["candidate"]}


def test_parse_policy_real_capture(fixture_path):
    policy = _apt.parse_policy(_read(fixture_path, "apt-cache-policy-three.txt"))
    assert _installed_and_candidate(policy["nvidia-driver-535"]) == {"installed": NV_OLD, "candidate": NV_NEW}
    assert _installed_and_candidate(policy["gpufleet-unrelated"]) == {"installed": "1.0-1", "candidate": "2.0-1"}
    assert set(policy) == {"nvidia-driver-535", "gpufleet-unrelated", "nvidia-utils-535"}


def test_parse_policy_not_installed():
    text = "nvidia-driver-550:\n  Installed: (none)\n  Candidate: 550.1-1\n  Version table:\n     550.1-1 500\n"
    assert _apt.parse_policy(text) == {"nvidia-driver-550": {
        "installed": None, "candidate": "550.1-1",
        "versions": [{"version": "550.1-1", "priority": 500, "installed": False}]}}
    assert _apt.newer_version(_apt.parse_policy(text)["nvidia-driver-550"]) is None


def test_parse_policy_version_table_of_a_held_package_with_a_newer_version(fixture_path):
    # Held with apt-mark only: the hold does not change the candidate, the newer version is both.
    policy = _apt.parse_policy(_read(fixture_path, "apt-cache-policy-held-newer.txt"))
    assert set(policy) == {"nvidia-driver-535", "nvidia-utils-535", "gpufleet-unrelated"}
    assert policy["nvidia-driver-535"] == {"installed": NV_OLD, "candidate": NV_NEW, "versions": [
        {"version": NV_NEW, "priority": 500, "installed": False},
        {"version": NV_OLD, "priority": 500, "installed": True}]}
    assert _apt.newer_version(policy["nvidia-driver-535"]) == NV_NEW
    assert _apt.newer_version(policy["gpufleet-unrelated"]) == "2.0-1"


def test_parse_policy_preferences_pin_keeps_the_candidate_but_not_the_table(fixture_path):
    # Pin-Priority 1001 at the installed version (what package_pin writes): Candidate is the pinned
    # version, so only the version table says that a newer one exists.
    policy = _apt.parse_policy(_read(fixture_path, "apt-cache-policy-pinned-newer.txt"))
    driver = policy["nvidia-driver-535"]
    assert driver["candidate"] == NV_OLD == driver["installed"]
    assert driver["versions"] == [{"version": NV_NEW, "priority": 500, "installed": False},
                                  {"version": NV_OLD, "priority": 1001, "installed": True}]
    assert _apt.newer_version(driver) == NV_NEW
    assert _apt.newer_version(policy["nvidia-utils-535"]) == NV_NEW


def test_parse_policy_nothing_newer(fixture_path):
    policy = _apt.parse_policy(_read(fixture_path, "apt-cache-policy-up-to-date.txt"))
    assert policy["nvidia-driver-535"]["versions"] == [{"version": NV_OLD, "priority": 500, "installed": True}]
    assert _apt.newer_version(policy["nvidia-driver-535"]) is None
    assert _apt.newer_version(policy["gpufleet-unrelated"]) is None


@pytest.mark.parametrize("versions, expected", [
    # a newer version pinned away (Pin-Priority -1) is never installed: the next one counts
    ([("3.0", -1, False), ("2.0", 500, False), ("1.0", 500, True)], "2.0"),
    ([("2.0", -1, False), ("1.0", 1001, True)], None),
    # the installed version newer than everything the sources have (a local build)
    ([("2.0", 100, True), ("1.0", 500, False)], None),
    # nothing installed, or no table at all: nothing to compare with
    ([("2.0", 500, False)], None),
    ([], None),
])
def test_newer_version_table(versions, expected):
    entry = {"versions": [{"version": v, "priority": p, "installed": i} for v, p, i in versions]}
    assert _apt.newer_version(entry) == expected
    assert _apt.newer_version(None) is None


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


def test_parse_preferences_ignores_other_pins():
    text = ("Package: *\nPin: release a=bookworm-backports\nPin-Priority: 100\n\n"
            "Package: foo bar\nPin: version 1.2*\nPin-Priority: 1001\n")
    assert _apt.parse_preferences(text) == {"foo": "1.2*", "bar": "1.2*"}


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
