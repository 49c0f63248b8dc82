import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._summary import summary, summary_lines

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


TLS_CRIT = {
    "schema_version": 1,
    "endpoints": [{"endpoint": "caddy", "answered": True, "not_after": "2026-12-05T00:00:00Z", "days_left": 1.5,
                   "subject": "box.example", "error": None}],
    "checks": [{"check": "tls_days_left", "status": "crit", "value": 1.5, "threshold": 7, "subject": {"endpoint": "caddy"},
                "message": "TLS certificate of caddy: days left is 1.5 days (critical at 7 days): renew it"}],
    "status": "crit",
}


def test_the_summary_counts_the_tls_area_regression_weekly_said_ok_while_the_report_said_crit():
    # Issue 17's first defect: the summary had no section for gpufleet_tls and ignored its status.
    result = summary({"gpufleet_host": dict(HOST, checks=[], status="ok"), "gpufleet_tls": TLS_CRIT})
    assert result["status"] == "crit"
    assert "tls caddy: expires 2026-12-05T00:00:00Z (1.5 days left)" in result["lines"]
    assert result["lines"][0] == "status: CRIT"
    assert [p["check"] for p in result["problems"]] == ["tls_days_left"]


def test_every_area_of_the_registry_has_a_summary_section():
    assert [area.name for area in registry.areas() if area.present is None] == []


def test_unknown_is_worse_than_ok_in_the_summary():
    unknown = {"checks": [{"check": "engine", "status": "unknown", "message": "could not look: no SDK"}], "status": "unknown"}
    result = summary({"gpufleet_host": dict(HOST, checks=[], status="ok"), "gpufleet_docker": unknown})
    assert result["status"] == "unknown"
    assert result["lines"][-1] == "UNKNOWN engine: could not look: no SDK"
