"""_ops/prerequisites_facts: one read of the host for the prerequisites role - distribution, Python,
uid, packages (replayed dpkg-query captures), stamp - that never fails on a missing or damaged stamp."""

import json
import os
import shutil
import sys

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import prerequisites_facts as _pf

WANTED = ["python3-apt", "python3-yaml", "smartmontools", "iproute2", "dmidecode", "pciutils", "rsync"]


def _capture(fixture_path, name):
    with open(fixture_path("prerequisites", name)) as handle:
        return handle.read()


class Dpkg:
    """run_command replaying one dpkg-query answer; records the argv (after the timeout wrapper)."""

    def __init__(self, rc, stdout="", stderr=""):
        self.answer = (rc, stdout, stderr)
        self.calls = []

    def __call__(self, argv, **_kwargs):
        self.calls.append(argv[argv.index("--show") - 1:] if "--show" in argv else argv)
        return self.answer


@pytest.fixture
def dpkg_query(monkeypatch):
    monkeypatch.setattr(_runner, "find_tool", lambda name, *a, **k: None if name == "timeout" else "/usr/bin/" + name)


def test_packages_held_removed_and_unknown_are_missing(fixture_path, dpkg_query):
    run = Dpkg(1, _capture(fixture_path, "dpkg-query-abbrev-held-removed-bookworm.stdout"),
               _capture(fixture_path, "dpkg-query-abbrev-held-removed-bookworm.stderr"))
    result = _pf.read_packages(run, WANTED, 60)
    assert run.calls == [["/usr/bin/dpkg-query", "--show", "--showformat=${Package} ${db:Status-Abbrev}\\n"] + WANTED]
    assert result["installed"] == ["smartmontools"]
    assert result["missing"] == ["python3-apt", "python3-yaml", "iproute2", "dmidecode", "pciutils", "rsync"]
    assert result["status"]["dmidecode"] == ["hi "] and result["status"]["pciutils"] is None
    assert result["present"] is True and result["reason"] is None


def test_a_fresh_box_misses_them_all(fixture_path, dpkg_query):
    run = Dpkg(1, "", _capture(fixture_path, "dpkg-query-abbrev-fresh-bookworm.stderr"))
    assert _pf.read_packages(run, WANTED, 60)["missing"] == WANTED


def test_dpkg_failing_otherwise_fails_the_read_as_the_former_task_did(dpkg_query):
    with pytest.raises(_pf.PrerequisitesError) as err:
        _pf.read_packages(Dpkg(2, "", "dpkg-query: error: parsing file '/var/lib/dpkg/status'"), ["rsync"], 60)
    assert "exit 2" in str(err.value) and "parsing file" in str(err.value) and err.value.rc == 2


def test_no_names_runs_nothing_and_no_dpkg_is_reported_not_failed(monkeypatch):
    run = Dpkg(0)
    assert _pf.read_packages(run, [], 60)["missing"] == [] and run.calls == []
    monkeypatch.setattr(_runner, "find_tool", lambda name, *a, **k: None)
    result = _pf.read_packages(run, ["rsync"], 60)
    assert result["present"] is False and "dpkg-query not found" in result["reason"] and result["missing"] == ["rsync"]


def test_the_stamp_or_why_there_is_none(tmp_path):
    stamp = {"python": "3.11", "requirements": ["docker==7.2.0"], "sha256": {"docker-7.2.0-py3-none-any.whl": "ab"}}
    good = tmp_path / "good.json"
    good.write_text(json.dumps(stamp) + "\n")
    assert _pf.read_stamp(str(good)) == (stamp, None)
    missing, reason = _pf.read_stamp(str(tmp_path / "absent.json"))
    assert missing is None and "No such file" in reason
    damaged = tmp_path / "damaged.json"
    damaged.write_text('{"requirements": [')
    assert _pf.read_stamp(str(damaged))[0] is None and "not JSON" in _pf.read_stamp(str(damaged))[1]
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    assert _pf.read_stamp(str(listed)) == (None, "%s: not a JSON object" % listed)
    assert _pf.read_stamp(str(tmp_path))[0] is None   # a directory
    assert _pf.read_stamp(None) == (None, "no venv_stamp given")


def _etc(tmp_path, fixture_path, system, extra=()):
    etc = tmp_path / "etc"
    etc.mkdir()
    shutil.copy(fixture_path("prerequisites", "os-release-" + system), str(etc / "os-release"))
    shutil.copy(fixture_path("prerequisites", "debian_version-" + system), str(etc / "debian_version"))
    for name in extra:
        (etc / name).write_text("DGX_NAME=\"DGX Server\"\n")
    return str(etc)


def test_distribution_from_os_release_without_asking_ansible(tmp_path, fixture_path):
    def collector():
        raise AssertionError("Ansible's collector was asked")
    facts, source = _pf.read_distribution(collector, etc=_etc(tmp_path, fixture_path, "debian-12-bookworm"))
    assert source == "os-release" and facts["distribution_version"] == "12.15"


def test_another_release_file_leaves_it_to_ansible(tmp_path, fixture_path):
    said = {"distribution": "Ubuntu", "distribution_version": "22.04", "distribution_major_version": "22",
            "distribution_release": "jammy", "os_family": "Debian", "distribution_file_path": "/etc/os-release"}
    facts, source = _pf.read_distribution(lambda: said, etc=_etc(tmp_path, fixture_path, "ubuntu-22.04-jammy", ["dgx-release"]))
    assert source == "ansible" and facts == dict((key, said[key]) for key in _pf.DISTRIBUTION_KEYS)


def test_an_unreadable_etc_leaves_it_to_ansible(tmp_path):
    facts, source = _pf.read_distribution(lambda: {"distribution": "Fedora", "os_family": "RedHat"}, etc=str(tmp_path / "none"))
    assert source == "ansible" and facts["distribution"] == "Fedora" and facts["distribution_version"] is None


def test_gather_has_everything_the_role_reads(tmp_path, fixture_path, dpkg_query):
    run = Dpkg(0, _capture(fixture_path, "dpkg-query-abbrev-installed-bookworm.stdout"))
    fact = _pf.gather(run, {"packages": ["python3-apt", "python3-yaml", "iproute2"], "venv_stamp": str(tmp_path / "none.json"),
                            "timeout": 60}, lambda: {"distribution": "Debian"})
    assert fact["schema_version"] == 1
    assert fact["python"]["version"] == "%d.%d" % sys.version_info[:2]
    assert fact["effective_user_id"] == os.geteuid()
    assert fact["packages"]["missing"] == [] and fact["venv_stamp"] is None and fact["venv_stamp_reason"]
    assert set(_pf.DISTRIBUTION_KEYS) <= set(fact) and fact["distribution_source"] in ("os-release", "ansible")
