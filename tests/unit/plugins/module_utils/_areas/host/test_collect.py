"""Area host: reading a built /proc tree, and the whole area through its registry entry."""

import os

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.host import AREA, checks, collect

MEMINFO = """MemTotal:       24634396 kB
MemFree:        23123456 kB
MemAvailable:    1231720 kB
"""


def test_gather_on_a_built_root(tmp_path):
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "uptime").write_text("3600.5 100.0\n")
    (proc / "loadavg").write_text("1.50 1.00 0.50 1/2 3\n")
    (proc / "meminfo").write_text(MEMINFO)
    (proc / "self" / "mounts").write_text("/dev/root / ext4 rw 0 0\n")
    params = AREA.validate({"paths": [str(tmp_path), "/nonexistent-gpufleet"], "thresholds": {"disk_used_warn_pct": 1}})
    facts, warnings = collect.collect(None, params, root=str(tmp_path))
    facts["checks"] = checks.evaluate(facts, params)
    assert warnings == []
    assert facts["uptime_s"] == 3600
    assert facts["load_1m"] == 1.5
    assert params["thresholds"]["disk_used_warn_pct"] == 1
    assert params["thresholds"]["disk_used_crit_pct"] == 85
    present, absent = facts["disks"]
    assert present["present"] is True and present["device"] == "/dev/root"
    st = os.statvfs(str(tmp_path))
    assert present["size_bytes"] == st.f_blocks * st.f_frsize
    assert absent == {"path": "/nonexistent-gpufleet", "present": False, "mount": None, "device": None, "fstype": None,
                      "size_bytes": None, "used_bytes": None, "free_bytes": None, "used_pct": None}
    # MemAvailable 1231720 kB of MemTotal 24634396 kB is 5.0 %: at the crit threshold (5 %).
    assert [(c["check"], c["status"]) for c in facts["checks"]] == [
        ("disk_used", "warn" if present["used_pct"] < 85 else "crit"), ("disk_used", "ok"), ("memory_available", "crit")]


def test_gather_warns_on_unreadable_proc(tmp_path):
    facts, warnings = collect.collect(None, {"paths": ["/"]}, root=str(tmp_path))
    assert facts["uptime_s"] is None
    assert facts["memory_total_bytes"] is None
    assert any("could not read /proc/uptime" in w for w in warnings)


def test_the_area_gathers_this_host_into_one_fact_with_status():
    params = AREA.validate({"paths": ["/"]})
    fact, warnings = AREA.gather(None, params)
    assert warnings == []
    assert fact["schema_version"] == 1 and fact["hostname"]
    assert fact["thresholds"] == {"disk_used_warn_pct": 80, "disk_used_crit_pct": 85,
                                  "memory_available_warn_pct": 10, "memory_available_crit_pct": 5}
    assert fact["disks"][0]["mount"] == "/"
    assert [c["subject"] for c in fact["checks"]] == [{"path": "/"}, {}]
    # The rollup is the worst of the checks (ok < unknown < warn < crit).
    assert fact["status"] == max((c["status"] for c in fact["checks"]), key=["ok", "unknown", "warn", "crit"].index)


def test_on_macos_the_disks_are_read_and_memory_is_left_to_the_macos_area(tmp_path, monkeypatch):
    # macOS has no /proc: no warnings about it, the load from getloadavg, no memory_available verdict
    # (the macos area judges memory pressure), the disk checks as anywhere
    monkeypatch.setattr(os, "getloadavg", lambda: (1.5, 1.0, 0.5))
    params = AREA.validate({"paths": [str(tmp_path)]})
    facts, warnings = collect.collect(None, params, system="Darwin")
    assert warnings == []
    assert (facts["load_1m"], facts["load_5m"], facts["load_15m"]) == (1.5, 1.0, 0.5)
    assert facts["memory_available_pct"] is None and facts["disks"][0]["present"] is True
    assert [c["check"] for c in checks.evaluate(facts, params)] == ["disk_used"]
