"""macos_facts and the daily's macos area through the real Ansible, against stand-in macOS tools.

No Mac is available: testlib.macos_standin writes stand-ins for uname, sw_vers, sysctl, memory_pressure,
notifyutil, pmset, softwareupdate and defaults that replay output captured on Macs (public sources,
tests/unit/fixtures/macos/PROVENANCE.md); the module runs them through its option ``bin_dir``. The
module runs with Python 3.9 (the version of macOS's /usr/bin/python3) and only its standard library
where this machine has a 3.9 (pyenv); elsewhere with the controller's Python, asserting the same.
"""

import glob
import json
import os
import subprocess
import sys

import pytest

from testlib import macos_standin
from testlib.ansible_run import BIN, REPO_ROOT, ansible_env, run_playbook

pytestmark = pytest.mark.integration

MODULE = "gpufleet.maintenance.macos_facts"


def _python39():
    """A working CPython 3.9 without the collection's third-party libraries, or None."""
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9"))) + ["/usr/bin/python3.9"]
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            proc = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                  capture_output=True, text=True, check=False)
            if proc.returncode == 0 and proc.stdout.strip() == "3.9":
                return candidate
    return None


PYTHON = _python39() or sys.executable


def run_mac_module(tmp_path, entries, args=None, check=False):
    bin_dir = macos_standin.write_bin_dir(tmp_path / "bin", entries)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"mac-standin": {
        "ansible_connection": "local", "ansible_python_interpreter": PYTHON}}}}))
    cmd = [os.path.join(BIN, "ansible"), "mac-standin", "-i", str(inventory), "-m", MODULE,
           "-a", json.dumps(dict({"bin_dir": bin_dir}, **(args or {})))]
    if check:
        cmd.append("--check")
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    try:
        return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["mac-standin"]
    except (ValueError, KeyError, IndexError):
        pytest.fail("ansible did not print a result (rc %s):\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))


def statuses(fact):
    return dict((c["check"], c["status"]) for c in fact["checks"])


def test_the_module_reads_a_ventura_mac_offered_sonoma(tmp_path):
    for check_mode in (False, True):
        result = run_mac_module(tmp_path, macos_standin.scenario("ventura_sonoma_offered"), check=check_mode)
        assert result.get("failed") is not True, result
        assert result["changed"] is False and not result.get("warnings")
        fact = result["ansible_facts"]["gpufleet_macos"]
        # the captures: sw_vers 13.5 22G74, Apple M1 Pro, 34359738368 bytes and 88 % free, thermal level 1,
        # Sonoma 14.0 offered, AutomaticallyInstallMacOSUpdates = 0
        assert (fact["os_version"], fact["os_build"], fact["chip"], fact["memory_bytes"], fact["memory_free_pct"]) == (
            "13.5", "22G74", "Apple M1 Pro", 34359738368, 88)
        assert (fact["thermal_pressure"], fact["major_upgrades"], fact["auto_install_macos_updates"]) == (
            "moderate", ["macOS Sonoma 14.0"], False)
        assert statuses(fact) == {"thermal_pressure": "ok", "memory_pressure": "ok", "memory_free": "ok",
                                  "major_upgrade_pending": "warn", "update_deferral": "ok"}
        assert fact["status"] == "warn"
        [major] = [c for c in fact["checks"] if c["check"] == "major_upgrade_pending"]
        assert "defer it until your runners support it" in major["message"]


def test_the_module_runs_with_python_39_and_no_third_party_library():
    # what macOS's /usr/bin/python3 is (3.9, standard library only); skipped nowhere: without a 3.9 here,
    # the test above ran with the controller's Python and this one states which Python that was
    proc = subprocess.run([PYTHON, "-c", "import sys; print(sys.version_info[:2] >= (3, 9))"], capture_output=True, text=True,
                          check=False)
    assert proc.stdout.strip() == "True"
    if PYTHON != sys.executable:
        for library in ("pynvml", "pySMART", "docker", "yaml"):
            missing = subprocess.run([PYTHON, "-c", "import %s" % library], capture_output=True, text=True, check=False)
            assert missing.returncode != 0, "%s is importable by %s: not a bare Python" % (library, PYTHON)


def test_a_mac_that_throttles_and_swaps_is_critical_with_the_guides_fixes(tmp_path):
    # DERIVED here: thermal level 3 (trapping) in the M4 Air's notifyutil line, 8 % free in the Mac mini's
    # memory_pressure, the kernel's level 4
    entries = macos_standin.scenario("ventura_sonoma_offered", **{
        "notifyutil -g com.apple.system.thermalpressurelevel": {"stdout": "com.apple.system.thermalpressurelevel 3\n"},
        "memory_pressure": {"stdout": macos_standin.capture("memory_pressure-mac-mini-32g.txt").replace(
            "System-wide memory free percentage: 88%", "System-wide memory free percentage: 8%")},
        "sysctl kern.memorystatus_vm_pressure_level": {"stdout": "4\n"}})
    fact = run_mac_module(tmp_path, entries, {"check_updates": False})["ansible_facts"]["gpufleet_macos"]
    assert statuses(fact) == {"thermal_pressure": "crit", "memory_pressure": "crit", "memory_free": "crit"}
    messages = " ".join(c["message"] for c in fact["checks"])
    assert "let it cool and reduce the sustained load" in messages
    assert "smaller model or a stronger quantization" in messages


def test_the_daily_reports_the_macos_area_of_a_mac_and_none_for_linux(tmp_path):
    # The daily against this (Linux) machine: its own uname says Linux, so no macos area; then with the
    # stand-ins (host_health_macos_bin_dir) the same run reads a "Mac": the area, its summary, no updates asked.
    reports = tmp_path / "reports"
    base = {"gpufleet_daily_areas": ["host", "macos"], "gpufleet_disk_paths": ["/"], "gpufleet_report_formats": ["json"],
            "gpufleet_history_path": str(tmp_path / "history.db"), "ansible_python_interpreter": PYTHON}
    bin_dir = macos_standin.write_bin_dir(tmp_path / "bin", macos_standin.scenario("ventura_sonoma_offered"))
    seen = []
    for name, extra in (("linux", {}), ("mac", {"host_health_macos_bin_dir": bin_dir})):
        out = reports / name
        proc = run_playbook("playbooks/daily.yml", ["-e", json.dumps(dict(base, gpufleet_report_dir=str(out), **extra))])
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        [report_name] = os.listdir(str(out))
        with open(str(out / report_name)) as handle:
            seen.append((" ".join(proc.stdout.split()), json.load(handle)))   # the YAML result format folds lines
    (linux_out, linux), (mac_out, mac) = seen
    assert linux["areas"] == ["host"] and "macos:" not in linux_out
    assert mac["areas"] == ["host", "macos"]
    [row] = mac["hosts"]
    assert row["areas"] == {"host": row["areas"]["host"], "macos": "ok"}
    assert "macos: macOS 13.5 Ventura (22G74) on Apple M1 Pro (Mac16,13), 32.0 GiB unified memory" in mac_out
    assert "macos: memory 88% free (pressure normal), swap 2.7 GiB used of 4.0 GiB; thermal pressure moderate" in mac_out
    assert "macos: updates offered" not in mac_out   # the daily does not ask Apple's servers
