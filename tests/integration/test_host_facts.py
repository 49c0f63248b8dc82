"""host_facts through the real Ansible on this machine, and the daily playbook's summary."""

import os
import platform
import socket
import subprocess

import pytest

from testlib.ansible_run import run_module, run_playbook

pytestmark = pytest.mark.integration


def _df_used_pct(path):
    """``df``'s Use% of ``path`` (coreutils: used / (used + available), rounded up)."""
    out = subprocess.run(["df", "--output=pcent", path], capture_output=True, text=True, check=True).stdout
    return int(out.splitlines()[1].strip().rstrip("%"))


def _mem_available_pct():
    with open("/proc/meminfo") as handle:
        info = dict((line.split(":")[0], int(line.split()[1])) for line in handle)
    return 100.0 * info["MemAvailable"] / info["MemTotal"]


def test_host_facts_reports_this_machine():
    # Thresholds placed, from df and /proc/meminfo read here, where this machine is clearly ok
    # (10 points of margin: other tests write to the same disk meanwhile).
    disk, memory = _df_used_pct("/"), _mem_available_pct()
    thresholds = {"disk_used_warn_pct": min(disk + 10, 99.0), "disk_used_crit_pct": min(disk + 11, 99.5),
                  "memory_available_warn_pct": max(memory - 10, 0.2), "memory_available_crit_pct": max(memory - 11, 0.1)}
    result = run_module("gpufleet.maintenance.host_facts", {"paths": ["/", "/nonexistent-gpufleet-path"], "thresholds": thresholds})
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    fact = result["ansible_facts"]["gpufleet_host"]
    assert fact["kernel_release"] == platform.release()
    assert fact["hostname"] == socket.gethostname()
    root, absent = fact["disks"]
    st = os.statvfs("/")
    assert root["mount"] == "/"
    assert root["size_bytes"] == st.f_blocks * st.f_frsize
    assert abs(root["used_pct"] - disk) <= 1  # df rounds up to a whole percent
    assert absent["present"] is False and absent["used_pct"] is None
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("disk_used", "ok"), ("disk_used", "ok"), ("memory_available", "ok")]
    assert fact["status"] == "ok"
    # Memory available above 100 % is impossible: with both thresholds there, the check is crit.
    tight = dict(thresholds, memory_available_warn_pct=100, memory_available_crit_pct=99.99)
    fact = run_module("gpufleet.maintenance.host_facts", {"paths": ["/"], "thresholds": tight})["ansible_facts"]["gpufleet_host"]
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("disk_used", "ok"), ("memory_available", "crit")]
    assert fact["status"] == "crit"


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


def test_daily_playbook_refuses_a_fail_level_it_does_not_know():
    # summary_fail_on given with -e overrides fleet_report_fail_on (whose choices the report checks first)
    proc = run_playbook("playbooks/daily.yml", ["-e", "summary_fail_on=sometimes"])
    assert proc.returncode != 0
    assert "summary_fail_on must be one of none, unknown, warn, crit, got: sometimes" in proc.stdout, proc.stdout[-3000:]


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


def test_health_upkeep_gathers_like_health_facts_and_rotates_only_when_asked(tmp_path):
    areas = {"areas": ["host", "driver_stack"], "host": {"paths": ["/"]}}
    alone = run_module("gpufleet.maintenance.health_upkeep", areas)
    assert alone.get("failed") is not True and alone["changed"] is False and alone["log_rotate"] is None, alone
    facts = run_module("gpufleet.maintenance.health_facts", areas)["ansible_facts"]
    assert sorted(alone["ansible_facts"]) == sorted(facts) == ["gpufleet_driver_stack", "gpufleet_host"]
    assert alone["ansible_facts"]["gpufleet_host"]["kernel_release"] == facts["gpufleet_host"]["kernel_release"]
    old = tmp_path / "old.log"
    old.write_text("x\n" * 100)
    os.utime(str(old), (1, 1))   # 1970: older than any retention
    rotate = dict(areas, log_rotate={"paths": [str(tmp_path)], "compress_days": 30, "delete_days": 365})
    planned = run_module("gpufleet.maintenance.health_upkeep", rotate, check=True)
    assert planned["changed"] is True and old.exists(), planned
    assert [(a["action"], a["path"]) for a in planned["log_rotate"]["actions"]] == [("delete", str(old))]
    done = run_module("gpufleet.maintenance.health_upkeep", rotate)
    assert done["changed"] is True and not old.exists() and done["log_rotate"]["freed_bytes"] == 200, done
    assert "gpufleet_host" in done["ansible_facts"] and "log_rotate" in done["seconds"]
    assert run_module("gpufleet.maintenance.health_upkeep", rotate)["changed"] is False


def test_health_upkeep_refuses_bad_options_before_reading_or_changing_anything(tmp_path):
    old = tmp_path / "old.log"
    old.write_text("x\n")
    os.utime(str(old), (1, 1))
    result = run_module("gpufleet.maintenance.health_upkeep", {
        "areas": ["host"], "log_rotate": {"paths": [str(tmp_path)], "compress_days": 30, "delete_days": 7}})
    assert result["failed"] is True and "delete_days (7) must not be below compress_days (30)" in result["msg"]
    assert "ansible_facts" not in result and old.exists()
    missing = run_module("gpufleet.maintenance.health_upkeep", {"areas": ["host"], "log_rotate": {"compress_days": 1}})
    assert missing["failed"] is True and "paths" in missing["msg"] and "log_rotate" in missing["msg"]
