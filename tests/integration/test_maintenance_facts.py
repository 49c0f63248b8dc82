"""maintenance_facts through the real ansible-playbook: the real journalctl reading a real journal file,
the real apt-config reading apt.conf.d, /proc/cpuinfo and DMI of this machine.

The journal file is written by systemd-journal-remote from entries the test chooses (journal export
format, with their own timestamps). The play runs in a private mount namespace (``unshare``) where a
tmpfs over /var/log holds that journal and a directory of the test's apt settings is bound over
/etc/apt/apt.conf.d, so journalctl and apt-config read exactly these, and nothing on the machine
changes (other tests read the real journal and apt settings at the same time).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from testlib.ansible_run import REPO_ROOT, ansible_env
from testlib.system import apt_ensure

pytestmark = pytest.mark.integration
BIN = os.path.dirname(sys.executable)
DAY = 86400

PLAY = """
- name: maintenance_facts under test
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Review the journal and the runner logs, read firmware and the auto-update window
      gpufleet.maintenance.maintenance_facts:
        log_paths: [{logs}]
      register: result
"""

# (age in days, priority, message): what the journal holds. The play looks back 7 days (the default).
JOURNAL = [
    (10, 3, "kernel: ata1: error in an old run"),                       # older than a week: not counted
    (2, 3, "kernel: NVRM: Xid (PCI:0000:01:00): 79, pid=1234, GPU has fallen off the bus."),
    (1, 3, "ollama[812]: CUDA error: out of memory"),
    (1, 4, "nginx[90]: upstream timed out (110: Connection timed out) while reading response header"),
    (0.5, 6, "systemd[1]: Started Session 5 of User ops."),
]
# Counted by hand, by what each line says (docs/cadence.md: errors, timeouts, out of memory, NVIDIA
# Xid; an entry of priority err or worse is an error even without the word): of the 4 entries of
# the week, the Xid line (priority 3) and the CUDA error line are errors; one "timed out" line; one
# "out of memory" line; one "NVRM: Xid" line.
EXPECTED_JOURNAL = {"present": True, "reason": None, "entries": 4, "errors": 2, "timeouts": 1, "oom": 1, "xid": 1}

APT_CONF = {
    "20auto-upgrades": 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
    "50unattended-upgrades": ('Unattended-Upgrade::Automatic-Reboot "true";\n'
                              'Unattended-Upgrade::Automatic-Reboot-Time "02:00";\n'
                              'Unattended-Upgrade::Package-Blacklist {\n    "nvidia-";\n    "libnvidia-";\n};\n'),
}


def _export(entries, now):
    """Journal export format (systemd's "Journal Export Format"), one block per entry."""
    blocks = []
    for number, (age_days, priority, message) in enumerate(entries):
        blocks.append("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\nPRIORITY=%d\n"
                      "SYSLOG_IDENTIFIER=gpufleet-test\nMESSAGE=%s\n"
                      % (int((now - age_days * DAY) * 1e6), (number + 1) * 1000000, "0123456789abcdef" * 2, priority, message))
    return "\n".join(blocks) + "\n"


@pytest.fixture
def scene(tmp_path):
    apt_ensure("systemd", "systemd-journal-remote", "util-linux")
    if os.geteuid() != 0:
        pytest.skip("needs root for a private mount namespace (unshare --mount)")
    journal = tmp_path / "system.journal"
    proc = subprocess.run(["/lib/systemd/systemd-journal-remote", "--output=%s" % journal, "-"],
                          input=_export(JOURNAL, time.time()), capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and journal.exists(), proc.stderr
    conf = tmp_path / "apt.conf.d"
    conf.mkdir()
    for name, text in APT_CONF.items():
        (conf / name).write_text(text)
    logs = tmp_path / "ollama-logs"
    logs.mkdir()
    (logs / "server.log").write_text("time=2026-12-01 level=INFO msg=loaded\nError: llama runner process has terminated\n"
                                     "context deadline exceeded (Client.Timeout exceeded while awaiting headers)\n")
    old = logs / "server-2026-10.log"
    old.write_text("error: an old file, not reviewed\n")
    os.utime(str(old), (time.time() - 30 * DAY, time.time() - 30 * DAY))
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY.format(logs=json.dumps(str(logs))))
    return tmp_path, journal, conf, playbook


def _run_in_namespace(journal, conf, playbook):
    with open("/etc/machine-id") as handle:
        machine_id = handle.read().strip()
    script = ('set -e; mount -t tmpfs gpufleet-test /var/log; mkdir -p "/var/log/journal/$MID"; '
              'cp "$JOURNAL" "/var/log/journal/$MID/system.journal"; '
              'if [ -d /run/log/journal ]; then mount -t tmpfs gpufleet-test /run/log/journal; fi; '
              'mount --bind "$CONF" /etc/apt/apt.conf.d; exec "$@"')
    env = dict(ansible_env(), MID=machine_id, JOURNAL=str(journal), CONF=str(conf))
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                           os.path.join(BIN, "ansible-playbook"), str(playbook)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def _cpuinfo():
    with open("/proc/cpuinfo") as handle:
        text = handle.read()
    microcode = re.search(r"^microcode\s*:\s*(\S+)", text, re.M)
    return microcode.group(1) if microcode else None, len(re.findall(r"^processor\s*:", text, re.M))


def _timer(name):
    """OnCalendar of a Debian apt timer, read from its unit file (no drop-ins on a CI machine)."""
    assert not os.path.isdir("/etc/systemd/system/%s.timer.d" % name)
    with open("/lib/systemd/system/%s.timer" % name) as handle:
        return [line.split("=", 1)[1].strip() for line in handle if line.startswith("OnCalendar=")]


def test_journal_logs_firmware_and_autoupdate_through_ansible_playbook(scene):
    _tmp, journal, conf, playbook = scene
    result = _run_in_namespace(journal, conf, playbook)
    assert result.get("failed") is not True and result["changed"] is False, result
    fact = result["ansible_facts"]["gpufleet_maintenance"]
    assert fact["collected"] == ["journal", "firmware", "autoupdate"]

    assert fact["journal"] == EXPECTED_JOURNAL
    # server.log only (the other file is a month old): "Error:" is an error; "Timeout exceeded" a timeout
    assert fact["runner_logs"] == {"files": 1, "errors": 1, "timeouts": 1, "oom": 0, "xid": 0}

    microcode, cpus = _cpuinfo()
    firmware = fact["firmware"]
    assert firmware["microcode"] == microcode and firmware["cpu_count"] == cpus
    if os.path.exists("/sys/class/dmi/id/bios_version"):
        with open("/sys/class/dmi/id/bios_version") as handle:
            assert firmware["bios_version"] == handle.read().strip()
    elif not shutil.which("dmidecode"):
        assert firmware["bios_version"] is None
        assert firmware["bios_reason"] == "no /sys/class/dmi/id and no dmidecode (a container or VM without DMI)"

    auto = fact["autoupdate"]
    assert auto == {"present": True, "reason": None, "unattended_upgrades": True, "update_package_lists": True,
                    "automatic_reboot": True, "automatic_reboot_time": "02:00",
                    "package_blacklist": ["nvidia-", "libnvidia-"], "driver_packages_blocked": True,
                    "timers": {"apt-daily": _timer("apt-daily"), "apt-daily-upgrade": _timer("apt-daily-upgrade")}}

    status = dict((c["check"], c["status"]) for c in fact["checks"])
    # 1 Xid line (crit from 1), 1 OOM line (warn from 1), 2 errors (< 50), 1 timeout (< 10); the runner
    # logs: 1 error, 1 timeout, no OOM/Xid; an automatic reboot at 02:00 warns; the driver is blacklisted.
    assert status["log_xid"] == "crit" and status["log_oom"] == "warn"
    assert status["log_errors"] == "ok" and status["log_timeouts"] == "ok"
    assert [status[k] for k in ("runner_log_errors", "runner_log_timeouts", "runner_log_oom", "runner_log_xid")] == ["ok"] * 4
    assert status["auto_reboot"] == "warn" and status["auto_upgrade_driver"] == "ok" and status["update_window"] == "ok"
    assert fact["status"] == "crit"
