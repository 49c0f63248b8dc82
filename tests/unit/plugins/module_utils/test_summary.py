import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._summary import human_bytes, human_duration, summary_lines

HOST = {
    "hostname": "gpu-ws-01", "kernel_release": "6.1.0-28-amd64", "uptime_s": 93784, "load_1m": 0.5,
    "memory_total_bytes": 64 * 1024 ** 3, "memory_available_bytes": 48 * 1024 ** 3,
    "disks": [
        {"path": "/", "present": True, "used_pct": 86.0, "free_bytes": 10 * 1024 ** 3, "size_bytes": 100 * 1024 ** 3, "mount": "/"},
        {"path": "/var/lib/ollama", "present": False},
    ],
    "checks": [
        {"check": "disk_used", "status": "crit", "message": "disk use of / (/) is 86 %"},
        {"check": "memory_available", "status": "ok", "message": "fine"},
    ],
    "status": "crit",
}


@pytest.mark.parametrize("number, text", [(None, "n/a"), (512, "512 B"), (1536, "1.5 KiB"), (3 * 1024 ** 3, "3.0 GiB")])
def test_human_bytes(number, text):
    assert human_bytes(number) == text


@pytest.mark.parametrize("seconds, text", [(None, "n/a"), (59, "0m"), (3660, "1h 1m"), (93784, "1d 2h 3m")])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_summary_lines_host_section_and_problems():
    lines = summary_lines({"gpufleet_host": HOST, "gpufleet_unknown": {"status": "warn"}})
    assert lines == [
        "status: CRIT",
        "host gpu-ws-01: kernel 6.1.0-28-amd64, up 1d 2h 3m, load 0.50",
        "memory: 48.0 GiB available of 64.0 GiB",
        "disk /: 86.0% used (10.0 GiB free of 100.0 GiB) on /",
        "disk /var/lib/ollama: not present",
        "CRIT disk_used: disk use of / (/) is 86 %",
    ]


def test_summary_lines_without_facts_is_ok():
    assert summary_lines({"gpufleet_host": None}) == ["status: OK"]


def test_summary_lines_rejects_non_dict():
    with pytest.raises(TypeError):
        summary_lines(["x"])
