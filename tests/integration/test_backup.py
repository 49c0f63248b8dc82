"""The backup role and backup_snapshot module through the real Ansible and the real rsync, on real files."""

import json
import os
import shutil
import subprocess
import time

import pytest
import yaml

from testlib.ansible_run import run_module, run_playbook
from testlib.docker_lab import free_port
from testlib.system import apt_ensure

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


# ------------------------------------------------------------------ ZFS snapshot (roles/backup/tasks/zfs.yml)

# ZFS cannot run on a CI machine of this project: zfsutils-linux is in Debian's contrib section, and
# its kernel module is built by DKMS against the running kernel's headers, which a VM kernel such as
# this one (6.18.x "-fc", no /lib/modules, no modprobe) does not have. So zfs.yml runs through the real
# ansible-playbook and the real community.general.zfs module against stand-in zfs and zpool commands
# that record their argv and keep the datasets and snapshots in a file.
ZFS_STANDIN = r"""#!/usr/bin/env python3
# Stand-in for `zfs`/`zpool` (gpufleet tests): records argv, keeps dataset and snapshot names in a file.
import json, os, sys
log, state = os.environ["GPUFLEET_ZFS_LOG"], os.environ["GPUFLEET_ZFS_STATE"]
argv = [os.path.basename(sys.argv[0])] + sys.argv[1:]
with open(log, "a") as handle:
    handle.write(json.dumps(argv) + "\n")
names = open(state).read().split()
if argv[0] == "zfs" and argv[1] == "list":
    name = argv[-1]
    if name in names:
        print("NAME\tUSED\tAVAIL\tREFER\tMOUNTPOINT\n%s\t0B\t-\t96K\t-" % name)
        sys.exit(0)
    sys.stderr.write("cannot open '%s': dataset does not exist\n" % name)
    sys.exit(1)
if argv[0] == "zfs" and argv[1] == "snapshot":
    name = argv[-1]
    if name.split("@")[0] not in names:
        sys.stderr.write("cannot open '%s': dataset does not exist\n" % name.split("@")[0])
        sys.exit(1)
    with open(state, "a") as handle:
        handle.write(name + "\n")
    sys.exit(0)
if argv[0] == "zpool" and argv[1:3] == ["get", "version"] and argv[3] in names:
    # OpenZFS: feature flags instead of a version number
    print("NAME  PROPERTY  VALUE    SOURCE\n%s  version   -        default" % argv[3])
    sys.exit(0)
if argv[0] == "zfs" and argv[1:6] == ["get", "-H", "-p", "-o", "property,source"] and argv[-1] in names:
    print("type\t-\ncreation\t-\nused\t-")
    sys.exit(0)
sys.stderr.write("stand-in: %s not modelled\n" % " ".join(argv))
sys.exit(2)
"""


@pytest.fixture
def zfs_standin(tmp_path):
    bindir = tmp_path / "zfs-bin"
    bindir.mkdir()
    for name in ("zfs", "zpool"):
        (bindir / name).write_text(ZFS_STANDIN)
        (bindir / name).chmod(0o755)
    state, log = tmp_path / "zfs-state", tmp_path / "zfs-argv.jsonl"
    state.write_text("tank\ntank/models\n")
    env = {"PATH": "%s:%s" % (bindir, os.environ["PATH"]), "GPUFLEET_ZFS_LOG": str(log), "GPUFLEET_ZFS_STATE": str(state)}
    return env, state, log


def _argv(log):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_zfs_snapshot_command_lines(store, zfs_standin):
    env, state, log = zfs_standin
    playbook = _playbook(store, "2026-10", backup_zfs_dataset="tank/models", backup_drill=False)
    snapshot = "tank/models@gpufleet-2026-10"

    check = run_playbook(playbook, ["--check"], env=env)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    pool = ["zpool", "get", "version", "tank"]  # community.general.zfs asks the pool for OpenZFS first
    assert _argv(log) == [pool, ["zfs", "list", "-t", "all", snapshot]]  # check mode: looked, created nothing
    assert snapshot not in state.read_text().split()

    log.write_text("")
    first = run_playbook(playbook, env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert _argv(log) == [pool, ["zfs", "list", "-t", "all", snapshot], ["zfs", "snapshot", snapshot]]
    assert state.read_text().split()[-1] == snapshot
    assert "changed: [localhost]" in first.stdout.split("Snapshot the ZFS dataset before risky changes", 1)[1].split("TASK")[0]

    log.write_text("")
    again = run_playbook(playbook, env=env)
    assert again.returncode == 0, again.stdout[-3000:]
    # it exists: its properties are read (none to set), no second snapshot
    properties = ["zfs", "get", "-H", "-p", "-o", "property,source", "all", snapshot]
    assert _argv(log) == [pool, ["zfs", "list", "-t", "all", snapshot], properties, properties]
    assert state.read_text().split().count(snapshot) == 1

    log.write_text("")
    missing = run_playbook(_playbook(store, "2026-11", backup_zfs_dataset="tank/gone", backup_drill=False), env=env)
    assert missing.returncode != 0
    gone = "tank/gone@gpufleet-2026-11"
    assert _argv(log) == [pool, ["zfs", "list", "-t", "all", gone], ["zfs", "snapshot", gone]]
    assert "cannot open 'tank/gone': dataset does not exist" in missing.stdout
