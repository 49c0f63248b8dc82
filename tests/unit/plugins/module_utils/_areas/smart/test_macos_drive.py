"""The smart area on a Mac (issue 20, part 3): a real `smartctl -x -j` of an Apple Silicon internal NVMe
drive (tests/unit/fixtures/macos/PROVENANCE.md), read without pySMART as on macOS's /usr/bin/python3.

Apple's controller cannot run self-tests (``nvme_optional_admin_commands.self_test: false``) nor return
its error log (exit status 4, bit 2): neither may give a Mac a standing warning, and pySMART's absence,
which the collection does not remedy on a Mac, is not an "unknown" once --json read every drive.
"""

import json
import os

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import AREA, checks, collect
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import smartctl
from testlib.local_run import run_command
from testlib.smartctl import install_fake_smartctl

MACOS_FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "macos")
CAPTURE = "smartctl-x-json-apple-ssd-ap0512z-darwin25.json"


def mac_gather(tmp_path, monkeypatch, system="Darwin"):
    monkeypatch.setattr(smartctl, "HAS_PYSMART", False)
    monkeypatch.setattr(smartctl, "PYSMART_IMPORT_ERROR", ImportError("No module named 'pySMART'"))
    path, _log = install_fake_smartctl(tmp_path, {"disk0": {"type": "nvme", "json": CAPTURE, "rc": 4}})
    scenario = os.path.join(str(tmp_path), "scenario.json")
    with open(scenario) as handle:
        table = json.load(handle)
    table["fixtures"] = os.path.abspath(MACOS_FIXTURES)
    with open(scenario, "w") as handle:
        json.dump(table, handle)
    params = AREA.validate({"smartctl_path": path})
    data, warnings = collect.collect(run_command, params, euid=0, mounts_text="", system=system)
    found = checks.evaluate(data, params)
    return dict(data, checks=found, status=worst_status(found)), warnings


def by_check(checks_list):
    return dict((c["check"], c) for c in checks_list)


def test_an_apple_ssd_is_read_and_judged_healthy(tmp_path, monkeypatch):
    fact, warnings = mac_gather(tmp_path, monkeypatch)
    [drive] = fact["devices"]
    # the capture: APPLE SSD AP0512Z, 3 % used, 174266959 data units written (x 512000 bytes), 34 C, exit status 4
    assert (drive["model"], drive["state"], drive["wear_pct_used"], drive["temperature_c"], drive["exit_status"]) == (
        "APPLE SSD AP0512Z", "active", 3, 34, 4)
    assert drive["data_written_bytes"] == 174266959 * 512000
    assert drive["self_test_supported"] is False
    statuses = dict((name, c["status"]) for name, c in by_check(drive["checks"]).items())
    assert statuses["self_test"] == "ok" and "does not support self-tests" in by_check(drive["checks"])["self_test"]["message"]
    assert set(statuses.values()) == {"ok"}
    host = by_check([c for c in fact["checks"] if not c.get("subject")])
    assert host["pysmart_present"]["status"] == "ok"
    assert "every drive (1) was read from smartctl --json" in host["pysmart_present"]["message"]
    assert fact["status"] == "ok"
    assert any("pySMART is not importable" in w for w in warnings)


def test_on_linux_the_same_drive_still_asks_for_pysmart(tmp_path, monkeypatch):
    fact, _warnings = mac_gather(tmp_path, monkeypatch, system="Linux")
    host = by_check([c for c in fact["checks"] if not c.get("subject")])
    assert host["pysmart_present"]["status"] == "unknown"
    assert "gpufleet.maintenance.prerequisites" in host["pysmart_present"]["message"]


def test_a_drive_that_can_self_test_but_never_did_still_warns():
    record = {"self_test_supported": True, "self_tests": {"short": None, "long": None, "count": 0}}
    result = checks._self_test(record, {"device": "disk0"}, "disk0", {"self_test_max_age_days": 35})
    assert result["status"] == "warn"
    unknown_support = checks._self_test({"self_tests": {}}, {"device": "disk0"}, "disk0", {"self_test_max_age_days": 35})
    assert unknown_support["status"] == "warn"
