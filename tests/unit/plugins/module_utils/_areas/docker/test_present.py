"""Area docker: the summary lines and the Prometheus metrics."""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import parse, present


def test_summary_lines():
    assert present.summary_lines(parse.absent("x")) == ["docker: not present (x)"]
    data = parse.shape({"Driver": "overlay2", "DockerRootDir": "/d"}, {"Version": "20.10"},
                       {"Images": [{"Id": "a", "Size": 2048, "Containers": 0, "RepoTags": ["a:1"]}]},
                       root_fs={"size_bytes": 100, "used_bytes": 44, "free_bytes": 56, "used_pct": 44.0})
    assert present.summary_lines(data) == [
        "docker 20.10 (overlay2, root /d 44.0% used)",
        "docker images 1 (2.0 KiB, 2.0 KiB unused), containers 0 running / 0 stopped, volumes 0 (0 B)"]
