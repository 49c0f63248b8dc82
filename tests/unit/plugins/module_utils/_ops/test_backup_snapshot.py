"""The body of backup_snapshot with the real rsync: snapshot, drill, and a target that cannot be reached."""

import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import backup_snapshot
from testlib.local_run import run_command
from testlib.system import apt_ensure


@pytest.fixture
def params(tmp_path):
    apt_ensure("rsync")
    src = tmp_path / "etc"
    src.mkdir()
    (src / "runner.env").write_text("PORT=11434\n")
    values = dict((name, spec.get("default")) for name, spec in AREA.argument_spec().items())
    values.update(target=str(tmp_path / "backup"), name="2026-11", sources=[str(src)], state_dir=str(tmp_path / "state"),
                  scratch=str(tmp_path / "scratch"), timeout_s=120)
    return values


def test_snapshot_then_drill_ok(params):
    taken, warnings = backup_snapshot.run(run_command, params)
    assert taken["changed"] is True and taken["link_dest"] is None and taken["files_copied"] == 2 and warnings == []
    result, dummy = backup_snapshot.run(run_command, dict(params, mode="drill"))
    fact = result["ansible_facts"]["gpufleet_backup"]
    assert [(c["check"], c["status"], c["value"]) for c in fact["checks"]] == [("backup_restore_drill", "ok", 1)]
    assert not os.path.exists(params["scratch"])


def test_a_snapshot_the_target_does_not_have_is_crit(params):
    result, dummy = backup_snapshot.run(run_command, dict(params, mode="drill", name="1999-01"))
    fact = result["ansible_facts"]["gpufleet_backup"]
    assert fact["status"] == "crit" and "could not restore snapshot" in fact["checks"][0]["message"]
    assert "exited 23" in fact["checks"][0]["message"]


def test_a_target_that_cannot_be_reached_is_unknown(params, tmp_path):
    ssh = tmp_path / "ssh-refused"  # stands in for ssh to a host that refuses the key
    ssh.write_text("#!/bin/sh\necho 'backup@nas: Permission denied (publickey).' >&2\nexit 255\n")
    ssh.chmod(0o755)
    result, dummy = backup_snapshot.run(run_command, dict(params, mode="drill", target="backup@nas:/srv/backup", rsh=str(ssh)))
    fact = result["ansible_facts"]["gpufleet_backup"]
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("backup_restore_drill", "unknown")]
    assert "could not be reached" in fact["checks"][0]["message"] and "Permission denied" in fact["checks"][0]["message"]


@pytest.mark.parametrize("extra, message", [
    ({"name": "../x"}, "backup: snapshot name '../x' must be a plain directory name such as 2026-11"),
    ({"timeout_s": 0}, "backup: timeout_s must be at least 1 (got 0)"),
    ({"mode": "drill", "scratch": None}, "mode=drill needs scratch: an empty directory to restore into"),
])
def test_bad_options_fail_naming_the_option(params, extra, message):
    with pytest.raises(backup_snapshot.BackupError) as info:
        backup_snapshot.run(run_command, dict(params, **extra))
    assert str(info.value) == message


def test_retention_deletes_the_oldest_of_the_series_only(params):
    """keep 2 of gpufleet-driver_bump: the third pre-change snapshot deletes the first; the monthly snapshot and a
    directory of the operator's stay. The real rsync deletes them (an empty directory synced with --delete)."""
    target = params["target"]
    series = "gpufleet-driver_bump"
    for name in ("2026-10", "gpufleet-driver_bump-manual"):
        os.makedirs(os.path.join(target, name, "keep"))
    stamps = ["20261101T000000Z", "20261102T000000Z", "20261103T000000Z"]
    for stamp in stamps[:2]:
        taken, dummy = backup_snapshot.run(run_command, dict(params, name="%s-%s" % (series, stamp), series=series, keep=2))
        assert taken["deleted"] == []
    third = dict(params, name="%s-%s" % (series, stamps[2]), series=series, keep=2)
    preview, dummy = backup_snapshot.run(run_command, third, check_mode=True)
    assert preview["deleted"] == ["%s-%s" % (series, stamps[0])] and preview["changed"] is True
    assert os.path.isdir(os.path.join(target, "%s-%s" % (series, stamps[0])))  # check mode deletes nothing
    taken, dummy = backup_snapshot.run(run_command, third)
    assert taken["deleted"] == ["%s-%s" % (series, stamps[0])]
    assert taken["kept"] == ["%s-%s" % (series, s) for s in stamps[1:]]
    assert sorted(os.listdir(target)) == ["2026-10"] + ["%s-%s" % (series, s) for s in stamps[1:]] + ["gpufleet-driver_bump-manual"]
    assert os.path.isdir(os.path.join(target, "gpufleet-driver_bump-manual", "keep"))


def test_keep_needs_a_series_the_name_belongs_to(params):
    with pytest.raises(backup_snapshot.BackupError) as info:
        backup_snapshot.run(run_command, dict(params, keep=2))
    assert str(info.value) == ("backup: keep needs series, and name '2026-11' must be <series>-<stamp> with a stamp that "
                               "starts with a digit (series '')")
