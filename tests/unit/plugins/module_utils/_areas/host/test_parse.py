"""Area host: the /proc parsers and the df arithmetic."""

import collections

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.host import parse as _host

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
