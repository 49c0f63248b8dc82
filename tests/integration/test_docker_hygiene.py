"""The docker_hygiene role and docker_facts on a private dockerd (never the shared engine) with a real registry.

The prune scenario: a named volume of a stopped container holding a file, an anonymous volume,
dangling images, an old pinned image (dangling, but pinned by its repo digest), a stopped container
labelled gpufleet.keep=true, a stopped container with a big log and an unused network.
"""

import json
import os
import re
import subprocess
import uuid

import pytest

from testlib.ansible_run import REPO_ROOT, run_playbook
from testlib.docker_lab import Dockerd, Registry, run_module

pytestmark = pytest.mark.integration

PLAYBOOK = """
- name: Docker hygiene under test
  hosts: localhost
  gather_facts: false
  roles:
    - role: gpufleet.maintenance.docker_hygiene
  post_tasks:
    - name: Save the report for the test
      ansible.builtin.copy:
        content: "{{ docker_hygiene_report | to_nice_json }}"
        dest: "{{ report_path }}"
        mode: "0600"
      check_mode: false
      changed_when: false  # the test's own bookkeeping, not part of the role's idempotence
"""


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hygiene")
    with Registry() as reg, Dockerd() as engine:
        pinned_ref = reg.address + "/gpf6/pinned:1"
        engine.make_image(pinned_ref, "pinned old content")
        pinned_digest = engine.push(pinned_ref)
        engine.make_image(pinned_ref, "pinned newer content")      # the old pinned image is now dangling
        engine.docker("rmi", pinned_ref)                            # and the newer one is gone: only the pin remains
        base = engine.make_image("gpf6/base:1", "base")
        dangling = [engine.make_image(None, "dangling %d" % n) for n in range(2)]
        engine.make_image("gpf6/old:1", "an old unused tagged image")
        engine.docker("run", "--network", "none", "--name", "gpf6-vol", "-v", "gpf6data:/data", "gpf6/base:1",
                      "sh", "-c", "echo precious > /data/file")
        engine.docker("run", "--network", "none", "--name", "gpf6-anon", "-v", "/anon", "gpf6/base:1",
                      "sh", "-c", "echo scratch > /anon/file")
        engine.make_image("gpf6/keep:1", "kept")
        engine.docker("create", "--network", "none", "--name", "gpf6-keep", "--label", "gpufleet.keep=true", "gpf6/keep:1")
        engine.make_image("gpf6/logger:1", "logger")
        engine.docker("run", "--network", "none", "--name", "gpf6-log", "gpf6/logger:1",
                      "sh", "-c", "yes 'a line of a chatty container log' | head -n 40000")
        engine.docker("network", "create", "gpf6-unused")
        daemon_json = tmp / "daemon.json"
        daemon_json.write_text(json.dumps({"data-root": "/srv/docker", "features": {"buildkit": True},
                                           "log-opts": {"labels": "app"}, "pidfile": engine.pidfile}, indent=4))
        manifest = tmp / "images.yml"
        manifest.write_text("images:\n  - image: %s\n    digest: %s\n" % (pinned_ref, pinned_digest))
        log_path = engine.inspect("gpf6-log", kind="container")[0]["LogPath"]
        yield {"engine": engine, "tmp": tmp, "pinned": reg.address + "/gpf6/pinned@" + pinned_digest,
               "daemon_json": daemon_json, "manifest": manifest, "dangling": dangling, "base": base,
               "log_bytes": os.path.getsize(log_path)}


REPORT_TASK = "Build the hygiene report (bytes freed per category, before minus after)"


def run_role(scene, check=False, name="report"):
    report = scene["tmp"] / ("%s.json" % name)
    playbook = scene["tmp"] / "play.yml"
    playbook.write_text(PLAYBOOK)
    extra = {
        "report_path": str(report),
        "docker_hygiene_docker_host": scene["engine"].host,
        "docker_hygiene_container_age": "0",
        "docker_hygiene_image_age": "0",
        "docker_hygiene_keep_per_repository": 0,
        "docker_hygiene_pin_manifest": str(scene["manifest"]),
        "docker_hygiene_daemon_json": str(scene["daemon_json"]),
        "docker_hygiene_restart_allowed": False,
        "docker_hygiene_state_file": str(scene["tmp"] / "state" / "docker_hygiene.json"),
    }
    args = ["-e", json.dumps(extra)] + (["--check", "--diff"] if check else [])
    proc = run_playbook(str(playbook), args)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    changed = int(re.search(r"localhost\s*:.*changed=(\d+)", proc.stdout).group(1))
    with open(report) as handle:
        return json.load(handle), changed, proc.stdout


def state(engine):
    return {
        "containers": sorted(engine.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()),
        "images": sorted(engine.docker("images", "-aq", "--no-trunc").stdout.split()),
        "volumes": sorted(engine.docker("volume", "ls", "-q").stdout.split()),
        "networks": sorted(engine.docker("network", "ls", "--format", "{{.Name}}").stdout.split()),
    }


def test_facts_on_the_private_engine(scene):
    engine = scene["engine"]
    result = run_module("gpufleet.maintenance.docker_facts", {"docker_host": engine.host, "daemon_json": str(scene["daemon_json"]),
                                                              "thresholds": {"container_log_warn_bytes": 100000}})
    fact = result["ansible_facts"]["gpufleet_docker"]
    assert fact["present"] is True and fact["api_version"] >= "1.41"
    assert fact["root_dir"] == engine.inspect_info()["DockerRootDir"]
    by_name = dict((c["name"], c) for c in fact["containers"])
    assert by_name["gpf6-log"]["log_bytes"] == scene["log_bytes"] > 1000000
    assert by_name["gpf6-keep"]["keep"] is True and by_name["gpf6-keep"]["state"] == "created"
    checks = [c for c in fact["checks"] if c["check"] == "container_log_size" and c["status"] != "ok"]
    assert [c["container"] for c in checks] == ["gpf6-log"]
    assert fact["disk_usage"]["images"]["dangling_count"] >= 3   # two imports without a tag and the old pin
    assert fact["disk_usage"]["volumes"]["unused_named_count"] == 0  # gpf6data is used by a stopped container


def test_check_mode_lists_and_removes_nothing(scene):
    engine = scene["engine"]
    before = state(engine)
    daemon_before = scene["daemon_json"].read_text()
    report, _changed, out = run_role(scene, check=True, name="check")
    assert state(engine) == before
    assert scene["daemon_json"].read_text() == daemon_before
    plan = report["plan"]
    assert sorted(c["name"] for c in plan["containers"]) == ["gpf6-anon", "gpf6-log", "gpf6-vol"]
    planned_images = set(i["id"] for i in plan["images"])
    assert set(scene["dangling"]) <= planned_images
    assert "gpf6/old:1" in [i["image"] for i in plan["images"]]
    assert engine.inspect(scene["pinned"], kind="image")[0]["Id"] not in planned_images
    assert [v["name"] for v in plan["volumes"]] != [] and "gpf6data" not in [v["name"] for v in plan["volumes"]]
    assert [n["name"] for n in plan["networks"]] == ["gpf6-unused"]
    assert report["planned_bytes"]["container_logs"] == scene["log_bytes"]
    assert report["planned_bytes"]["total"] > scene["log_bytes"]
    assert "would remove: 3 container(s)" in out


def test_prune_keeps_what_matters_and_frees_what_the_facts_say(scene):
    engine = scene["engine"]
    facts_before = run_module("gpufleet.maintenance.docker_facts", {"docker_host": engine.host})["ansible_facts"]["gpufleet_docker"]
    check_report, _c, _o = run_role(scene, check=True, name="plan")
    report, changed, _out = run_role(scene, name="apply")
    assert changed > 0
    after = state(engine)
    # Kept: the keep container (and its image), the named volume with its file, the pinned image.
    assert after["containers"] == ["gpf6-keep"]
    assert after["volumes"] == ["gpf6data"]
    out = engine.docker("run", "--rm", "--network", "none", "-v", "gpf6data:/data", "gpf6/keep:1", "cat", "/data/file")
    assert out.stdout.strip() == "precious"
    engine.inspect(scene["pinned"], kind="image")
    # Removed: everything else.
    assert "gpf6-unused" not in after["networks"]
    images_left = set(after["images"])
    assert not set(scene["dangling"]) & images_left and scene["base"] not in images_left
    assert images_left == {engine.inspect(scene["pinned"], kind="image")[0]["Id"], engine.inspect("gpf6/keep:1", kind="image")[0]["Id"]}
    assert report["not_removed"] == []
    # Bytes freed (facts before minus after) match the plan and the facts of the engine.
    facts_after = run_module("gpufleet.maintenance.docker_facts", {"docker_host": engine.host})["ansible_facts"]["gpufleet_docker"]
    freed = report["freed_bytes"]
    planned = check_report["planned_bytes"]
    for category, key in (("images", "total_bytes"), ("volumes", "total_bytes")):
        assert freed[category] == facts_before["disk_usage"][category][key] - facts_after["disk_usage"][category][key]
    assert freed["images"] == planned["images"] > 0
    assert freed["container_logs"] == planned["container_logs"] == scene["log_bytes"]
    assert freed["volumes"] == planned["volumes"]
    assert freed["containers"] == planned["containers"]
    assert facts_after["disk_usage"]["images"]["count"] == 2
    # daemon.json: log rotation merged, the user's other keys kept, restart pending (not allowed).
    daemon = json.loads(scene["daemon_json"].read_text())
    assert daemon["data-root"] == "/srv/docker" and daemon["features"] == {"buildkit": True}
    assert daemon["log-driver"] == "json-file"
    assert daemon["log-opts"] == {"labels": "app", "max-size": "50m", "max-file": "3"}
    assert report["daemon_json_changed"] is True and report["restart_pending"] is True

    state_file = scene["tmp"] / "state" / "docker_hygiene.json"
    assert json.loads(state_file.read_text())["daemon_json"] == str(scene["daemon_json"])

    # A second run changes nothing, and still says that Docker must restart (the change waits for it).
    again, changed, out = run_role(scene, name="again")
    assert changed == 0
    assert again["daemon_json_changed"] is False and again["restart_pending"] is True
    assert again["restart_pending_message"].startswith("daemon.json (%s) changed at " % scene["daemon_json"])
    assert "and Docker has not restarted since (started " in again["restart_pending_message"]
    assert "Docker restart pending: daemon.json" in " ".join(out.split())  # the printed report (YAML folds lines)
    assert state(engine) == after
    assert again["freed_bytes"]["total"] == 0
    facts = run_module("gpufleet.maintenance.docker_facts", {"docker_host": engine.host, "daemon_json": str(scene["daemon_json"]),
                                                             "state_file": str(state_file)})["ansible_facts"]["gpufleet_docker"]
    [pending] = [c for c in facts["checks"] if c["check"] == "daemon_restart_pending"]
    assert pending["status"] == "warn" and facts["status"] == "warn"

    # Docker restarts (by hand, or another run allowed to): the next run says so and forgets the state.
    engine.restart()
    done, changed, out = run_role(scene, name="restarted")
    assert done["restart_pending"] is False and "no Docker restart pending" in " ".join(out.split())
    assert not state_file.exists() and changed == 1   # the state file removed, nothing else
    facts = run_module("gpufleet.maintenance.docker_facts", {"docker_host": engine.host, "daemon_json": str(scene["daemon_json"]),
                                                             "state_file": str(state_file)})["ansible_facts"]["gpufleet_docker"]
    assert "daemon_restart_pending" not in [c["check"] for c in facts["checks"]]


def test_docker_absent_is_not_a_failure(tmp_path):
    result = run_module("gpufleet.maintenance.docker_facts", {"docker_host": "unix://%s/nothing.sock" % tmp_path})
    assert result.get("failed") is not True
    fact = result["ansible_facts"]["gpufleet_docker"]
    assert fact["present"] is False and "nothing.sock" in fact["reason"]


def test_facts_on_the_shared_engine():
    """Read-only: the engine the foundation runs (scripts/docker-infra engine)."""
    proc = subprocess.run(["docker", "version", "--format", "{{.Server.APIVersion}}"], capture_output=True, text=True, check=False)
    # The integration layer starts the engine (scripts/docker-infra engine): one that does not answer is a failure.
    assert proc.returncode == 0, "the shared Docker engine does not answer: %s" % proc.stderr.strip()
    fact = run_module("gpufleet.maintenance.docker_facts", {})["ansible_facts"]["gpufleet_docker"]
    assert fact["present"] is True and fact["api_version"] == proc.stdout.strip()
    assert fact["root_fs"]["size_bytes"] > 0 and 0 <= fact["root_fs"]["used_pct"] <= 100


# ------------------------------------------------------------------ playbooks/docker_hygiene.yml, staged

@pytest.fixture
def container_hosts(tmp_path):
    """Three Debian container hosts (the molecule image) whose Docker engine is one private dockerd,
    its socket mounted into each; an inventory with the first as the canary."""
    subprocess.run([os.path.join(REPO_ROOT, "scripts", "docker-infra"), "image"], check=True, capture_output=True)
    image = os.environ.get("GPUFLEET_IMAGE", "local/gpufleet-debian:bookworm")
    names = ["gpf16-hyg-%d-%s" % (n, uuid.uuid4().hex[:6]) for n in (1, 2, 3)]
    with Dockerd() as engine:
        dangling = [engine.make_image(None, "dangling %d" % n) for n in range(2)]
        engine.make_image("gpf16/kept:1", "an image a container uses")
        engine.docker("create", "--network", "none", "--name", "gpf16-user", "--label", "gpufleet.keep=true", "gpf16/kept:1")
        try:
            for name in names:
                subprocess.run(["docker", "run", "-d", "--name", name, "--network", "none", "-v", "%s:/run/gpf-engine/docker.sock" % engine.sock,
                                image, "sleep", "infinity"], check=True, capture_output=True)
                # /etc/docker as Debian's docker.io package leaves it (the role writes daemon.json there)
                subprocess.run(["docker", "exec", name, "mkdir", "-p", "/etc/docker"], check=True, capture_output=True)
            common = {"ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3",
                      "docker_hygiene_docker_host": "unix:///run/gpf-engine/docker.sock",
                      "docker_hygiene_container_age": "0", "docker_hygiene_image_age": "0", "docker_hygiene_keep_per_repository": 0}
            inventory = tmp_path / "inventory.yml"
            inventory.write_text(json.dumps({"all": {"vars": common, "children": {
                "canary": {"hosts": {names[0]: {}}}, "workers": {"hosts": {names[1]: {}, names[2]: {}}}}}}))
            yield {"names": names, "inventory": inventory, "engine": engine, "dangling": dangling}
        finally:
            subprocess.run(["docker", "rm", "-f"] + names, capture_output=True, check=False)


def _rollout(scene, *extra):
    proc = run_playbook("playbooks/docker_hygiene.yml", ["-i", str(scene["inventory"]), "-e", "gpufleet_hosts=all"] + list(extra),
                        json_output=True)
    data = json.loads(proc.stdout)
    batches = [sorted(set(h for t in play["tasks"] for h in t["hosts"])) for play in data["plays"]]
    return proc, data, batches


def _task(data, host, name):
    return [t["hosts"][host] for play in data["plays"] for t in play["tasks"]
            if host in t["hosts"] and t["task"]["name"].endswith(name)]


def test_playbook_rolls_out_canary_first_on_container_hosts(container_hosts):
    scene = container_hosts
    canary, second, third = scene["names"]
    proc, data, batches = _rollout(scene)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    # serial [1, '10%', '100%'] over canary:all: the canary alone, then one host (10 % of 3, at least
    # one), then the rest.
    assert batches == [[canary], [second], [third]]
    # The canary cleaned the shared engine: the two dangling images; the kept container's image stays.
    [report] = [r["ansible_facts"]["docker_hygiene_report"] for r in _task(data, canary, REPORT_TASK)]
    assert sorted(i["id"] for i in report["plan"]["images"]) == sorted(scene["dangling"])
    assert report["not_removed"] == [] and report["restart_pending"] is True
    left = scene["engine"].docker("images", "-aq", "--no-trunc").stdout.split()
    assert left == [scene["engine"].inspect("gpf16/kept:1", kind="image")[0]["Id"]]
    # The later batches found nothing left to remove.
    for host in (second, third):
        [later] = [r["ansible_facts"]["docker_hygiene_report"] for r in _task(data, host, REPORT_TASK)]
        assert later["plan"]["images"] == [] and later["plan"]["containers"] == []
    # Every host got log rotation in its own daemon.json; the restart was notified and not allowed.
    for host in scene["names"]:
        daemon = json.loads(subprocess.run(["docker", "exec", host, "cat", "/etc/docker/daemon.json"],
                                           capture_output=True, text=True, check=True).stdout)
        assert daemon == {"log-driver": "json-file", "log-opts": {"max-size": "50m", "max-file": "3"}}
        [restart] = _task(data, host, "Restart Docker")
        assert restart.get("skipped") is True


def test_a_failing_canary_stops_the_rollout(container_hosts):
    scene = container_hosts
    canary = scene["names"][0]
    proc, data, batches = _rollout(scene, "-e", json.dumps({"docker_hygiene_container_age": "a fortnight"}))
    assert proc.returncode != 0
    assert batches == [[canary]]  # max_fail_percentage 0: no later batch starts
    [cleanup] = _task(data, canary, "Remove old containers, unused images and volumes (pinned, kept and named ones stay)")
    assert cleanup["failed"] is True and "an age must be a number with an optional unit" in cleanup["msg"]
    assert len(scene["engine"].docker("images", "-aq").stdout.split()) == 3  # nothing was removed anywhere


# ------------------------------------------------------------------ the engine's own faults (real dockerd)

def test_apply_prune_on_a_real_engine_skips_in_use_and_gone_then_stops_when_the_engine_goes():
    """_ops.docker_cleanup.apply_prune with the real SDK client on a private dockerd: an image a running
    container uses (HTTP 409), a volume and an image already removed (HTTP 404), and the engine
    stopping in the middle of the run (the unit test's stand-in client replays these; here the
    engine produces them)."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops.docker_cleanup import apply_prune
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.docker import EngineError, connect

    with Dockerd() as engine:
        busy = engine.make_image("gpf16/busy:1", "used by a running container")
        gone_image = engine.make_image("gpf16/gone:1", "removed before the clean-up runs")
        old = engine.make_image("gpf16/old:1", "unused")
        engine.docker("run", "-d", "--network", "none", "--name", "gpf16-busy", "gpf16/busy:1")
        engine.docker("create", "--network", "none", "--name", "gpf16-stopped", "gpf16/old:1")
        stopped = engine.inspect("gpf16-stopped", kind="container")[0]["Id"]
        engine.docker("volume", "create", "gpf16-gone")
        engine.docker("volume", "create", "gpf16-spare")
        plan = {"containers": [{"id": stopped, "name": "gpf16-stopped"}],
                "images": [{"id": busy, "image": "gpf16/busy:1"}, {"id": gone_image, "image": "gpf16/gone:1"},
                           {"id": old, "image": "gpf16/old:1"}],
                "volumes": [{"name": "gpf16-gone"}, {"name": "gpf16-spare"}]}
        engine.docker("rmi", "gpf16/gone:1")          # someone else cleaned these up between plan and apply
        engine.docker("volume", "rm", "gpf16-gone")
        client = connect(engine.host)
        result = apply_prune(client, plan)
        assert [c["name"] for c in result["removed"]["containers"]] == ["gpf16-stopped"]
        assert [i["image"] for i in result["removed"]["images"]] == ["gpf16/old:1"]
        assert [v["name"] for v in result["removed"]["volumes"]] == ["gpf16-spare"]
        reasons = dict((s.get("image") or s.get("name"), s["reason"]) for s in result["not_removed"])
        assert sorted(reasons) == ["gpf16-gone", "gpf16/busy:1", "gpf16/gone:1"]
        assert reasons["gpf16/busy:1"].startswith("in use: ") and "is being used by running container" in reasons["gpf16/busy:1"]
        assert reasons["gpf16/gone:1"].startswith("already gone: ") and reasons["gpf16-gone"].startswith("already gone: ")

        # The engine stops after the first removal: what was removed is reported, nothing more.
        engine.docker("create", "--network", "none", "--name", "gpf16-first", "gpf16/busy:1")
        engine.docker("create", "--network", "none", "--name", "gpf16-second", "gpf16/busy:1")
        first, second = (engine.inspect(n, kind="container")[0]["Id"] for n in ("gpf16-first", "gpf16-second"))
        real_remove = client.remove_container

        def remove_then_lose_the_engine(cid, v=False):
            real_remove(cid, v=v)
            engine.stop_daemon()

        client.remove_container = remove_then_lose_the_engine
        with pytest.raises(EngineError) as caught:
            apply_prune(client, {"containers": [{"id": first, "name": "gpf16-first"}, {"id": second, "name": "gpf16-second"}],
                                 "volumes": [{"name": "gpf16-never"}]})
        assert caught.value.step == "removing container gpf16-second"
        assert [c["name"] for c in caught.value.done["containers"]] == ["gpf16-first"]
        assert caught.value.done["volumes"] == []
