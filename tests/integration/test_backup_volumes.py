"""Docker named volumes in the backup, read through a real engine (a private dockerd): the backup role with
its volume switch, then the restore of an archive into a new volume."""

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap

import pytest
import yaml

from testlib.ansible_run import REPO_ROOT, run_module, run_playbook
from testlib.docker_lab import Dockerd
from testlib.system import apt_ensure

pytestmark = pytest.mark.integration
HELPER_LABEL = "io.gpufleet.backup-helper"


def _tar(files):
    """A tar stream of ``{path: (bytes, uid, mode)}``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for path, (data, uid, mode) in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.uid, info.gid, info.mode, info.mtime = len(data), uid, uid, mode, 1764547200
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _copy_in(engine, destination, stream):
    """``docker cp - CONTAINER:PATH``: a tar stream into a container's path (a volume mounted there)."""
    subprocess.run(["docker", "-H", engine.host, "cp", "-", destination], input=stream, check=True, timeout=120,
                   capture_output=True)


def _members(path):
    with tarfile.open(path) as archive:
        return {m.name.lstrip("./"): (archive.extractfile(m).read(), m.uid, m.mode & 0o777)
                for m in archive.getmembers() if m.isfile()}


@pytest.fixture(scope="module")
def engine():
    apt_ensure("rsync")
    with Dockerd() as dockerd:
        dockerd.make_image("gpfbk/webui:1", "the app")
        dockerd.docker("volume", "create", "--label", "app=webui", "gpfbk-webui-data")
        dockerd.docker("volume", "create", "gpfbk-other")
        # the app's container mounts the named volume, and an anonymous one (never backed up)
        dockerd.docker("create", "--name", "gpfbk-webui", "--network", "none", "-v", "gpfbk-webui-data:/app/data",
                       "-v", "/app/cache", "gpfbk/webui:1")
        # the app's files: owned by its user (uid 1000), readable by it alone, as a real app writes them
        _copy_in(dockerd, "gpfbk-webui:/app/data", _tar({
            "webui.db": (b"SQLite format 3\x00" + os.urandom(256 * 1024), 1000, 0o600),
            "uploads/notes.md": (b"# team notes\n", 1000, 0o640)}))
        yield dockerd


def _play(tmp_path, engine, name):
    src = tmp_path / "etc"
    src.mkdir(exist_ok=True)
    (src / "webui.env").write_text("WEBUI_PORT=8080\n")
    variables = {"backup_target": str(tmp_path / "backup"), "backup_name": name, "backup_sources": [str(src)],
                 "backup_docker_volumes": True, "backup_docker_volume_names": ["gpfbk-webui-*"],
                 "backup_docker_host": engine.host, "backup_state_dir": str(tmp_path / "state"),
                 "backup_drill_parent": str(tmp_path)}
    path = tmp_path / "backup.yml"
    path.write_text(yaml.safe_dump([{"name": "backup", "hosts": "localhost", "gather_facts": False,
                                     "roles": [{"role": "gpufleet.maintenance.backup", "vars": variables}]}]))
    return str(path)


def test_named_volumes_are_backed_up_through_the_engine_and_restore(engine, tmp_path):
    archive_dir = tmp_path / "state" / "docker-volumes"

    def in_snapshot(name):
        return tmp_path / "backup" / name / str(archive_dir).lstrip("/")
    # (check mode of the volume path: tests/integration/test_snapshot_before_change.py, image enforce)
    first = run_playbook(_play(tmp_path, engine, "2026-10"))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    # the drill restored the snapshot and checked every file, the volume archive among them, against the manifest
    assert "restored 3 file(s), every checksum matches the manifests" in first.stdout, first.stdout[-3000:]
    assert sorted(os.listdir(in_snapshot("2026-10"))) == ["gpfbk-webui-data.tar", "volumes.json"]  # not gpfbk-other
    files = _members(in_snapshot("2026-10") / "gpfbk-webui-data.tar")
    assert sorted(files) == ["uploads/notes.md", "webui.db"]
    assert files["webui.db"][1:] == (1000, 0o600) and files["webui.db"][0].startswith(b"SQLite format 3")
    [index] = json.loads((in_snapshot("2026-10") / "volumes.json").read_text())
    assert (index["name"], index["driver"], index["labels"]) == ("gpfbk-webui-data", "local", {"app": "webui"})
    assert engine.docker("ps", "-aq", "--filter", "label=" + HELPER_LABEL).stdout.strip() == ""  # helpers removed
    assert len(engine.inspect("gpfbk-webui")[0]["Mounts"]) == 2 and engine.docker("volume", "ls", "-q").stdout.split().count(
        "gpfbk-webui-data") == 1  # the app's container and volumes as they were

    # A month later, nothing changed in the volume: the same bytes, so the archive is a hard link, not a copy.
    args = {"target": str(tmp_path / "backup"), "name": "2026-11", "sources": [str(tmp_path / "etc")],
            "docker_volumes": ["gpfbk-webui-*"], "docker_host": engine.host, "state_dir": str(tmp_path / "state")}
    second = run_module("gpufleet.maintenance.backup_snapshot", args)
    assert [(v["name"], v["changed"]) for v in second["docker_volumes"]] == [("gpfbk-webui-data", False)], second
    assert second["link_dest"] == "2026-10" and second["files_copied"] == 0, second
    assert second["hashed_bytes"] == 0, second  # the old archive's sha256 came from the hash cache, not a second read
    old, new = in_snapshot("2026-10") / "gpfbk-webui-data.tar", in_snapshot("2026-11") / "gpfbk-webui-data.tar"
    assert new.stat().st_ino == old.stat().st_ino and new.stat().st_nlink >= 2

    # The app writes: the next snapshot has a new archive with the change, the old snapshot keeps the old state.
    _copy_in(engine, "gpfbk-webui:/app/data", _tar({"uploads/new.md": (b"added\n", 1000, 0o600)}))
    third = run_module("gpufleet.maintenance.backup_snapshot", dict(args, name="2026-12"))
    assert [(v["name"], v["changed"]) for v in third["docker_volumes"]] == [("gpfbk-webui-data", True)], third
    changed = in_snapshot("2026-12") / "gpfbk-webui-data.tar"
    assert changed.stat().st_ino != old.stat().st_ino and "uploads/new.md" in _members(changed)
    assert "uploads/new.md" not in _members(old)

    # Restore (docs/backup.md): a new volume, the archive copied in through the engine, the app's files as they were.
    engine.docker("volume", "create", "gpfbk-restored")
    engine.docker("create", "--name", "gpfbk-restore", "--network", "none", "-v", "gpfbk-restored:/data", "gpfbk/webui:1")
    _copy_in(engine, "gpfbk-restore:/data", old.read_bytes())
    back = engine.docker("run", "--rm", "--network", "none", "-v", "gpfbk-restored:/data", "gpfbk/webui:1",
                         "sh", "-c", "ls -ln /data/webui.db; cat /data/uploads/notes.md").stdout
    assert back.split()[2:4] == ["1000", "1000"] and back.startswith("-rw-------") and back.endswith("# team notes\n"), back


def test_the_engine_reads_the_volume_the_module_cannot(engine, tmp_path):
    """Why the archive comes from the engine and not from the volume's Mountpoint: the app's files are its
    user's alone. Without root's capabilities (no CAP_DAC_OVERRIDE) this process cannot read them there,
    and the export through the Docker socket still gets every file."""
    mountpoint = engine.inspect("gpfbk-webui-data", kind="volume")[0]["Mountpoint"]
    script = textwrap.dedent("""
        import json, sys
        sys.path.insert(0, %r)
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import backup_snapshot
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.collect import HashCache
        try:
            open(%r, "rb").read()
            denied = False
        except PermissionError:
            denied = True
        params = {"docker_volumes": ["gpfbk-webui-data"], "docker_host": %r, "docker_timeout_s": 60, "docker_volume_image": None}
        entries, dummy = backup_snapshot.export_volumes(params, %r, HashCache())
        print(json.dumps({"denied": denied, "entries": entries}))
    """) % (os.path.join(REPO_ROOT, ".collections"), os.path.join(mountpoint, "webui.db"), engine.host, str(tmp_path / "out"))
    proc = subprocess.run(["setpriv", "--bounding-set=-all", "--inh-caps=-all", sys.executable, "-c", script],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["denied"] is True  # the Mountpoint route would need root on the volume's data
    assert [e["name"] for e in result["entries"]] == ["gpfbk-webui-data"]
    assert _members(tmp_path / "out" / "gpfbk-webui-data.tar")["webui.db"][1:] == (1000, 0o600)
