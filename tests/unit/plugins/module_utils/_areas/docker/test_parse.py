"""Area docker: the readings shaped from recorded Engine API responses (tests/unit/fixtures/docker_api)."""

import json

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import parse


def load(fixture_path, name):
    with open(fixture_path("docker_api", name)) as handle:
        return json.load(handle)


@pytest.fixture
def api(fixture_path):
    return (load(fixture_path, "info-apidocs-v1.34.json"), load(fixture_path, "version-apidocs-v1.36.json"),
            load(fixture_path, "system-df-apidocs-v1.39.json"))


def test_shape_from_api_docs(api):
    info, version, df = api
    fs = {"size_bytes": 1000, "used_bytes": 850, "free_bytes": 100, "used_pct": 89.5}
    data = parse.shape(info, version, df, root_fs=fs, log_sizes={df["Containers"][0]["Id"]: 2 * 1024 ** 3},
                       daemon_config={"log-driver": "json-file", "log-opts": {"max-size": "50m", "max-file": "3"}, "data-root": "/x"})
    assert data["present"] is True and data["reason"] is None
    assert data["engine_version"] == version["Version"] and data["api_version"] == version["ApiVersion"]
    assert data["storage_driver"] == "overlay2" and data["root_dir"] == "/var/lib/docker"
    assert data["runtimes"] == ["custom", "runc", "runc-master"] and data["nvidia_runtime"] is False
    assert data["default_runtime"] == "runc"
    assert data["log_max_size"] == "50m" and data["log_max_size_bytes"] == 50000000 and data["log_max_file"] == 3
    assert data["root_fs"] == fs
    usage = data["disk_usage"]
    assert usage["images"] == {"count": 1, "total_bytes": 1092588, "dangling_count": 0, "dangling_bytes": 0,
                               "unused_count": 0, "unused_bytes": 0}
    assert usage["containers"]["stopped"] == 1 and usage["containers"]["running"] == 0
    assert usage["containers"]["logs_bytes"] == 2 * 1024 ** 3
    assert usage["volumes"]["count"] == 1 and usage["volumes"]["total_bytes"] == 10920104
    assert usage["volumes"]["unused_named_count"] == 0  # RefCount 2
    [entry] = data["containers"]
    assert entry["name"] == "top" and entry["image"] == "busybox" and entry["pinned_by_digest"] is False
    assert entry["repo_digest"] == "sha256:a59906e33509d14c036c8678d687bd4eec81ed7c4b8ce907b888c607f6a1e0e6"
    assert entry["log_bytes"] == 2 * 1024 ** 3


def test_older_engines(fixture_path):
    info = load(fixture_path, "info-devicemapper-telegraf.json")
    data = parse.shape(info, {}, {})
    assert data["storage_driver"] == "devicemapper"
    assert data["engine_version"] == info.get("ServerVersion")
    assert data["disk_usage"]["images"]["count"] == 0 and data["containers"] == []
    assert data["root_fs"] is None


def test_container_list_from_watchtower(fixture_path):
    containers = load(fixture_path, "containers-list-watchtower.json")
    entries = parse.container_entries({"Containers": containers, "Images": []})
    assert len(entries) == len(containers)
    assert all(e["repo_digest"] is None for e in entries)


def test_absent():
    data = parse.absent("connecting to the Docker daemon at unix:///x: no such file")
    assert data == {"present": False, "reason": "connecting to the Docker daemon at unix:///x: no such file",
                    "install_evidence": [], "sdk": True, "too_old": False}
    data = parse.absent("the SDK is missing", ["/usr/sbin/dockerd"], sdk=False)
    assert (data["install_evidence"], data["sdk"]) == (["/usr/sbin/dockerd"], False)


@pytest.mark.parametrize("text, expected", [("10m", 10000000), ("1g", 1000000000), ("100k", 100000), ("500", 500),
                                            ("1.5m", 1500000), (None, None), ("ten", None)])
def test_parse_log_size(text, expected):
    assert parse.parse_log_size(text) == expected


@pytest.mark.parametrize("text, config, error", [
    (None, {}, None),
    ("  \n", {}, None),
    ('{"log-opts": {"max-size": "10m"}}', {"log-opts": {"max-size": "10m"}}, None),
    ("{not json", {}, "/etc/docker/daemon.json could not be read as JSON: "),
    ("[1, 2]", {}, "/etc/docker/daemon.json does not hold a JSON object"),
])
def test_parse_daemon_json(text, config, error):
    found, problem = parse.parse_daemon_json(text, "/etc/docker/daemon.json")
    assert found == config
    assert (problem is None) if error is None else problem.startswith(error)


def test_volume_kinds_and_unused():
    df = {"Volumes": [
        {"Name": "a" * 64, "UsageData": {"Size": 10, "RefCount": 0}},
        {"Name": "webui-data", "UsageData": {"Size": 20, "RefCount": 0}},
        {"Name": "named-anon", "Labels": {"com.docker.volume.anonymous": ""}, "UsageData": {"Size": 5, "RefCount": 0}},
        {"Name": "used", "UsageData": {"Size": 7, "RefCount": 1}},
    ]}
    volumes = parse.disk_usage(df)["volumes"]
    assert volumes == {"count": 4, "total_bytes": 42, "unused_anonymous_count": 2, "unused_anonymous_bytes": 15,
                       "unused_named_count": 1, "unused_named_bytes": 20}


def test_configured_image_survives_a_moved_tag():
    # /containers/json shows the image ID once the tag moved; the collector adds Config.Image.
    listed = {"Id": "x", "Names": ["/app"], "Image": "sha256:" + "a" * 64, "ImageID": "sha256:" + "a" * 64, "State": "running"}
    [entry] = parse.container_entries({"Containers": [dict(listed, ConfiguredImage="app:1")]})
    assert entry["image"] == "app:1"
