"""The gpufleet_docker fact shaped from recorded Engine API responses (tests/unit/fixtures/docker_api)."""

import json

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _docker


def load(fixture_path, name):
    with open(fixture_path("docker_api", name)) as handle:
        return json.load(handle)


@pytest.fixture
def api(fixture_path):
    return (load(fixture_path, "info-apidocs-v1.34.json"), load(fixture_path, "version-apidocs-v1.36.json"),
            load(fixture_path, "system-df-apidocs-v1.39.json"))


def test_shape_from_api_docs(api):
    info, version, df = api
    fs = {"size_bytes": 1000, "used_bytes": 850, "free_bytes": 100}
    fact = _docker.shape(info, version, df, root_fs=fs, log_sizes={df["Containers"][0]["Id"]: 2 * 1024 ** 3},
                         daemon_config={"log-driver": "json-file", "log-opts": {"max-size": "50m", "max-file": "3"}, "data-root": "/x"})
    assert fact["schema_version"] == 1 and fact["present"] is True
    assert fact["engine_version"] == version["Version"] and fact["api_version"] == version["ApiVersion"]
    assert fact["storage_driver"] == "overlay2" and fact["root_dir"] == "/var/lib/docker"
    assert fact["runtimes"] == ["custom", "runc", "runc-master"] and fact["nvidia_runtime"] is False
    assert fact["default_runtime"] == "runc"
    assert fact["log_max_size"] == "50m" and fact["log_max_size_bytes"] == 50000000 and fact["log_max_file"] == 3
    assert fact["root_fs"]["used_pct"] == pytest.approx(89.5)
    usage = fact["disk_usage"]
    assert usage["images"] == {"count": 1, "total_bytes": 1092588, "dangling_count": 0, "dangling_bytes": 0,
                               "unused_count": 0, "unused_bytes": 0}
    assert usage["containers"]["stopped"] == 1 and usage["containers"]["running"] == 0
    assert usage["containers"]["logs_bytes"] == 2 * 1024 ** 3
    assert usage["volumes"]["count"] == 1 and usage["volumes"]["total_bytes"] == 10920104
    assert usage["volumes"]["unused_named_count"] == 0  # RefCount 2
    [entry] = fact["containers"]
    assert entry["name"] == "top" and entry["image"] == "busybox" and entry["pinned_by_digest"] is False
    assert entry["repo_digest"] == "sha256:a59906e33509d14c036c8678d687bd4eec81ed7c4b8ce907b888c607f6a1e0e6"
    checks = dict((c["check"], c) for c in fact["checks"])
    assert checks["docker_root_used"]["status"] == "warn"          # 89.5 %: warn at 80, crit at 90
    assert checks["container_log_size"]["status"] == "warn"        # 2 GiB: warn 1 GiB, crit 10 GiB
    assert checks["container_log_size"]["container"] == "top"
    assert "recreate" in checks["container_log_size"]["message"]
    assert checks["images_unpinned"]["status"] == "ok"             # the container is stopped
    assert fact["status"] == "warn"


def test_crit_root_and_unpinned_running(api):
    info, version, df = api
    df = json.loads(json.dumps(df))
    df["Containers"][0]["State"] = "running"
    fact = _docker.shape(info, version, df, root_fs={"size_bytes": 100, "used_bytes": 95, "free_bytes": 5})
    checks = dict((c["check"], c) for c in fact["checks"])
    assert checks["docker_root_used"]["status"] == "crit"
    assert checks["images_unpinned"]["status"] == "warn" and "top" in checks["images_unpinned"]["message"]
    assert "container_log_size" not in checks  # log size unknown: no check rather than a guess
    fact = _docker.shape(info, version, df, thresholds={"unpinned_status": "ok"})
    assert [c["status"] for c in fact["checks"] if c["check"] == "images_unpinned"] == ["ok"]


def test_older_engines(fixture_path):
    info = load(fixture_path, "info-devicemapper-telegraf.json")
    fact = _docker.shape(info, {}, {})
    assert fact["storage_driver"] == "devicemapper"
    assert fact["engine_version"] == info.get("ServerVersion")
    assert fact["disk_usage"]["images"]["count"] == 0 and fact["containers"] == []
    assert fact["root_fs"] is None
    assert [c["status"] for c in fact["checks"] if c["check"] == "docker_root_used"] == ["ok"]


def test_container_list_from_watchtower(fixture_path):
    containers = load(fixture_path, "containers-list-watchtower.json")
    entries = _docker.container_entries({"Containers": containers, "Images": []})
    assert len(entries) == len(containers)
    assert all(e["repo_digest"] is None for e in entries)


def test_absent():
    fact = _docker.absent("connecting to the Docker daemon at unix:///x: no such file")
    assert fact["present"] is False and "no such file" in fact["reason"] and fact["status"] == "ok"


@pytest.mark.parametrize("text, expected", [("10m", 10000000), ("1g", 1000000000), ("100k", 100000), ("500", 500),
                                            ("1.5m", 1500000), (None, None), ("ten", None)])
def test_parse_log_size(text, expected):
    assert _docker.parse_log_size(text) == expected


def test_volume_kinds_and_unused():
    df = {"Volumes": [
        {"Name": "a" * 64, "UsageData": {"Size": 10, "RefCount": 0}},
        {"Name": "webui-data", "UsageData": {"Size": 20, "RefCount": 0}},
        {"Name": "named-anon", "Labels": {"com.docker.volume.anonymous": ""}, "UsageData": {"Size": 5, "RefCount": 0}},
        {"Name": "used", "UsageData": {"Size": 7, "RefCount": 1}},
    ]}
    volumes = _docker.disk_usage(df)["volumes"]
    assert volumes == {"count": 4, "total_bytes": 42, "unused_anonymous_count": 2, "unused_anonymous_bytes": 15,
                       "unused_named_count": 1, "unused_named_bytes": 20}


def test_docker_section():
    assert _docker.docker_section(_docker.absent("x")) == ["docker: not present (x)"]
    lines = _docker.docker_section(_docker.shape({"Driver": "overlay2", "DockerRootDir": "/d"}, {"Version": "20.10"}, {}))
    assert lines[0].startswith("docker 20.10 (overlay2, root /d")


def test_configured_image_survives_a_moved_tag():
    # /containers/json shows the image ID once the tag moved; the collector adds Config.Image.
    listed = {"Id": "x", "Names": ["/app"], "Image": "sha256:" + "a" * 64, "ImageID": "sha256:" + "a" * 64, "State": "running"}
    [entry] = _docker.container_entries({"Containers": [dict(listed, ConfiguredImage="app:1")]})
    assert entry["image"] == "app:1"
    assert _docker.configured_image({"Config": {"Image": "app:2"}, "Image": "sha256:x"}) == "app:2"
    assert _docker.configured_image(listed) == listed["Image"]
