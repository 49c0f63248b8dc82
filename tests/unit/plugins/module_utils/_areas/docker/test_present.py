"""Area docker: the summary lines and the Prometheus metrics."""

import json

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import parse, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.prom import Families, parse_samples, render


def test_summary_lines():
    assert present.summary_lines(parse.absent("x")) == ["docker: not present (x)"]
    data = parse.shape({"Driver": "overlay2", "DockerRootDir": "/d"}, {"Version": "20.10"},
                       {"Images": [{"Id": "a", "Size": 2048, "Containers": 0, "RepoTags": ["a:1"]}]},
                       root_fs={"size_bytes": 100, "used_bytes": 44, "free_bytes": 56, "used_pct": 44.0})
    assert present.summary_lines(data) == [
        "docker 20.10 (overlay2, root /d 44.0% used)",
        "docker images 1 (2.0 KiB, 2.0 KiB unused), containers 0 running / 0 stopped, volumes 0 (0 B)"]


def test_reclaimable_bytes_per_category_from_the_disk_use(fixture_path):
    with open(fixture_path("docker_api", "system-df-apidocs-v1.39.json")) as handle:
        df = json.load(handle)
    df["Volumes"].append({"Name": "old-index", "UsageData": {"Size": 300, "RefCount": 0}})
    df["Images"].append({"Id": "sha256:unused", "Size": 5000, "SharedSize": 1000, "Containers": 0, "RepoTags": ["x:1"]})
    fact = parse.shape({}, {}, df)
    fam = Families()
    present.metrics(fact, fam)
    samples = dict((labels["category"], value) for labels, value in parse_samples(render(fam), "gpufleet_docker_reclaimable_bytes"))
    # hand-counted: the unused image holds 5000 - 1000 bytes of its own; the volume of 300 bytes has no user;
    # the capture lists no build cache (0), and its own image and volume are in use
    assert samples == {"images": 4000.0, "volumes": 300.0, "build_cache": 0.0}
