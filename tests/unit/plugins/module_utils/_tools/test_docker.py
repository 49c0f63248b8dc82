"""_tools/docker: the engine client's error handling and the helpers that read Engine API dicts."""

import json
import os

import pytest
import requests
from docker.errors import APIError

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import docker as engine


class Response:
    def __init__(self, status):
        self.status_code = status
        self.reason = "x"


def refuse(exc):
    def call(*_args, **_kwargs):
        raise exc
    return call


def test_call_names_the_step_and_keeps_the_engines_status():
    with pytest.raises(engine.EngineError) as caught:
        engine.call("removing image app:1", refuse(APIError("conflict", response=Response(409), explanation="image is in use")))
    assert str(caught.value) == "removing image app:1: image is in use"
    assert caught.value.status == 409 and caught.value.step == "removing image app:1"
    with pytest.raises(engine.EngineError) as caught:
        engine.call("reading /info", refuse(requests.exceptions.ReadTimeout("Read timed out. (read timeout=5)")))
    assert caught.value.status is None and caught.value.error == "Read timed out. (read timeout=5)"
    assert engine.call("adding", lambda a, b=0: a + b, 1, b=2) == 3


def test_connect_to_a_socket_nobody_listens_on_names_the_address(tmp_path):
    with pytest.raises(engine.EngineError) as caught:
        engine.connect("unix://%s/absent.sock" % tmp_path, timeout=5)
    assert caught.value.step == "connecting to the Docker daemon at unix://%s/absent.sock" % tmp_path


def test_daemon_address_order(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert engine.daemon_address("unix:///x.sock") == "unix:///x.sock"
    assert engine.daemon_address() == "tcp://127.0.0.1:2375"
    monkeypatch.delenv("DOCKER_HOST")
    assert engine.daemon_address() == "unix:///var/run/docker.sock"


def test_remove_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="cannot remove a 'networks'"):
        engine.remove(None, "networks", {"id": "n1"})


def test_configured_image_survives_a_moved_tag():
    # /containers/json shows the image ID once the tag moved; the collector adds Config.Image.
    listed = {"Id": "x", "Names": ["/app"], "Image": "sha256:" + "a" * 64, "ImageID": "sha256:" + "a" * 64, "State": "running"}
    assert engine.configured_image(dict(listed, ConfiguredImage="app:1")) == "app:1"
    assert engine.configured_image({"Config": {"Image": "app:2"}, "Image": "sha256:x"}) == "app:2"
    assert engine.configured_image(listed) == listed["Image"]


def test_names_tags_and_kinds_of_engine_objects():
    assert engine.container_name({"Names": ["/ollama"]}) == "ollama"
    assert engine.container_name({"Name": "/webui"}) == "webui"
    assert engine.container_name({"Id": "0123456789abcdef"}) == "0123456789ab"
    assert engine.is_dangling({"RepoTags": ["<none>:<none>"]}) and engine.is_dangling({"RepoTags": None})
    assert not engine.is_dangling({"RepoTags": ["ollama/ollama:0.5.7"]})
    assert engine.repo_tags({"RepoTags": ["docker.io/library/busybox:1", "<none>:<none>"]}) == [("busybox", "1")]
    assert engine.is_anonymous_volume({"Name": "a" * 64})
    assert engine.is_anonymous_volume({"Name": "x", "Labels": {"com.docker.volume.anonymous": ""}})
    assert not engine.is_anonymous_volume({"Name": "webui-data"})
    assert engine.container_volume_names({"Mounts": [{"Type": "volume", "Name": "v"}, {"Type": "bind", "Source": "/x"}]}) == ["v"]
    assert (engine.size(5), engine.size(-1), engine.size(None)) == (5, 0, 0)


# Named volumes for the backup (issue 20 part 6), on engine captures (fixtures/docker_api/PROVENANCE.md)

def _fixture(name):
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "docker_api", name)) as handle:
        return json.load(handle)


ANON = "c196091b1589f70cba68b28098480a04c2e021b990c7c451a7ff361824fecb62"


@pytest.mark.parametrize("patterns, selected, unmatched", [
    (["*"], ["open-webui", "qdrant_storage"], []),            # every named volume, never the anonymous one
    (["open-*"], ["open-webui"], []),
    (["qdrant_storage", "open-webui"], ["open-webui", "qdrant_storage"], []),
    (["qdrant_storage", "ollama"], ["qdrant_storage"], ["ollama"]),
    ([ANON], [], [ANON]),                                      # an anonymous volume cannot be asked for by name either
    (["Open-*"], [], ["Open-*"]),                              # names are case-sensitive, as the engine's
])
def test_select_volumes(patterns, selected, unmatched):
    volumes = _fixture("volumes-list-engine20.10.json")["Volumes"]
    assert ANON in [v["Name"] for v in volumes]
    chosen, missing = engine.select_volumes(volumes, patterns)
    assert ([v["Name"] for v in chosen], missing) == (selected, unmatched)


def test_helper_image_is_the_image_of_a_container_using_the_volume_else_the_smallest():
    containers = _fixture("containers-list-volume-mounts-engine20.10.json")
    images = [{"Id": "sha256:big", "Size": 700 * 1024 * 1024}, {"Id": "sha256:small", "Size": 2 * 1024 * 1024},
              {"Id": "sha256:unknown", "Size": -1}]
    assert engine.helper_image("open-webui", containers, images) == containers[0]["ImageID"]
    assert engine.helper_image("qdrant_storage", containers, images) == "sha256:unknown"  # -1 (not computed) counts as 0
    assert engine.helper_image("qdrant_storage", containers, images[:2]) == "sha256:small"
    assert engine.helper_image("qdrant_storage", [], []) is None
