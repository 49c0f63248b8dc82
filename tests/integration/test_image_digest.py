"""image_digest on a real engine (a private dockerd) and a real registry (Debian's docker-registry)."""

import glob
import json
import os
import time

import pytest
import yaml

from testlib.ansible_run import run_playbook
from testlib.docker_lab import Dockerd, Registry, free_port, run_module

pytestmark = pytest.mark.integration
MODULE = "gpufleet.maintenance.image_digest"


@pytest.fixture(scope="module")
def lab():
    with Registry() as reg, Dockerd() as engine:
        yield reg, engine


def test_lock_audit_update_enforce(lab, tmp_path):
    reg, engine = lab
    ref = reg.address + "/gpf6/app:1"
    name = reg.address + "/gpf6/app"
    engine.make_image(ref, "version one")
    d1 = engine.push(ref)
    engine.docker("run", "-d", "--network", "none", "--name", "gpf6-app", ref)
    engine.make_image("gpf6/local:dev", "built here")
    engine.docker("run", "-d", "--network", "none", "--name", "gpf6-local", "gpf6/local:dev")
    manifest = str(tmp_path / "images.yml")
    args = {"mode": "lock", "manifest": manifest, "docker_host": engine.host}

    # lock: check mode shows the diff and writes nothing; apply writes; again changes nothing.
    result = run_module(MODULE, args, check=True, diff=True)
    assert result["changed"] is True and not os.path.exists(manifest), result
    assert d1 in result["diff"]["after"] and result["diff"]["before"] == ""
    result = run_module(MODULE, args, diff=True)
    assert result["changed"] is True, result
    with open(manifest) as handle:
        written = yaml.safe_load(handle)
    assert written == {"images": [{"image": ref, "digest": d1}]}
    assert [n["name"] for n in result["not_pinnable"]] == ["gpf6-local"]
    assert run_module(MODULE, args)["changed"] is False
    assert run_module(MODULE, args, check=True)["changed"] is False

    # The same image pushed to a second repository: two RepoDigests, still no "update".
    engine.docker("tag", ref, reg.address + "/gpf6/mirror:1")
    engine.push(reg.address + "/gpf6/mirror:1")
    assert len(engine.inspect(ref, kind="image")[0]["RepoDigests"]) == 2
    # audit, registry unchanged: up to date, the local-only image is unpinned.
    audit = {"mode": "audit", "manifest": manifest, "check_remote": True, "docker_host": engine.host}
    result = run_module(MODULE, audit)
    assert result["changed"] is False, result
    [entry] = result["entries"]
    assert entry["status"] == "ok" and entry["update_available"] is False and entry["remote_digest"] == d1
    assert entry["remote_digest_kind"] == "manifest"
    assert entry["containers"][0]["runs_pinned"] is True
    assert [u["name"] for u in result["unpinned"]] == ["gpf6-local"]
    assert result["stale"] == []
    engine.docker("rmi", reg.address + "/gpf6/mirror:1")  # only the tag: the running image keeps its pin

    # The tag is pushed again with new content: update_available against the old pin, with the new digest.
    engine.make_image(ref, "version two")
    d2 = engine.push(ref)
    assert d2 != d1
    result = run_module(MODULE, audit)
    [entry] = result["entries"]
    assert entry["update_available"] is True and entry["remote_digest"] == d2, entry
    assert d2 in entry["remote_note"]
    # The tag moved locally: the container still runs the old (now dangling) image, so it is stale.
    assert entry["status"] == "drift" and entry["tag_matches_pin"] is False
    [stale] = result["stale"]
    assert stale["name"] == "gpf6-app" and stale["running_image_dangling"] is True

    # enforce: the pinned digest is missing locally -> pull it and point the tag back at it.
    engine.docker("rm", "-f", "gpf6-app")
    engine.docker("tag", ref, "gpf6/keep-v2:1")
    engine.docker("rmi", ref, name + "@" + d1)
    assert engine.docker("image", "inspect", name + "@" + d1, check=False).returncode != 0
    # a container on the new content: enforce must report it, not restart it
    engine.docker("tag", "gpf6/keep-v2:1", ref)
    engine.docker("run", "-d", "--network", "none", "--name", "gpf6-app2", ref)
    enforce = {"mode": "enforce", "manifest": manifest, "docker_host": engine.host}
    result = run_module(MODULE, enforce, check=True, diff=True)
    assert result["changed"] is True
    assert [a["action"] for a in result["actions"]] == ["pull", "tag"], result["actions"]
    assert engine.docker("image", "inspect", name + "@" + d1, check=False).returncode != 0  # check mode pulled nothing
    result = run_module(MODULE, enforce)
    assert result["changed"] is True and result.get("failed") is not True, result
    pinned_id = engine.inspect(name + "@" + d1, kind="image")[0]["Id"]
    assert engine.inspect(ref, kind="image")[0]["Id"] == pinned_id
    assert [r["name"] for r in result["recreate_needed"]] == ["gpf6-app2"]
    assert engine.inspect("gpf6-app2", kind="container")[0]["State"]["Running"] is True  # not restarted
    result = run_module(MODULE, enforce)
    assert result["changed"] is False and [r["name"] for r in result["recreate_needed"]] == ["gpf6-app2"]

    # recreate: true puts the container on the pinned image, same name, running.
    result = run_module(MODULE, dict(enforce, recreate=True))
    assert result["changed"] is True, result
    after = engine.inspect("gpf6-app2", kind="container")[0]
    assert after["Image"] == pinned_id and after["State"]["Running"] is True
    assert run_module(MODULE, dict(enforce, recreate=True))["changed"] is False


def test_malformed_manifest_fails_before_any_change(lab, tmp_path):
    reg, engine = lab
    ref = reg.address + "/gpf6/bad:1"
    engine.make_image(ref, "bad manifest test")
    before = engine.inspect(ref, kind="image")[0]["Id"]
    manifest = tmp_path / "bad.yml"
    manifest.write_text("images:\n  - image: %s\n    digest: sha256:%s\n  - image: %s/gpf6/other:1\n    digest: sha256:nothex\n"
                        % (ref, "a" * 64, reg.address))
    result = run_module(MODULE, {"mode": "enforce", "manifest": str(manifest), "docker_host": engine.host})
    assert result["failed"] is True
    assert "entry 2" in result["msg"] and "gpf6/other:1" in result["msg"], result["msg"]
    assert engine.inspect(ref, kind="image")[0]["Id"] == before


def test_registry_down_gives_a_warning_per_image(lab, tmp_path):
    _reg, engine = lab
    port = free_port()
    entries = [{"image": "127.0.0.1:%d/gpf6/a:1" % port, "digest": "sha256:" + "a" * 64},
               {"image": "127.0.0.1:%d/gpf6/b:1" % port, "digest": "sha256:" + "b" * 64}]
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  webui:\n    image: ghcr.io/open-webui/open-webui:main\n"
                       "  db:\n    image: qdrant/qdrant@sha256:%s\n" % ("c" * 64))
    result = run_module(MODULE, {"mode": "audit", "entries": entries, "check_remote": True, "docker_host": engine.host,
                                 "compose_files": [str(compose)], "timeout": 30})
    assert result.get("failed") is not True, result
    warnings = [w for w in result.get("warnings", []) if "registry did not answer" in w]
    assert len(warnings) == 2, result.get("warnings")
    assert all(e["update_available"] is None and e["remote_error"] for e in result["entries"])
    assert result["compose_unpinned"] == [{"file": str(compose), "service": "webui", "image": "ghcr.io/open-webui/open-webui:main"}]


def test_daemon_not_answering_fails_naming_the_step(tmp_path):
    result = run_module(MODULE, {"mode": "audit", "entries": [], "docker_host": "unix://%s/none.sock" % tmp_path})
    assert result["failed"] is True and "connecting to the Docker daemon" in result["msg"]


def _monthly(tmp_path, docker_host, manifest):
    evars = {"gpufleet_report_dir": str(tmp_path / "reports"), "gpufleet_history_path": str(tmp_path / "history.db"),
             "gpufleet_image_manifest": manifest, "gpufleet_package_pin_audit": False}
    proc = run_playbook("playbooks/monthly.yml", ["-e", json.dumps(evars)], env={"DOCKER_HOST": docker_host})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(sorted(glob.glob(str(tmp_path / "reports" / "monthly-*.json")))[-1]) as handle:
        report = json.load(handle)
    time.sleep(1.1)  # distinct report names
    return proc, report


def _area_status(report, area):
    [host] = report["hosts"]
    return host["areas"][area]


def test_monthly_audits_the_pins_and_reports_updates_upstream(lab, tmp_path):
    reg, _shared = lab
    with Dockerd() as engine:  # an engine of its own: only this test's container runs there
        _monthly_on(reg, engine, tmp_path)


def _monthly_on(reg, engine, tmp_path):
    ref = reg.address + "/gpf10/runner:1"
    engine.make_image(ref, "runner one")
    engine.push(ref)
    engine.docker("run", "-d", "--network", "none", "--name", "gpf10-runner", ref)
    manifest = str(tmp_path / "images.yml")

    # No manifest yet: the monthly run says so (ok), and tells how to write one.
    proc, report = _monthly(tmp_path, engine.host, manifest)
    assert _area_status(report, "images") == "ok"
    assert "images: no image pin manifest at %s" % manifest in proc.stdout

    # Locked and unchanged upstream: ok, the registry serves the pinned digest.
    locked = run_module(MODULE, {"mode": "lock", "manifest": manifest, "docker_host": engine.host})
    assert locked["changed"] is True, locked
    proc, report = _monthly(tmp_path, engine.host, manifest)
    assert _area_status(report, "images") == "ok", report["problems"]
    assert "images: 1 pinned (1 ok)" in proc.stdout

    # The tag moves upstream (a new push from elsewhere): the monthly report asks to read the changelog.
    engine.make_image(ref, "runner two")
    newer = engine.push(ref)
    engine.docker("rmi", ref)  # this host has not pulled it: only the registry knows
    proc, report = _monthly(tmp_path, engine.host, manifest)
    assert _area_status(report, "images") == "warn"
    [update] = [p for p in report["problems"] if p["check"] == "image_update"]
    assert update["status"] == "warn" and newer in update["message"]
    assert "read the changelog before bumping the pin" in update["message"]
    assert "1 with an update upstream" in proc.stdout


def test_monthly_image_audit_with_the_engine_down_is_crit_not_a_failed_host(tmp_path):
    manifest = tmp_path / "images.yml"
    manifest.write_text("images:\n  - image: 127.0.0.1:5999/gpf10/x:1\n    digest: sha256:%s\n" % ("a" * 64))
    proc, report = _monthly(tmp_path, "unix://%s/none.sock" % tmp_path, str(manifest))
    assert "failed=0" in proc.stdout and "unreachable=0" in proc.stdout
    assert _area_status(report, "images") == "crit"
    [problem] = [p for p in report["problems"] if p["check"] == "image_audit"]
    assert problem["status"] == "crit" and "but the daemon does not answer" in problem["message"]
    assert "connecting to the Docker daemon at unix://%s/none.sock" % tmp_path in problem["message"]
    assert "so the pins in %s cannot be audited: start it" % manifest in problem["message"]


def test_monthly_image_audit_with_a_broken_manifest_is_crit(tmp_path):
    manifest = tmp_path / "images.yml"
    manifest.write_text("images:\n  - image: gpf10/x:1\n    digest: sha256:nothex\n")
    proc, report = _monthly(tmp_path, "unix://%s/none.sock" % tmp_path, str(manifest))
    assert "failed=0" in proc.stdout and "unreachable=0" in proc.stdout
    [problem] = [p for p in report["problems"] if p["check"] == "image_audit"]
    assert problem["status"] == "crit" and "the pin manifest cannot be used: %s entry 1" % manifest in problem["message"]
