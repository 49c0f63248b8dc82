"""The backup role and backup_snapshot module through the real Ansible and the real rsync, on real files."""

import json
import os
import shutil
import subprocess
import time

import pytest
import yaml

from testlib import docker_lab
from testlib.ansible_run import run_module, run_playbook
from testlib.docker_lab import free_port
from testlib.system import apt_ensure
from testlib.zfs_pool import ZfsPool

pytestmark = pytest.mark.integration
MIB = 1024 * 1024


@pytest.fixture
def store(tmp_path):
    """Configs, prompts, a unit, two GGUF weights and their model manifest, as a host would have them."""
    apt_ensure("rsync")
    src = tmp_path / "etc" / "gpufleet"
    src.mkdir(parents=True)
    (src / "ollama.env").write_text("OLLAMA_HOST=127.0.0.1:11434\nOLLAMA_KEEP_ALIVE=10m\n")
    (src / "prompts").mkdir()
    (src / "prompts" / "support.txt").write_text("You are a careful support assistant.\n")
    (src / "ollama.service").write_text("[Service]\nExecStart=/usr/bin/ollama serve\n")
    models = tmp_path / "models"
    models.mkdir()
    for name in ("gemma3-4b-q4_k_m.gguf", "qwen2.5-7b-q4_k_m.gguf"):
        (models / name).write_bytes(b"GGUF" + os.urandom(4 * MIB))
    manifest = tmp_path / "state" / "models.manifest.json"
    manifest.parent.mkdir()
    scan = run_module("gpufleet.maintenance.model_manifest", {"roots": [str(models)], "manifest": str(manifest), "mode": "scan"})
    assert scan["changed"] is True, scan
    (tmp_path / "drills").mkdir()
    return {"root": tmp_path, "src": src, "models": models, "manifest": manifest, "target": tmp_path / "backup",
            "state": tmp_path / "state" / "backup"}


def _playbook(store, name, **extra):
    variables = {
        "backup_target": str(store["target"]), "backup_name": name,
        "backup_sources": [str(store["src"]), str(store["manifest"])],
        "backup_weights": True, "backup_weight_roots": [str(store["models"])],
        "backup_model_manifest": str(store["manifest"]), "backup_state_dir": str(store["state"]),
        "backup_drill_parent": str(store["root"] / "drills"),
    }
    variables.update(extra)
    path = store["root"] / "backup.yml"
    path.write_text(yaml.safe_dump([{"name": "backup", "hosts": "localhost", "gather_facts": False,
                                     "roles": [{"role": "gpufleet.maintenance.backup", "vars": variables}]}]))
    return str(path)


def _inodes(tree):
    found = {}
    for dirpath, dummy, files in os.walk(tree):
        for name in files:
            stat = os.lstat(os.path.join(dirpath, name))
            found[os.path.relpath(os.path.join(dirpath, name), tree)] = (stat.st_ino, stat.st_nlink, stat.st_size)
    return found


def test_check_mode_writes_nothing_then_snapshots_drill_and_hard_links(store):
    check = run_playbook(_playbook(store, "2026-10"), ["--check"])
    assert check.returncode == 0, check.stdout + check.stderr
    assert not store["target"].exists() and not store["state"].exists()

    first = run_playbook(_playbook(store, "2026-10"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "restored 6 file(s), every checksum matches the manifests" in first.stdout, first.stdout
    snap1 = store["target"] / "2026-10"
    assert (snap1 / str(store["models"]).lstrip("/") / "gemma3-4b-q4_k_m.gguf").stat().st_size == 4 * MIB + 4
    assert (snap1 / str(store["state"]).lstrip("/") / "backup-manifest.json").exists()
    assert os.listdir(store["root"] / "drills") == []  # the scratch copy is removed after the drill

    again = run_playbook(_playbook(store, "2026-10"))
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout

    (store["src"] / "ollama.env").write_text("OLLAMA_HOST=127.0.0.1:11434\nOLLAMA_KEEP_ALIVE=30m\n")
    second = run_playbook(_playbook(store, "2026-11"))
    assert second.returncode == 0 and "every checksum matches" in second.stdout, second.stdout
    old, new = _inodes(snap1), _inodes(store["target"] / "2026-11")
    weights = [p for p in new if p.endswith(".gguf")]
    assert len(weights) == 2
    for path in weights:  # unchanged weights are the same inode, linked from both snapshots
        assert new[path][0] == old[path][0] and new[path][1] >= 2
    env = [p for p in new if p.endswith("ollama.env")][0]
    assert new[env][0] != old[env][0]  # the changed config is a new copy
    old_inodes = set(v[0] for v in old.values())
    extra = sum(v[2] for v in new.values() if v[0] not in old_inodes)
    assert extra < 64 * 1024, extra  # the second snapshot costs the changed small files, not the 8 MiB of weights


def test_drill_catches_a_corrupted_backup(store):
    first = run_playbook(_playbook(store, "2026-10", backup_drill=False))
    assert first.returncode == 0, first.stdout + first.stderr
    copy = store["target"] / "2026-10" / str(store["models"]).lstrip("/") / "qwen2.5-7b-q4_k_m.gguf"
    data = bytearray(copy.read_bytes())
    data[2 * MIB] ^= 0x01  # one flipped bit, same size: only the checksum can tell
    copy.write_bytes(bytes(data))
    args = {"mode": "drill", "target": str(store["target"]), "name": "2026-10", "scratch": str(store["root"] / "drills" / "s1"),
            "state_dir": str(store["state"]), "model_manifest": str(store["manifest"])}
    bad = run_module("gpufleet.maintenance.backup_snapshot", args)
    fact = bad["ansible_facts"]["gpufleet_backup"]
    assert fact["status"] == "crit" and fact["checks"][0]["check"] == "backup_restore_drill"
    assert [(os.path.basename(p["path"]), p["problem"]) for p in fact["problems"]] == [("qwen2.5-7b-q4_k_m.gguf", "checksum_mismatch")]
    assert "cannot be trusted" in fact["checks"][0]["message"]
    assert not os.path.exists(args["scratch"])

    conf = store["target"] / "2026-10" / str(store["src"]).lstrip("/") / "prompts" / "support.txt"
    stat = conf.stat()
    conf.write_text("You are a CAREFUL support assistant.\n")  # bit rot in the backup: same size, same mtime,
    os.utime(conf, ns=(stat.st_atime_ns, stat.st_mtime_ns))   # so rsync's quick check re-takes nothing
    failed = run_playbook(_playbook(store, "2026-10", backup_drill_fail_on_crit=True))
    assert failed.returncode != 0 and "restore drill found 1 problem(s), first checksum_mismatch" in failed.stdout, failed.stdout
    assert "support.txt" in failed.stdout


def test_drill_reports_a_missing_snapshot_as_crit_and_bad_input_cleanly(store):
    args = {"mode": "drill", "target": str(store["target"]), "name": "1999-01", "scratch": str(store["root"] / "drills" / "x"),
            "state_dir": str(store["state"])}
    result = run_module("gpufleet.maintenance.backup_snapshot", args)
    fact = result["ansible_facts"]["gpufleet_backup"]
    assert fact["status"] == "crit" and "could not restore snapshot" in fact["checks"][0]["message"]
    busy = store["root"] / "drills" / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("not mine")
    refused = run_module("gpufleet.maintenance.backup_snapshot", dict(args, scratch=str(busy)))
    assert refused["failed"] is True and "not an empty directory" in refused["msg"]
    assert (busy / "keep.txt").read_text() == "not mine"
    missing = run_module("gpufleet.maintenance.backup_snapshot", {"target": str(store["target"]), "name": "2026-10",
                                                                  "sources": [str(store["root"] / "nope")]})
    assert missing["failed"] is True and "does not exist" in missing["msg"]


def test_snapshot_over_an_ssh_style_remote_shell(store, tmp_path_factory):
    """rsync's remote path (host:path, -e) against a real rsync server started by a local stand-in for ssh."""
    rsh = tmp_path_factory.mktemp("rsh") / "fake-ssh"
    rsh.write_text('#!/bin/sh\n# stand-in for ssh: drop -l user and the host name, run the remote command here\n'
                   '[ "$1" = -l ] && shift 2\nshift\nexec sh -c "$*"\n')
    rsh.chmod(0o755)
    target = "backup@nas.test:%s" % (store["root"] / "remote")
    args = {"target": target, "name": "2026-10", "sources": [str(store["src"])], "state_dir": str(store["state"]), "rsh": str(rsh)}
    first = run_module("gpufleet.maintenance.backup_snapshot", args)
    assert first["changed"] is True and first["link_dest"] is None, first
    second = run_module("gpufleet.maintenance.backup_snapshot", dict(args, name="2026-11"))
    assert second["link_dest"] == "2026-10" and second["files_copied"] == 0, second
    drill = run_module("gpufleet.maintenance.backup_snapshot", dict(args, mode="drill", name="2026-11", scratch=str(store["root"] / "drills" / "r")))
    assert drill["ansible_facts"]["gpufleet_backup"]["status"] == "ok", drill
    assert json.loads((store["state"] / "backup-manifest.json").read_text())["files"][0]["sha256"]


@pytest.fixture
def sshd(tmp_path_factory):
    """A real OpenSSH server on 127.0.0.1 (own host key, config and authorized key), and the ssh
    command line (``rsh``) that reaches it with a fresh client key."""
    apt_ensure("openssh-server", "openssh-client", "rsync")
    home = tmp_path_factory.mktemp("sshd")
    for key in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / key)], check=True)
    (home / "authorized_keys").write_text((home / "client.pub").read_text())
    os.chmod(str(home / "authorized_keys"), 0o600)
    port = free_port()
    (home / "sshd_config").write_text("\n".join([
        "Port %d" % port, "ListenAddress 127.0.0.1", "HostKey %s" % (home / "host"),
        "AuthorizedKeysFile %s" % (home / "authorized_keys"), "PidFile %s" % (home / "sshd.pid"),
        "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "UsePAM no", "StrictModes no", "Subsystem sftp internal-sftp", ""]))
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation directory
    with open(str(home / "sshd.log"), "w") as log:
        proc = subprocess.Popen([shutil.which("sshd") or "/usr/sbin/sshd", "-D", "-e", "-f", str(home / "sshd_config")],
                                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    rsh = "ssh -p %d -i %s -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR" % (
        port, home / "client")
    deadline = time.time() + 20
    while time.time() < deadline:
        if subprocess.run(rsh.split() + ["root@127.0.0.1", "true"], capture_output=True, check=False).returncode == 0:
            break
        if proc.poll() is not None:
            pytest.fail("sshd exited: %s" % (home / "sshd.log").read_text())
        time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("sshd did not accept the client key within 20 s: %s" % (home / "sshd.log").read_text())
    yield rsh
    proc.terminate()
    proc.wait(timeout=10)


def test_snapshot_and_drill_over_a_real_ssh_server(store, sshd):
    """The remote path end to end: rsync over a real OpenSSH connection (key auth, 127.0.0.1)."""
    remote = store["root"] / "over-ssh"
    args = {"target": "root@127.0.0.1:%s" % remote, "name": "2026-10",
            "sources": [str(store["src"]), str(store["models"]), str(store["manifest"])],
            "state_dir": str(store["state"]), "rsh": sshd}
    first = run_module("gpufleet.maintenance.backup_snapshot", args)
    assert first["changed"] is True and first["link_dest"] is None, first
    weights = remote / "2026-10" / str(store["models"]).lstrip("/") / "gemma3-4b-q4_k_m.gguf"
    assert weights.read_bytes() == (store["models"] / "gemma3-4b-q4_k_m.gguf").read_bytes()
    second = run_module("gpufleet.maintenance.backup_snapshot", dict(args, name="2026-11"))
    assert second["link_dest"] == "2026-10" and second["files_copied"] == 0, second
    again = remote / "2026-11" / str(store["models"]).lstrip("/") / "gemma3-4b-q4_k_m.gguf"
    assert again.stat().st_ino == weights.stat().st_ino  # hard-linked by --link-dest over SSH
    drill_args = dict(args, mode="drill", name="2026-11", scratch=str(store["root"] / "drills" / "ssh"),
                      model_manifest=str(store["manifest"]))
    drill = run_module("gpufleet.maintenance.backup_snapshot", drill_args)
    fact = drill["ansible_facts"]["gpufleet_backup"]
    assert fact["status"] == "ok" and fact["problems"] == [], drill
    assert drill["hashed_bytes"] >= 8 * MIB  # both weights restored over SSH and checked against the manifest
    # A key the server does not accept: a clear failure naming the target, not a traceback.
    refused = run_module("gpufleet.maintenance.backup_snapshot", dict(args, name="2026-12", rsh=sshd.replace("/client", "/host")))
    assert refused.get("failed") is True and "Traceback" not in json.dumps(refused), refused
    assert refused["msg"].startswith("listing the snapshots in root@127.0.0.1:"), refused["msg"]
    assert "Permission denied (publickey)" in refused["msg"], refused["msg"]


# ------------------------------------------------------------------ ZFS snapshots, on a real pool

# tests/testlib/zfs_pool.py: a file-backed pool, OpenZFS where the kernel has it, zfs-fuse here (this kernel
# cannot load modules, so OpenZFS's cannot run on it). No stand-in zfs: what the tests see, ZFS did.
ZFS_MODULE = "gpufleet.maintenance.zfs_snapshot"


@pytest.fixture(scope="module")
def pool():
    with ZfsPool() as zpool:
        zpool.zfs("create", zpool.name + "/models")
        yield zpool


def test_zfs_snapshot_check_apply_idempotence_retention_and_rollback(pool):
    dataset = pool.name + "/models"
    data = os.path.join(pool.mountpoint, "models", "Modelfile")
    with open(data, "w") as handle:
        handle.write("FROM gemma3:4b\n")
    pool.zfs("snapshot", dataset + "@my-own")                           # the operator's own: never touched
    pool.zfs("snapshot", dataset + "@gpufleet-driver_bump-before-test")  # no date stamp: not in the series
    theirs = ["gpufleet-driver_bump-before-test", "my-own"]
    args = {"dataset": dataset, "reason": "driver_bump", "stamp": "20261201T000000Z", "keep": 2}
    first = dataset + "@gpufleet-driver_bump-20261201T000000Z"

    check = docker_lab.run_module(ZFS_MODULE, args, check=True, diff=True)
    assert check["changed"] is True and check["created"] is True, check
    assert check["msg"] == "check mode: would take ZFS snapshot " + first
    assert check["diff"] == {"before": "", "after": first + "\n", "before_header": dataset + "@gpufleet-driver_bump-*",
                             "after_header": dataset + "@gpufleet-driver_bump-*"}
    assert pool.snapshots(dataset) == theirs  # check mode took nothing

    taken = docker_lab.run_module(ZFS_MODULE, args, diff=True)
    assert taken["changed"] is True and taken["snapshot"] == first and taken["msg"] == "took ZFS snapshot " + first, taken
    assert pool.snapshots(dataset) == ["gpufleet-driver_bump-20261201T000000Z"] + theirs
    for check_mode in (True, False):  # the same stamp again: one snapshot, nothing to do
        again = docker_lab.run_module(ZFS_MODULE, args, check=check_mode)
        assert again["changed"] is False and again["msg"] == ("check mode: " if check_mode else "") + (
            "ZFS snapshot %s exists already" % first), again
    assert pool.snapshots(dataset) == ["gpufleet-driver_bump-20261201T000000Z"] + theirs

    pool.zfs("snapshot", dataset + "@gpufleet-driver_bump-20261202T000000Z")  # as an earlier run would have
    with open(data, "w") as handle:
        handle.write("FROM gemma3:4b\nPARAMETER num_ctx 8192\n")
    third = docker_lab.run_module(ZFS_MODULE, dict(args, stamp="20261203T000000Z"), diff=True)
    assert third["destroyed"] == [first] and third["not_destroyed"] == [], third  # keep 2: the oldest goes
    assert third["msg"] == ("took ZFS snapshot %s@gpufleet-driver_bump-20261203T000000Z; destroyed %s (retention)" % (dataset, first))
    assert first in third["diff"]["before"] and first not in third["diff"]["after"]
    assert pool.snapshots(dataset) == ["gpufleet-driver_bump-20261202T000000Z", "gpufleet-driver_bump-20261203T000000Z"] + theirs

    # What the snapshot is for: undo a change. The file as it was at the last snapshot comes back.
    with open(data, "w") as handle:
        handle.write("broken by the change\n")
    pool.zfs("rollback", dataset + "@gpufleet-driver_bump-20261203T000000Z")
    with open(data) as handle:
        assert handle.read() == "FROM gemma3:4b\nPARAMETER num_ctx 8192\n"


def test_zfs_snapshot_of_a_dataset_that_does_not_exist_fails_clearly(pool):
    gone = pool.name + "/gone"
    result = docker_lab.run_module(ZFS_MODULE, {"dataset": gone, "reason": "driver_bump"})
    assert result["failed"] is True and "Traceback" not in json.dumps(result), result
    assert result["msg"].startswith("ZFS dataset %s does not exist (cannot open '%s': dataset does not exist)" % (gone, gone))


def test_monthly_backup_takes_the_monthly_zfs_snapshot(store, pool):
    dataset = pool.name + "/models"
    playbook = _playbook(store, "2026-10", backup_zfs_dataset=dataset, backup_drill=False)
    check = run_playbook(playbook, ["--check"])
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    assert "check mode: would take ZFS snapshot %s@gpufleet-monthly-2026-10" % dataset in check.stdout
    assert "gpufleet-monthly-2026-10" not in pool.snapshots(dataset)
    first = run_playbook(playbook)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert "gpufleet-monthly-2026-10" in pool.snapshots(dataset)
    assert (store["target"] / "2026-10").is_dir()  # and then the rsync snapshot, as without ZFS
