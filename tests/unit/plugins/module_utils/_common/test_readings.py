"""_common.readings: declared readings become history rows with key=value subjects."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading, extract

FACT = {
    "uptime_s": 3600,
    "flag": True,
    "disks": [{"path": "/", "used_pct": 41.5}, {"path": "/srv", "used_pct": None}, {"used_pct": 9.0}, "junk"],
    "nvidia": {"gpus": [{"index": 0, "temperature_c": 71}, {"index": 1, "temperature_c": 69.5}]},
    "results": [{"prompt": "short", "ttft_s": {"median": 0.41, "p95": 0.6}}],
}


def test_plain_nested_and_list_readings_with_subjects():
    rows = extract("x", FACT, (
        Reading("uptime_s"),
        Reading("flag"),  # a bool is not a reading
        Reading("missing_c"),
        Reading("disks[].used_pct", subject=("path", "path")),
        Reading("nvidia.gpus[].temperature_c", subject=("gpu", "index")),
        Reading("results[].ttft_s.median", subject=("prompt", "prompt")),
    ))
    assert rows == [
        ("x.uptime_s", "", 3600.0),
        ("x.disks.used_pct", "path=/", 41.5),  # None and an entry without a path are not readings
        ("x.nvidia.gpus.temperature_c", "gpu=0", 71.0),
        ("x.nvidia.gpus.temperature_c", "gpu=1", 69.5),
        ("x.results.ttft_s.median", "prompt=short", 0.41),
    ]


def test_a_list_path_needs_a_subject_and_only_one_list_level():
    with pytest.raises(ValueError, match="needs subject"):
        Reading("disks[].used_pct")
    with pytest.raises(ValueError, match="at most one list level"):
        Reading("a[].b[].c", subject=("a", "b"))


def test_a_subject_of_several_keys_is_read_from_each_entry():
    fact = {"probe": {"results": [{"model": "gemma3:4b", "prompt": "health", "ttft_s": {"median": 0.41}},
                                  {"model": "gemma3:4b", "prompt": "", "ttft_s": {"median": 0.5}},
                                  {"model": "gemma3:4b", "prompt": "chat", "ttft_s": {"median": None}}]}}
    reading = Reading("probe.results[].ttft_s.median", subject=(("model", "model"), ("prompt", "prompt")))
    assert reading.values(fact) == [({"model": "gemma3:4b", "prompt": "health"}, 0.41)]
    assert extract("benchmark", fact, [reading]) == [("benchmark.probe.results.ttft_s.median",
                                                      "model=gemma3:4b,prompt=health", 0.41)]
