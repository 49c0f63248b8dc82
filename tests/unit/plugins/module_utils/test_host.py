import collections
import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _host

MEMINFO = """MemTotal:       24634396 kB
MemFree:        23123456 kB
MemAvailable:    1231720 kB
Buffers:           12345 kB
HugePages_Total:       0
"""

MOUNTS = """/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
/dev/nvme0n1p1 /srv/models xfs rw,relatime 0 0
/dev/sdb1 /mnt/My\\040Models ext4 rw 0 0
overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0
"""

Statvfs = collections.namedtuple("Statvfs", "f_blocks f_frsize f_bfree f_bavail")


def test_parse_uptime():
    assert _host.parse_uptime("93784.52 170000.11\n") == 93784
    assert _host.parse_uptime("") is None
    assert _host.parse_uptime("garbage") is None


def test_parse_loadavg():
    assert _host.parse_loadavg("0.71 0.52 0.40 2/345 6789\n") == {"load_1m": 0.71, "load_5m": 0.52, "load_15m": 0.40}
    assert _host.parse_loadavg("") == {"load_1m": None, "load_5m": None, "load_15m": None}


def test_parse_meminfo_converts_kb_to_bytes():
    memory = _host.parse_meminfo(MEMINFO)
    assert memory["memory_total_bytes"] == 24634396 * 1024
    assert memory["memory_available_bytes"] == 1231720 * 1024
    assert memory["memory_available_pct"] == 5.0


def test_parse_mounts_decodes_octal_escapes_and_finds_longest_prefix():
    mounts = _host.parse_mounts(MOUNTS)
    assert mounts[3]["mount"] == "/mnt/My Models"
    assert _host.mount_for("/srv/models/llama.gguf", mounts)["device"] == "/dev/nvme0n1p1"
    assert _host.mount_for("/srv/modelsX", mounts)["mount"] == "/"
    assert _host.mount_for("/mnt/My Models/x", mounts)["device"] == "/dev/sdb1"
    assert _host.mount_for("/", mounts)["device"] == "/dev/vda"


def test_disk_usage_matches_df_arithmetic():
    # 1000 blocks of 4 KiB, 300 free, 250 available to users (50 reserved).
    usage = _host.disk_usage(Statvfs(1000, 4096, 300, 250))
    assert usage == {"size_bytes": 4096000, "used_bytes": 2867200, "free_bytes": 1024000, "used_pct": 73.7}


@pytest.mark.parametrize("used_pct, status", [(79.9, "ok"), (80, "warn"), (84.9, "warn"), (85, "crit"), (99, "crit")])
def test_disk_checks_thresholds(used_pct, status):
    disks = [{"path": "/srv", "present": True, "mount": "/srv", "used_pct": used_pct}]
    check = _host.disk_checks(disks, _host.DEFAULT_THRESHOLDS)[0]
    assert check["status"] == status
    assert check["path"] == "/srv"


def test_absent_path_is_reported_ok():
    check = _host.disk_checks([{"path": "/var/lib/ollama", "present": False}], _host.DEFAULT_THRESHOLDS)[0]
    assert check["status"] == "ok"
    assert "does not exist" in check["message"]


def test_memory_check_low_available_memory_is_crit():
    check = _host.memory_check(_host.parse_meminfo(MEMINFO), _host.DEFAULT_THRESHOLDS)
    assert check["status"] == "crit"
    assert check["value"] == 5.0


def test_gather_on_a_built_root(tmp_path):
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "uptime").write_text("3600.5 100.0\n")
    (proc / "loadavg").write_text("1.50 1.00 0.50 1/2 3\n")
    (proc / "meminfo").write_text(MEMINFO)
    (proc / "self" / "mounts").write_text("/dev/root / ext4 rw 0 0\n")
    facts, warnings = _host.gather([str(tmp_path), "/nonexistent-gpufleet"], {"disk_used_warn_pct": 1}, root=str(tmp_path))
    assert warnings == []
    assert facts["schema_version"] == 1
    assert facts["uptime_s"] == 3600
    assert facts["load_1m"] == 1.5
    assert facts["thresholds"]["disk_used_warn_pct"] == 1
    assert facts["thresholds"]["disk_used_crit_pct"] == 85
    present, absent = facts["disks"]
    assert present["present"] is True and present["device"] == "/dev/root"
    st = os.statvfs(str(tmp_path))
    assert present["size_bytes"] == st.f_blocks * st.f_frsize
    assert absent == {"path": "/nonexistent-gpufleet", "present": False, "mount": None, "device": None, "fstype": None,
                      "size_bytes": None, "used_bytes": None, "free_bytes": None, "used_pct": None}
    assert facts["status"] == "crit"  # memory available 5 %
    assert [c["check"] for c in facts["checks"]] == ["disk_used", "disk_used", "memory_available"]


def test_gather_warns_on_unreadable_proc(tmp_path):
    facts, warnings = _host.gather(["/"], root=str(tmp_path))
    assert facts["uptime_s"] is None
    assert facts["memory_total_bytes"] is None
    assert any("could not read /proc/uptime" in w for w in warnings)
