"""The snapshot before every driver bump and image enforce (issue 20 part 6): playbooks/driver_bump.yml with the
ZFS path on a real file-backed pool, playbooks/image_enforce.yml with the backup's rsync path (a Docker named
volume included) against a private dockerd and a local registry. No snapshot, no change; the snapshot exists
after; check mode says what it would snapshot and changes nothing."""

import json
import os

import pytest
import yaml

from testlib.ansible_run import run_playbook
from testlib.docker_lab import Dockerd, Registry
from testlib.system import apt_ensure
from testlib.zfs_pool import ZfsPool

pytestmark = pytest.mark.integration
BUMP_STARTED = "Read the packages of the GPU stack before the bump"  # the driver_pin role's first bump step


def _out(proc):
    """The play's output with its whitespace folded (the YAML callback wraps long messages)."""
    return " ".join(proc.stdout.split())


def _vars(**values):
    return ["-e", json.dumps(values)]


def test_driver_bump_takes_a_zfs_snapshot_first_and_does_not_bump_without_one():
    with ZfsPool() as pool:
        dataset = pool.name + "/etc"
        pool.zfs("create", dataset)
        bump = {"driver_pin_target_version": "999.1-0gpufleet1", "driver_pin_vendor": "nvidia", "driver_pin_fact_areas": [],
                "gpufleet_snapshot_keep": 2}

        # The snapshot fails (no such dataset): the host fails before the bump's first step, saying why and the way out.
        failed = run_playbook("playbooks/driver_bump.yml", _vars(gpufleet_backup_zfs_dataset=pool.name + "/gone", **bump))
        assert failed.returncode != 0
        assert ("no snapshot before the driver bump, so it does not run on localhost: ZFS dataset %s/gone does not exist"
                % pool.name) in _out(failed), failed.stdout[-3000:]
        assert "-e gpufleet_snapshot_required=false" in _out(failed)
        assert BUMP_STARTED not in _out(failed)

        # With the dataset: the snapshot, then the bump (which on this machine finds no NVIDIA package to bump and
        # stops having changed nothing: the order is what this test is about).
        done = run_playbook("playbooks/driver_bump.yml", _vars(gpufleet_backup_zfs_dataset=dataset, **bump))
        [taken] = pool.snapshots(dataset)
        assert taken.startswith("gpufleet-driver_bump-20") and taken.endswith("Z"), taken
        said = _out(done).index("took ZFS snapshot %s@%s" % (dataset, taken))
        assert BUMP_STARTED in _out(done)[said:], done.stdout[-3000:]
        assert "no installed package matches the bump patterns" in _out(done) and "nothing was changed" in _out(done)


@pytest.fixture(scope="module")
def lab():
    apt_ensure("rsync")
    with Registry() as reg, Dockerd() as engine:
        yield reg, engine


def test_image_enforce_snapshots_the_volumes_first_and_does_not_enforce_without_a_snapshot(lab, tmp_path):
    reg, engine = lab
    ref = reg.address + "/gpfbk/webui:1"
    pinned = engine.make_image(ref, "version one")
    digest = engine.push(ref)
    moved = engine.make_image(ref, "version two")  # the tag moved on this host: enforce points it back at the pin
    engine.docker("volume", "create", "gpfbk-webui-db")
    engine.docker("create", "--name", "gpfbk-webui", "--network", "none", "-v", "gpfbk-webui-db:/data", ref)
    manifest = tmp_path / "images.yml"
    manifest.write_text(yaml.safe_dump({"images": [{"image": ref, "digest": digest}]}))
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "webui.env").write_text("PORT=8080\n")
    env = {"DOCKER_HOST": engine.host}

    def tag():
        return engine.inspect(ref, kind="image")[0]["Id"]

    base = {"gpufleet_image_manifest": str(manifest), "backup_state_dir": str(tmp_path / "state")}
    backup = dict(base, gpufleet_backup_target=str(tmp_path / "backup"), gpufleet_backup_sources=[str(tmp_path / "etc")],
                  gpufleet_backup_docker_volumes=True, gpufleet_backup_docker_volume_names=["gpfbk-webui-*"])

    # Nothing configured to take a snapshot with (the defaults): no enforce, and the message says what to set.
    refused = run_playbook("playbooks/image_enforce.yml", _vars(**base), env=env)
    assert refused.returncode != 0 and tag() == moved
    assert "no snapshot before the image enforce, so it does not run on localhost: nothing to take a snapshot with" in (
        _out(refused)), refused.stdout[-3000:]
    assert "Enforce the pins of the manifest" not in _out(refused)

    # Check mode: what it would snapshot and enforce; nothing is written or moved.
    check = run_playbook("playbooks/image_enforce.yml", ["--check"] + _vars(**backup), env=env)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    assert "check mode: would take snapshot %s/gpufleet-image_enforce-20" % (tmp_path / "backup") in _out(check)
    assert "check mode: would do: tag " + ref in _out(check), check.stdout[-3000:]
    assert not (tmp_path / "backup").exists() and not (tmp_path / "state").exists() and tag() == moved

    # The snapshot (the app's named volume in it), then the enforce.
    done = run_playbook("playbooks/image_enforce.yml", _vars(**backup), env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    [snapshot] = os.listdir(str(tmp_path / "backup"))
    assert snapshot.startswith("gpufleet-image_enforce-20")
    archives = tmp_path / "backup" / snapshot / str(tmp_path / "state" / "docker-volumes").lstrip("/")
    assert sorted(os.listdir(str(archives))) == ["gpfbk-webui-db.tar", "volumes.json"]
    assert _out(done).index("took snapshot %s/%s" % (tmp_path / "backup", snapshot)) < _out(done).index("done: tag " + ref)
    assert tag() == pinned

    # gpufleet_snapshot_required=false: with nothing to snapshot with it warns and enforces anyway.
    engine.docker("tag", moved, ref)
    anyway = run_playbook("playbooks/image_enforce.yml", _vars(gpufleet_snapshot_required=False, **base), env=env)
    assert anyway.returncode == 0, anyway.stdout[-3000:]
    assert "WARNING: no snapshot before the image enforce on localhost (nothing to take a snapshot with" in _out(anyway)
    assert tag() == pinned
