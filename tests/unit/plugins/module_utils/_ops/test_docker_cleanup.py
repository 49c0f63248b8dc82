"""docker_cleanup: the pinned-, label-, Compose- and keep-per-repository-aware prune selection (a
pure function), the pins it keeps, and the removal's fault handling with a stand-in client (in use,
gone, daemon lost; tests/integration/test_docker_hygiene.py does the same on a real engine)."""

import pytest
import requests
from docker.errors import APIError, NotFound

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.parse import ManifestError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops.docker_cleanup import (
    PlanError, apply_prune, parse_age, parse_time, plan, read_pins, run)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.docker import EngineError, image_unique_bytes

NOW = 1_800_000_000
DAY = 86400
PIN = "sha256:" + "1" * 64


def img(iid, tags=(), digests=(), age_days=30, size=100, shared=0, labels=None):
    return {"Id": "sha256:" + iid * 64, "RepoTags": list(tags) or ["<none>:<none>"], "RepoDigests": list(digests),
            "Created": NOW - age_days * DAY, "Size": size, "SharedSize": shared, "Labels": labels, "Containers": 0}


def ctr(name, image_id, state="exited", age_days=30, labels=None, volumes=(), size=10, networks=("bridge",)):
    return {"Id": name + "-id", "Names": ["/" + name], "Image": "x", "ImageID": "sha256:" + image_id * 64,
            "State": state, "Created": NOW - age_days * DAY, "Labels": labels or {}, "SizeRw": size,
            "Mounts": [{"Type": "volume", "Name": v} for v in volumes],
            "NetworkSettings": {"Networks": dict((n, {}) for n in networks)}}


def vol(name, size=1000, labels=None):
    return {"Name": name, "Labels": labels, "UsageData": {"Size": size, "RefCount": -1}}


ANON = "f" * 64


def names(items, key="name"):
    return sorted(i[key] for i in items)


@pytest.fixture
def scene():
    """Like the integration scenario: pinned old image, keep container, named volume, dangling images."""
    images = [
        img("a", tags=["app:2"], age_days=1, size=500),                     # newest app, used by running
        img("b", tags=["app:1"], age_days=20, size=400),                    # older app: rollback kept (N=2)
        img("c", tags=["app:0"], age_days=40, size=300),                    # oldest app: removed
        img("d", digests=["app@" + PIN], age_days=60, size=200),            # dangling but pinned
        img("e", age_days=10, size=50),                                     # dangling: removed
        img("f", tags=["tool:1"], age_days=50, size=70, labels={"gpufleet.keep": "true"}),
        img("9", tags=["web:1"], age_days=90, size=80),                     # used by a compose container
        img("8", tags=["data:0"], age_days=90, size=60),                    # used by the stopped container
        img("7", tags=["data:1"], age_days=5, size=1),                      # the newest two of data
        img("6", tags=["data:2"], age_days=3, size=1),
    ]
    containers = [
        ctr("running", "a", state="running"),
        ctr("old-stopped", "8", volumes=["webui-data", ANON], size=11),
        ctr("keep-me", "e", labels={"gpufleet.keep": "true"}),
        ctr("compose-db", "9", labels={"com.docker.compose.project": "webui"}),
        ctr("young", "c", age_days=0),
    ]
    volumes = [vol("webui-data", 5000), vol(ANON, 3000), vol("b" * 64, 7)]
    return images, containers, volumes


def test_scene(scene):
    images, containers, volumes = scene
    result = plan(images, containers, volumes, now=NOW, container_age="24h", image_age="7d", keep_per_repository=2,
                  pins=[{"image": "app:0", "digest": PIN}], log_sizes={"old-stopped-id": 123})
    remove, keep = result["remove"], result["keep"]
    assert names(remove["containers"]) == ["old-stopped"]
    assert remove["containers"][0]["log_bytes"] == 123
    # "e" is used by the keep container, "c" by the young one: both stay; "8" becomes unused.
    assert names(remove["images"], "id") == ["sha256:" + "8" * 64]
    assert names(remove["volumes"]) == sorted([ANON, "b" * 64])          # anonymous only
    kept = dict((k["name"], k["reason"]) for k in keep["containers"])
    assert "gpufleet.keep" in kept["keep-me"] and "Compose" in kept["compose-db"] and "younger" in kept["young"]
    kept_images = dict((k["id"][7:8], k["reason"]) for k in keep["images"])
    assert kept_images["d"] == "pinned in the manifest"
    assert "gpufleet.keep" in kept_images["f"]
    assert kept_images["b"].startswith("one of the newest 2")
    assert [v["name"] for v in keep["volumes"]] == ["webui-data"]
    assert result["bytes"] == {"containers": 11, "container_logs": 123, "images": 60, "volumes": 3007,
                               "build_cache": 0, "total": 3201}


def test_named_volume_only_when_listed_and_unused(scene):
    images, containers, volumes = scene
    result = plan(images, containers, volumes, now=NOW, volumes_to_remove=["webui-data"])
    assert "webui-data" in names(result["remove"]["volumes"])
    # When its container stays (young), the listed volume is kept and the reason says why.
    containers[1]["Created"] = NOW
    result = plan(images, containers, volumes, now=NOW, volumes_to_remove=["webui-data"])
    assert "webui-data" not in names(result["remove"]["volumes"])
    assert "in use by old-stopped" in result["keep"]["volumes"][0]["reason"]


def test_keep_per_repository_zero_and_ages(scene):
    images, containers, volumes = scene
    pins = [{"image": "app:0", "digest": PIN}]
    result = plan(images, containers, volumes, now=NOW, keep_per_repository=0, image_age="0", container_age=0, pins=pins)
    removed = set(i["id"][7:8] for i in result["remove"]["images"])
    # young container removed too (age 0) so "c" is free; "b", "6", "7" no longer protected; pinned/keep/compose stay.
    assert removed == {"b", "c", "8", "7", "6"}
    # Without the pin the old pinned image goes as well.
    result = plan(images, containers, volumes, now=NOW, keep_per_repository=0, image_age="0", container_age=0)
    assert "d" in set(i["id"][7:8] for i in result["remove"]["images"])
    assert "young" in names(result["remove"]["containers"])
    result = plan(images, containers, volumes, now=NOW, keep_per_repository=0, image_age="100d", container_age="1000d")
    assert result["remove"]["images"] == [] and result["remove"]["containers"] == []


def test_compose_containers_can_be_pruned_but_their_images_stay(scene):
    images, containers, volumes = scene
    result = plan(images, containers, volumes, now=NOW, keep_compose_containers=False)
    assert "compose-db" in names(result["remove"]["containers"])
    assert "sha256:" + "9" * 64 not in names(result["remove"]["images"], "id")


def test_scope_labels(scene):
    images, containers, volumes = scene
    images[4]["Labels"] = {"app": "test"}
    containers[1]["Labels"] = {"app": "test"}
    volumes[1]["Labels"] = {"app": "test"}
    result = plan(images, containers, volumes, now=NOW, scope_labels={"app": "test"},
                  build_cache=[{"ID": "x", "Size": 5, "LastUsedAt": "2020-01-01T00:00:00Z"}])
    assert names(result["remove"]["containers"]) == ["old-stopped"]
    assert names(result["remove"]["volumes"]) == [ANON]
    assert names(result["remove"]["images"], "id") == []  # "e" is still used by keep-me
    assert result["remove"]["build_cache"] == []          # no labels on build cache: left alone


def test_build_cache_and_networks(scene):
    images, containers, volumes = scene
    cache = [
        {"ID": "old", "Type": "regular", "Size": 100, "InUse": False, "Shared": False, "LastUsedAt": "2020-01-01T00:00:00Z"},
        {"ID": "inuse", "Type": "regular", "Size": 100, "InUse": True, "Shared": False, "LastUsedAt": "2020-01-01T00:00:00Z"},
        {"ID": "fresh", "Type": "regular", "Size": 100, "InUse": False, "Shared": False, "CreatedAt": "2027-01-15T08:00:00+02:00"},
    ]
    networks = [{"Name": "bridge", "Id": "1"}, {"Name": "host", "Id": "2"}, {"Name": "webui_default", "Id": "3"},
                {"Name": "unused", "Id": "4"}, {"Name": "only-old", "Id": "5"}]
    containers[0]["NetworkSettings"]["Networks"] = {"webui_default": {}}
    containers[1]["NetworkSettings"]["Networks"] = {"only-old": {}}
    result = plan(images, containers, volumes, build_cache=cache, networks=networks, now=NOW)
    assert [b["id"] for b in result["remove"]["build_cache"]] == ["old"]
    assert names(result["remove"]["networks"]) == ["only-old", "unused"]   # only-old's container goes
    assert result["bytes"]["build_cache"] == 100
    assert plan(images, containers, volumes, networks=networks, now=NOW, prune_networks=False)["remove"]["networks"] == []


def test_running_and_paused_containers_never_go(scene):
    images, containers, volumes = scene
    containers.append(ctr("paused", "b", state="paused"))
    result = plan(images, containers, volumes, now=NOW, container_age=0)
    assert "paused" not in names(result["remove"]["containers"]) and "running" not in names(result["remove"]["containers"])
    assert "paused" not in [k["name"] for k in result["keep"]["containers"]]


def test_children_removed_before_parents():
    images = [img("1", age_days=30), img("2", age_days=20), img("3", age_days=25)]
    result = plan(images, [], [], now=NOW, image_age=0)
    assert [i["id"][7:8] for i in result["remove"]["images"]] == ["2", "3", "1"]


@pytest.mark.parametrize("value, seconds", [("24h", 86400), ("7d", 604800), ("30m", 1800), ("2w", 1209600), ("90s", 90),
                                            ("90", 90), (90, 90), ("0", 0), ("1.5h", 5400)])
def test_parse_age(value, seconds):
    assert parse_age(value) == seconds


@pytest.mark.parametrize("bad", ["", "forever", "-1h", -5, "24 hours", True])
def test_parse_age_refuses(bad):
    with pytest.raises(PlanError):
        parse_age(bad)


def test_parse_time():
    assert parse_time(5) == 5
    assert parse_time("2020-01-01T00:00:00Z") == 1577836800
    assert parse_time("2020-01-01T02:00:00.123456789+02:00") == 1577836800
    assert parse_time("yesterday") is None and parse_time(None) is None


def test_bad_options():
    with pytest.raises(PlanError, match="keep_per_repository"):
        plan([], [], [], keep_per_repository=-1)
    with pytest.raises(PlanError, match="pin entry 2"):
        plan([], [], [], pins=[{"image": "a:1", "digest": PIN}, {"image": "b:1", "digest": "sha256:short"}])
    with pytest.raises(PlanError, match="pin entry 1"):
        plan([], [], [], pins=[{"image": "BAD", "digest": PIN}])


def test_unique_bytes():
    assert image_unique_bytes({"Size": 100, "SharedSize": 40}) == 60
    assert image_unique_bytes({"Size": 100, "SharedSize": -1}) == 100
    assert image_unique_bytes({"Size": None}) == 0


def test_read_pins_inline_and_from_the_manifest(tmp_path):
    manifest = tmp_path / "images.yml"
    manifest.write_text("images:\n  - image: ollama/ollama:0.5.7\n    digest: %s\n    note: tested\n" % PIN)
    files = {str(manifest): manifest.read_text()}
    pins = read_pins({"pins": [{"image": "docker.io/library/busybox", "digest": PIN}], "pin_manifest": str(manifest)},
                     files.get)
    assert pins == [{"image": "busybox:latest", "digest": PIN}, {"image": "ollama/ollama:0.5.7", "digest": PIN}]
    with pytest.raises(ManifestError, match="none.yml: the manifest file does not exist"):
        read_pins({"pins": [], "pin_manifest": str(tmp_path / "none.yml")}, files.get)
    with pytest.raises(ManifestError, match="pins entry 1"):
        read_pins({"pins": [{"image": "a:1", "digest": "sha256:short"}]}, files.get)


class Response:
    def __init__(self, status):
        self.status_code = status
        self.reason = "x"


class FakeClient:
    def __init__(self, failures):
        self.failures = failures
        self.calls = []

    def _act(self, kind, key):
        self.calls.append((kind, key))
        failure = self.failures.get(key)
        if failure is not None:
            raise failure

    def remove_container(self, cid, v=False):
        self._act("container", cid)

    def remove_image(self, iid, noprune=False):
        self._act("image", iid)

    def remove_volume(self, name):
        self._act("volume", name)


PLAN = {
    "containers": [{"id": "c1", "name": "old"}],
    "images": [{"id": "i1", "image": "app:0"}, {"id": "i2", "image": "app:1"}],
    "volumes": [{"name": "v1"}, {"name": "v2"}],
}


def test_in_use_and_gone_are_skipped_not_errors():
    client = FakeClient({
        "i1": APIError("conflict: image is being used by running container", response=Response(409),
                       explanation="image is being used by running container"),
        "v1": NotFound("no such volume", response=Response(404), explanation="no such volume"),
    })
    result = apply_prune(client, PLAN)
    assert [c["id"] for c in result["removed"]["containers"]] == ["c1"]
    assert [i["id"] for i in result["removed"]["images"]] == ["i2"]
    assert [v["name"] for v in result["removed"]["volumes"]] == ["v2"]
    reasons = dict((s["kind"] + ":" + (s.get("id") or s.get("name")), s["reason"]) for s in result["not_removed"])
    assert reasons["images:i1"].startswith("in use: image is being used")
    assert reasons["volumes:v1"].startswith("already gone")


def test_daemon_lost_mid_run_names_the_step_and_what_was_done():
    client = FakeClient({"i2": requests.exceptions.ConnectionError("Connection aborted")})
    with pytest.raises(EngineError) as caught:
        apply_prune(client, PLAN)
    assert caught.value.step == "removing image app:1"
    assert "Connection aborted" in caught.value.error
    assert [c["id"] for c in caught.value.done["containers"]] == ["c1"]
    assert [i["id"] for i in caught.value.done["images"]] == ["i1"]
    assert caught.value.done["volumes"] == []          # never reached: not reported as done
    assert ("volume", "v1") not in client.calls


def test_other_api_errors_fail():
    client = FakeClient({"c1": APIError("boom", response=Response(500), explanation="driver failed")})
    with pytest.raises(EngineError, match="removing container old: driver failed"):
        apply_prune(client, PLAN)


@pytest.mark.parametrize("option, value, message", [
    ("container_age", "a fortnight",
     "container_age: an age must be a number with an optional unit s, m, h, d or w (e.g. 24h, 7d), got 'a fortnight'"),
    ("image_age", -5, "image_age: an age must not be negative, got -5"),
    ("build_cache_age", True, "build_cache_age: an age must be a number of seconds or a string like 24h, 7d, got True"),
    ("timeout", 0, "timeout must be at least 1 (got 0)"),
    ("keep_per_repository", -1, "keep_per_repository must be at least 0 (got -1)"),
])
def test_bad_options_fail_naming_the_option_before_the_engine_is_asked(option, value, message):
    params = {"timeout": 120, "container_age": "24h", "image_age": "168h", "build_cache_age": "168h",
              "keep_per_repository": 2, "docker_host": "unix:///nonexistent/never-asked.sock"}
    params[option] = value
    with pytest.raises(PlanError) as caught:
        run(params, True, lambda path: None)
    assert str(caught.value) == message
