"""smart_facts and the ssd_wear role through the real Ansible; the real smartctl on this machine's disk.

Drives are replayed by the stand-in smartctl (tests/testlib/fake_smartctl.py) from real captures;
the unsupported path runs the real smartctl (smartmontools) against a real block device (a loop
device over a sparse file, which any CI machine can attach).
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import AREA, collect as smart_collect
from testlib.ansible_run import run_module, run_playbook
from testlib.smartctl import calls, install_fake_smartctl
from testlib.system import apt_ensure, loop_device

pytestmark = pytest.mark.integration

DRIVES = {
    "/dev/nvme0": {"type": "nvme", "text": "text-nvme-twsc-tsc3an1t0-smartctl75.txt"},
    "/dev/nvme1": {"type": "nvme", "json": "json-nvme-intel-660p-1tb-qlc.json"},
    "/dev/sda": {"type": "sat", "json": "json-sata-hdd-wd-hc550-16tb-exit64.json"},
    "/dev/sdb": {"type": "sat", "text": "text-sata-hdd-seagate-st2000nm000a-smartctl64.txt", "standby": True},
}


def run_command(args, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
    env = dict(os.environ)
    env.update(environ_update or {})
    proc = subprocess.run(args, capture_output=True, text=True, env=env, input=data, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def fake(tmp_path):
    return install_fake_smartctl(tmp_path / "bin", DRIVES)


def test_module_reads_replayed_drives(fake):
    path, log = fake
    result = run_module("gpufleet.maintenance.smart_facts", {"smartctl_path": path, "rated_tbw": {"INTEL SSDPEKNW010T8": 200}})
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    fact = result["ansible_facts"]["gpufleet_smart"]
    by_name = {d["name"]: d for d in fact["devices"]}
    assert sorted(by_name) == sorted(DRIVES)
    assert by_name["/dev/nvme0"]["data_written_bytes"] == 771163648000
    qlc = by_name["/dev/nvme1"]
    assert qlc["nand_type"] == "qlc" and qlc["tbw_used_pct"] == 1.99 and qlc["unsafe_shutdowns"] == 43
    assert by_name["/dev/sda"]["exit_status_words"] == ["error log has errors"]
    assert by_name["/dev/sdb"]["state"] == "standby"
    assert fact["status"] == "warn"  # no drive has a recent self-test
    assert not [argv for argv in calls(log) if "-t" in argv]


def test_health_facts_gathers_the_smart_area_like_smart_facts(fake):
    path, _log = fake
    options = {"smartctl_path": path, "devices": ["/dev/nvme1:nvme", "/dev/sda:sat"], "rated_tbw": {"INTEL SSDPEKNW010T8": 200}}
    alone = run_module("gpufleet.maintenance.smart_facts", options)["ansible_facts"]["gpufleet_smart"]
    result = run_module("gpufleet.maintenance.health_facts", {"areas": ["host", "smart"], "smart": options})
    assert result.get("failed") is not True, result
    assert set(result["seconds"]) == {"host", "smart"}
    fact = result["ansible_facts"]["gpufleet_smart"]
    # the same drives, values and verdicts as smart_facts (the read time aside)
    assert [d["name"] for d in fact["devices"]] == ["/dev/nvme1", "/dev/sda"]
    assert fact["devices"][0]["tbw_used_pct"] == 1.99 and fact["devices"][1]["exit_status"] == 64
    assert [(c["check"], c["subject"], c["status"]) for c in fact["checks"]] == \
        [(c["check"], c["subject"], c["status"]) for c in alone["checks"]]
    assert fact["status"] == alone["status"] == "warn"
    bad = run_module("gpufleet.maintenance.health_facts", {"areas": ["smart"], "smart": {"smartctl_path": path, "wake": "sometimes"}})
    assert bad["failed"] is True and "smart" in bad["msg"] and "wake" in bad["msg"]


def test_options_out_of_range_fail_naming_the_option(fake):
    path, log = fake
    result = run_module("gpufleet.maintenance.smart_facts", {"smartctl_path": path, "timeout": 0})
    assert result["failed"] is True and "timeout must be at least 1 (got 0)" in result["msg"]
    both = {"areas": ["host", "smart"], "smart": {"smartctl_path": path, "timeout": -5}}
    result = run_module("gpufleet.maintenance.health_facts", both)
    assert result["failed"] is True and "smart: timeout must be at least 1 (got -5)" in result["msg"]
    result = run_module("gpufleet.maintenance.smart_facts", {"smartctl_path": path, "rated_tbw": {"INTEL SSDPEKNW010T8": 0}})
    assert result["failed"] is True and "rated_tbw: values must be numbers of TB written above 0" in result["msg"]
    assert calls(log) == []  # refused before smartctl ran


def test_ssd_wear_role_on_a_python_without_pysmart(fake, tmp_path):
    """A fresh host: its Python has no pySMART (a bare virtual environment of this machine's python3).

    The quarterly role used to fail there ("Failed to import the required Python library (pySMART)");
    now the JSON drives are read, the text-only drive is unreadable and the area says unknown, not ok.
    """
    path, log = fake
    bare = tmp_path / "bare"
    subprocess.run([shutil.which("python3") or sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = str(bare / "bin" / "python")
    assert subprocess.run([python, "-c", "import pySMART"], capture_output=True, check=False).returncode != 0
    varfile = tmp_path / "vars.json"
    varfile.write_text(json.dumps({"ansible_python_interpreter": python, "ssd_wear_smartctl_path": path,
                                   "ssd_wear_critical_paths": []}))
    proc = run_playbook("tests/integration/files/ssd_wear_play.yml", ["-e", "@%s" % varfile], json_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tasks = dict((task["task"]["name"].split(" : ")[-1], task["hosts"]["localhost"])
                 for task in json.loads(proc.stdout)["plays"][0]["tasks"])
    fact = tasks["Read the SMART data of the drives"]["ansible_facts"]["gpufleet_smart"]
    assert fact["pysmart_present"] is False
    by_name = {d["name"]: d for d in fact["devices"]}
    assert by_name["/dev/nvme1"]["state"] == "active" and by_name["/dev/nvme1"]["unsafe_shutdowns"] == 43
    assert by_name["/dev/sda"]["exit_status_words"] == ["error log has errors"]
    # the TWSC capture is text only and this stand-in answers --json like smartctl 6.x: nothing read
    assert by_name["/dev/nvme0"]["state"] == "unreadable" and by_name["/dev/nvme0"]["checks"][0]["status"] == "unknown"
    library = [c for c in fact["checks"] if c["check"] == "pysmart_present"][0]
    assert library["status"] == "unknown" and "gpufleet.maintenance.prerequisites" in library["message"]
    assert fact["status"] == "warn"  # the drives without a recent self-test outrank unknown
    table = tasks["Print the per-drive table"]["msg"]
    assert table[1].startswith("smart: pySMART not installed: drives read from smartctl --json only")
    assert not [argv for argv in calls(log) if "--all" in argv]


def test_module_check_mode_and_previous_give_rates(fake):
    path, _log = fake
    first = run_module("gpufleet.maintenance.smart_facts", {"smartctl_path": path, "devices": ["/dev/nvme1:nvme"]}, check=True)
    assert first["changed"] is False
    previous = first["ansible_facts"]["gpufleet_smart"]
    # the same drive, 10 days and 500 GB of writes earlier: 50 GB/day; rated 200 TBW, 196.020003328 TB left
    previous["collected_epoch_s"] -= 10 * 86400
    previous["devices"][0]["data_written_bytes"] -= 500 * 10 ** 9
    previous["devices"][0]["unsafe_shutdowns"] = 40
    args = {"smartctl_path": path, "devices": ["/dev/nvme1:nvme"], "rated_tbw": {"BTNH93710FS91P0B": 200}, "previous": previous}
    second = run_module("gpufleet.maintenance.smart_facts", args)
    drive = second["ansible_facts"]["gpufleet_smart"]["devices"][0]
    elapsed = second["ansible_facts"]["gpufleet_smart"]["collected_epoch_s"] - previous["collected_epoch_s"]
    assert elapsed >= 10 * 86400  # the second reading comes after the (back-dated) first
    # 500 GB over the elapsed days; 200 TBW rated minus what the capture has written: data_units_written
    # 7 773 431 x 512 000 bytes (the NVMe data unit) = 3 979 996 672 000 bytes
    rate = 500 * 10 ** 9 / (elapsed / 86400.0)
    assert drive["write_rate_bytes_per_day"] == int(round(rate))
    assert drive["projected_days_to_rated_tbw"] == int((200 * 10 ** 12 - 3979996672000) / rate)  # 3920 at exactly 10 days
    checks = {c["check"]: c for c in drive["checks"]}
    assert checks["unsafe_shutdowns"]["status"] == "warn" and checks["tbw_projection"]["status"] == "ok"


def test_module_bad_input_fails_cleanly(fake):
    path, _log = fake
    result = run_module("gpufleet.maintenance.smart_facts", {"smartctl_path": path, "thresholds": {"wear_warn_pct": 90, "wear_crit_pct": 80}})
    assert result["failed"] is True and "wear_crit_pct (80.0) must not be below wear_warn_pct (90.0)" in result["msg"]
    result = run_module("gpufleet.maintenance.smart_facts", {"smartctl_path": path, "rated_tbw": {"x": "lots"}})
    assert result["failed"] is True and "rated_tbw: values must be numbers" in result["msg"]


def test_module_without_smartctl(tmp_path):
    result = run_module("gpufleet.maintenance.smart_facts", {"smartctl_path": str(tmp_path / "smartctl")})
    fact = result["ansible_facts"]["gpufleet_smart"]
    assert fact["present"] is False and "install smartmontools" in fact["reason"]
    assert fact["status"] == "unknown" and fact["checks"][0]["check"] == "smartctl_present"
    assert fact["checks"][0]["message"].startswith("could not look: smartctl not found")


@pytest.fixture
def block_device(tmp_path):
    """A real block device smartctl cannot read SMART from: a loop device over a sparse file."""
    with loop_device(tmp_path) as device:
        yield device


def test_real_smartctl_on_a_loop_device(block_device):
    apt_ensure("smartmontools")
    result = run_module("gpufleet.maintenance.smart_facts", {"devices": [block_device]})
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_smart"]
    version = subprocess.run(["smartctl", "--version"], capture_output=True, text=True, check=False).stdout
    assert fact["present"] is True and fact["smartctl_version"] == re.search(r"smartctl (\d+\.\d+)", version).group(1)
    drive = fact["devices"][0]
    # smartctl 7.3 on a loop device (and on a virtio disk alike): "Unable to detect device type", exit 1
    assert drive["smart_supported"] is False and drive["state"] == "unsupported"
    assert drive["reason"] == "%s: Unable to detect device type" % block_device
    assert drive["exit_status"] == 1 and drive["exit_status_words"] == ["command line error"]
    assert drive["checks"][0]["check"] == "smart_read" and drive["checks"][0]["status"] == "ok"


def test_real_smartctl_unprivileged_open_is_refused(tmp_path, block_device):
    """smartctl run as nobody (setpriv) on the loop device as SAT: the open is refused; the fact says become."""
    apt_ensure("smartmontools", "util-linux")
    wrapper = tmp_path / "smartctl"
    wrapper.write_text("#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups %s \"$@\"\n"
                       % subprocess.run(["sh", "-c", "command -v smartctl"], capture_output=True, text=True, check=True).stdout.strip())
    wrapper.chmod(0o755)
    options = AREA.validate({"smartctl_path": str(wrapper), "devices": ["%s:sat" % block_device]})
    fact, _warnings = smart_collect.collect(run_command, options, euid=65534, mounts_text="")
    drive = fact["devices"][0]
    assert drive["state"] == "unreadable" and drive["smart_supported"] is None and drive["exit_status"] == 2
    assert drive["exit_status_words"] == ["device open failed"]
    assert "Permission denied" in drive["reason"] and "needs root (become: true)" in drive["reason"]


def test_ssd_wear_role_table_smartd_schedule_and_idempotence(tmp_path):
    """The role on this machine: the drive under / replays the QLC Intel 660p capture (so / is a critical
    path on a QLC drive), a second drive is in standby; smartd.conf is a temporary copy."""
    with open("/proc/self/mounts") as handle:
        root_disk = "/dev/" + smart_collect.critical_path_disks(["/"], handle.read())["/"][0]
    path, _log = install_fake_smartctl(tmp_path / "bin", {
        root_disk: {"type": "nvme", "json": "json-nvme-intel-660p-1tb-qlc.json"},
        "/dev/sdz": {"type": "sat", "text": "text-sata-hdd-seagate-st2000nm000a-smartctl64.txt", "standby": True}})
    conf = tmp_path / "smartd.conf"
    conf.write_text("# smartd.conf as Debian ships it\nDEVICESCAN -d removable -n standby -m root -M exec /usr/share/smartmontools/smartd-runner\n")
    previous = {"schema_version": 1, "collected_epoch_s": 0, "devices": [
        {"name": root_disk, "serial": "BTNH93710FS91P0B", "data_written_bytes": 3979996672000 - 10 ** 12,
         "unsafe_shutdowns": 43, "media_errors": 0}]}
    extra = {"ssd_wear_smartctl_path": path, "ssd_wear_smartd_schedule": True, "ssd_wear_smartd_conf": str(conf),
             "ssd_wear_smartd_restart": False, "ssd_wear_rated_tbw": {"INTEL SSDPEKNW010T8": 200},
             "ssd_wear_previous": previous, "ssd_wear_critical_paths": ["/", "/nonexistent-gpufleet"]}
    varfile = tmp_path / "vars.json"
    varfile.write_text(json.dumps(extra))
    first = run_playbook("tests/integration/files/ssd_wear_play.yml", ["-e", "@%s" % varfile], json_output=True)
    assert first.returncode == 0, first.stdout + first.stderr
    report = json.loads(first.stdout)
    tasks = dict((task["task"]["name"].split(" : ")[-1], task["hosts"]["localhost"]) for task in report["plays"][0]["tasks"])
    table = tasks["Print the per-drive table"]["msg"]
    assert table[0] == "status: WARN"
    assert any(line.startswith("smart %s: nvme INTEL SSDPEKNW010T8, wear 0 %%, qlc, written 3.98 TB, 1.99 %% of 200 TBW, "
                               % root_disk) for line in table), table
    assert "smart /dev/sdz: standby (not woken)" in table
    assert any(line.startswith("WARN qlc_critical_path: %s (INTEL SSDPEKNW010T8) is a QLC drive backing /" % root_disk)
               for line in table), table
    drive = [d for d in tasks["Read the SMART data of the drives"]["ansible_facts"]["gpufleet_smart"]["devices"]
             if d["name"] == root_disk][0]
    assert drive["backs_paths"] == ["/"]
    # 1 TB since epoch 0: 1e12 bytes over (collected_epoch_s / 86400) days; 200 TBW minus what the capture wrote
    rate = 10 ** 12 / (tasks["Read the SMART data of the drives"]["ansible_facts"]["gpufleet_smart"]["collected_epoch_s"] / 86400.0)
    assert drive["write_rate_bytes_per_day"] == int(round(rate))
    assert drive["projected_days_to_rated_tbw"] == int((200 * 10 ** 12 - 3979996672000) / rate)
    assert tasks["Write the smartd self-test schedule"]["changed"] is True
    assert tasks["Restart smartd"].get("skipped") is True  # notified; ssd_wear_smartd_restart is false here
    assert report["stats"]["localhost"]["changed"] == 1
    lines = conf.read_text().splitlines()
    assert lines == ["# smartd.conf as Debian ships it",
                     "DEVICESCAN -a -n standby,q -s (S/../.././02|L/../../6/03) -W 4,60,70 -m root"]
    second = run_playbook("tests/integration/files/ssd_wear_play.yml", ["-e", "@%s" % varfile], json_output=True)
    assert second.returncode == 0, second.stdout + second.stderr
    assert json.loads(second.stdout)["stats"]["localhost"]["changed"] == 0
    assert conf.read_text().splitlines() == lines


def test_ssd_wear_role_compares_with_the_controllers_history_not_the_fact_cache(fake, tmp_path):
    """A quarter ago the controller recorded /dev/nvme1 (the QLC Intel 660p) with 9e12 bytes less written, 40
    unsafe shutdowns and no media errors; the role asks the history for it (no ssd_wear_previous, no fact cache:
    this run has none) and the drive's rate and growth come from that row."""
    from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _history
    path, _log = fake
    written_now = 3979996672000  # the capture's data written
    then = 1764000000.0
    conn = _history.connect(str(tmp_path / "history.db"))
    drive = {"name": "/dev/nvme1", "data_written_bytes": written_now - 9 * 10 ** 12, "unsafe_shutdowns": 40, "media_errors": 0}
    _history.record_run(conn, "quarterly", then + 60,
                        {"localhost": {"gpufleet_smart": {"collected_epoch_s": then, "devices": [drive]}}})
    conn.close()
    varfile = tmp_path / "vars.json"
    varfile.write_text(json.dumps({"ssd_wear_smartctl_path": path, "ssd_wear_critical_paths": [],
                                   "ssd_wear_history_path": str(tmp_path / "history.db"),
                                   "ssd_wear_rated_tbw": {"INTEL SSDPEKNW010T8": 200}}))
    proc = run_playbook("tests/integration/files/ssd_wear_play.yml", ["-e", "@%s" % varfile], json_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tasks = dict((task["task"]["name"].split(" : ")[-1], task["hosts"]["localhost"])
                 for task in json.loads(proc.stdout)["plays"][0]["tasks"])
    asked = tasks["Read each drive's previous readings from the controller's history (the fact cache expires after a day)"]
    assert asked["history"]["last"]["localhost"]["smart.devices.unsafe_shutdowns"] == {"device=/dev/nvme1": [then + 60, 40.0]}
    fact = tasks["Read the SMART data of the drives"]["ansible_facts"]["gpufleet_smart"]
    drive = dict((d["name"], d) for d in fact["devices"])["/dev/nvme1"]
    days = (fact["collected_epoch_s"] - then) / 86400.0
    assert drive["write_rate_bytes_per_day"] == int(round(9 * 10 ** 12 / days))
    assert drive["projected_days_to_rated_tbw"] == int((200 * 10 ** 12 - written_now) / (9 * 10 ** 12 / days))
    shutdowns = [c for c in drive["checks"] if c["check"] == "unsafe_shutdowns"][0]
    assert shutdowns["status"] == "warn" and "3 unsafe shutdowns since the previous snapshot" in shutdowns["message"]
    # the other drives were not in the history: nothing to compare, said so
    assert dict((d["name"], d) for d in fact["devices"])["/dev/sda"]["rate_reason"] == "no previous snapshot of this drive"
