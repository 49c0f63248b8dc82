"""Area host: the checks table and its verdicts (values hand-computed, boundaries from the table)."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.host import AREA, checks

LIMITS = AREA.checks.defaults()


@pytest.mark.parametrize("used_pct, status", [(79.9, "ok"), (80, "warn"), (84.9, "warn"), (85, "crit"), (99, "crit")])
def test_disk_checks_thresholds(used_pct, status):
    disks = [{"path": "/srv", "present": True, "mount": "/srv", "used_pct": used_pct}]
    check = checks.disk_checks(disks, LIMITS)[0]
    assert check["status"] == status
    assert check["path"] == "/srv"


def test_absent_path_is_reported_ok():
    check = checks.disk_checks([{"path": "/var/lib/ollama", "present": False}], LIMITS)[0]
    assert check["status"] == "ok"
    assert "does not exist" in check["message"]


def test_memory_check_low_available_memory_is_crit():
    check = checks.memory_check({"memory_available_pct": 5.0}, LIMITS)
    assert check["status"] == "crit"
    assert check["value"] == 5.0
