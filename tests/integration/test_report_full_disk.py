"""A full report filesystem (issue 18's fault list: a 0-byte ``*.html.tmp`` was left and the alerts
were skipped). The report directory is a real tmpfs of 16 KiB, filled up, in a user and mount
namespace (``unshare --user --map-root-user --mount``); the real ``cadence_report`` action runs
through ansible-playbook (tests/integration/files/report_history_play.yml) with one webhook target,
a local HTTP receiver."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from testlib.ansible_run import CADENCE_DEFAULTS, REPO_ROOT, ansible_env

pytestmark = pytest.mark.integration


class _Hook(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 (the name http.server calls)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Hook.received.append((self.path, json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def _crit_host():
    return {"gpufleet_host": {"status": "crit", "disks": [{"path": "/", "present": True, "used_pct": 97.0}], "checks": [
        {"check": "disk_used", "status": "crit", "value": 97.0, "threshold": 85, "subject": {"path": "/"},
         "message": "disk use of / is 97 % (critical at 85 %): free space"}]}}


def test_a_full_report_filesystem_costs_the_report_not_the_alerts_and_leaves_no_tmp(tmp_path):
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    dest = tmp_path / "reports"
    dest.mkdir()
    evars = {"report_runs": [{"now": 1764730800.0, "hosts": {"box-a": _crit_host()}}], "report_charts": [],
             "report_dest": str(dest), "report_history": str(tmp_path / "history.db"),
             "report_alert_targets": [{"name": "hook", "type": "webhook",
                                       "url": "http://127.0.0.1:%d/hook" % server.server_address[1]}]}
    (tmp_path / "vars.json").write_text(json.dumps(evars))
    playbook = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                "tests/integration/files/report_history_play.yml",
                "-e", json.dumps(CADENCE_DEFAULTS), "-e", "@%s" % (tmp_path / "vars.json")]
    # Mount a 16 KiB tmpfs on the report directory, fill it to the last byte, then run the play.
    script = ('mount -t tmpfs -o size=16k tmpfs "$1" && (dd if=/dev/zero of="$1/filler" bs=1k count=64 2>/dev/null; true) '
              '&& df -k "$1" | tail -1 && shift && exec "$@"')
    try:
        proc = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", str(dest)] + playbook,
                              cwd=REPO_ROOT, env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default"),
                              capture_output=True, text=True, timeout=300, check=False)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    out = proc.stdout + proc.stderr
    df_line = proc.stdout.splitlines()[0].split()
    assert df_line[3] == "0", "the tmpfs was not full: %s" % proc.stdout.splitlines()[0]
    # The action fails, naming the directory and the fix, after the alert went out.
    assert proc.returncode == 2, out[-3000:]
    assert "writing the daily report under %s" % dest in out and "No space left on device" in out, out[-3000:]
    assert "set gpufleet_report_dir to a writable directory with free space" in out, out[-3000:]
    assert [path for path, _body in _Hook.received] == ["/hook"]
    alert = _Hook.received[0][1]
    assert [a["key"] for a in alert["alerts"]] == ["host/disk_used/path=/"] and alert["alerts"][0]["status"] == "crit"
    # What was left on the tmpfs cannot be seen once its namespace is gone: the next test looks from inside.


def test_a_full_report_filesystem_leaves_no_partial_file(tmp_path):
    dest = tmp_path / "reports"
    dest.mkdir()
    code = ("import sys\n"
            "from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _report\n"
            "report = _report.build('daily', 1764730800.0, {})\n"
            "try:\n"
            "    _report.write(report, sys.argv[1], ['json', 'html', 'md'], 1764730800.0)\n"
            "except OSError as exc:\n"
            "    print('OSError', exc.errno)\n"
            "import os\n"
            "print(sorted(os.listdir(sys.argv[1])))\n")
    script = ('mount -t tmpfs -o size=16k tmpfs "$1" && (dd if=/dev/zero of="$1/filler" bs=1k count=64 2>/dev/null; true) '
              '&& exec "$2" -c "$3" "$1"')
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO_ROOT, ".collections"))
    proc = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", str(dest), sys.executable, code],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # ENOSPC (28), and nothing but the filler left: no 0-byte *.json.tmp, no *.reserved
    assert proc.stdout.splitlines() == ["OSError 28", "['filler']"], proc.stdout + proc.stderr
