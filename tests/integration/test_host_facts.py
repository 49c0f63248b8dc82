"""host_facts through the real Ansible on this machine, and the daily playbook's summary."""

import os
import platform
import socket

import pytest

from testlib.ansible_run import run_module, run_playbook

pytestmark = pytest.mark.integration


def test_host_facts_reports_this_machine():
    result = run_module("gpufleet.maintenance.host_facts", {"paths": ["/", "/nonexistent-gpufleet-path"]})
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    fact = result["ansible_facts"]["gpufleet_host"]
    assert fact["kernel_release"] == platform.release()
    assert fact["hostname"] == socket.gethostname()
    root, absent = fact["disks"]
    st = os.statvfs("/")
    assert root["mount"] == "/"
    assert root["size_bytes"] == st.f_blocks * st.f_frsize
    assert 0 < root["used_pct"] < 100
    assert absent["present"] is False and absent["used_pct"] is None
    assert fact["status"] in ("ok", "warn", "crit")
    assert {c["check"] for c in fact["checks"]} == {"disk_used", "memory_available"}


def test_host_facts_check_mode_is_the_same():
    result = run_module("gpufleet.maintenance.host_facts", {}, check=True)
    assert result["changed"] is False
    assert result["ansible_facts"]["gpufleet_host"]["disks"][0]["path"] == "/"


def test_host_facts_thresholds_drive_the_status():
    result = run_module("gpufleet.maintenance.host_facts", {"thresholds": {"disk_used_warn_pct": 0.01, "disk_used_crit_pct": 0.02}})
    fact = result["ansible_facts"]["gpufleet_host"]
    disk = [c for c in fact["checks"] if c["check"] == "disk_used"][0]
    assert disk["status"] == "crit" and disk["threshold"] == 0.02
    assert fact["status"] == "crit"


def test_host_facts_bad_thresholds_fail_cleanly():
    result = run_module("gpufleet.maintenance.host_facts", {"thresholds": {"disk_used_warn_pct": 90, "disk_used_crit_pct": 80}})
    assert result["failed"] is True
    assert "disk_used_crit_pct (80.0) must not be below disk_used_warn_pct (90.0)" in result["msg"]
    result = run_module("gpufleet.maintenance.host_facts", {"thresholds": {"disk_full_pct": 90}})
    assert result["failed"] is True and "disk_full_pct" in result["msg"]


def test_daily_playbook_prints_the_summary():
    proc = run_playbook("playbooks/daily.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "host %s: kernel %s" % (socket.gethostname(), platform.release()) in proc.stdout
    assert "disk /:" in proc.stdout and "% used" in proc.stdout
    assert ", up " in proc.stdout
    assert "failed=0" in proc.stdout


def test_daily_playbook_fails_the_host_on_request():
    proc = run_playbook("playbooks/daily.yml", ["-e", "summary_fail_on=crit",
                                                "-e", '{"host_health_thresholds": {"disk_used_warn_pct": 0.01, "disk_used_crit_pct": 0.02}}'])
    assert proc.returncode != 0
    assert "is CRIT" in proc.stdout


def test_health_facts_gathers_several_areas_like_their_modules():
    areas = {"areas": ["host", "gpu", "driver_stack", "exposure"], "host": {"paths": ["/"]}, "gpu": {"source": "auto"}}
    combined = run_module("gpufleet.maintenance.health_facts", areas)
    assert combined.get("failed") is not True, combined
    facts = combined["ansible_facts"]
    assert sorted(facts) == ["gpufleet_driver_stack", "gpufleet_exposure", "gpufleet_gpu", "gpufleet_host"]
    single = run_module("gpufleet.maintenance.host_facts", {"paths": ["/"]})["ansible_facts"]["gpufleet_host"]
    assert facts["gpufleet_host"]["kernel_release"] == single["kernel_release"]
    assert facts["gpufleet_host"]["disks"][0]["size_bytes"] == single["disks"][0]["size_bytes"]
    gpu = run_module("gpufleet.maintenance.gpu_facts", {})["ansible_facts"]["gpufleet_gpu"]
    assert facts["gpufleet_gpu"]["nvidia"]["present"] == gpu["nvidia"]["present"]
    assert set(combined["seconds"]) == {"host", "gpu", "driver_stack", "exposure"}


def test_health_facts_bad_options_fail_before_gathering():
    result = run_module("gpufleet.maintenance.health_facts", {"areas": ["host"], "host": {"paths": ["/"], "colour": 1}})
    assert result["failed"] is True and "host: unknown option(s) colour" in result["msg"]
