"""The cadence playbooks through the real ansible-playbook on this machine: reports (opened in a real
headless Chromium), history, alerts to a local HTTP receiver, TLS expiry against a local TLS server,
log rotation, an unreachable host, a locked and a corrupt history database."""

import email
import glob
import json
import os
import platform
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
from email.header import decode_header, make_header
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from testlib import chromium
from testlib.ansible_run import run_module, run_playbook
from testlib.system import apt_ensure

pytestmark = pytest.mark.integration

CRIT_DISK = {"gpufleet_thresholds_host": {"disk_used_warn_pct": 0.01, "disk_used_crit_pct": 0.02,
                                          "memory_available_warn_pct": 10, "memory_available_crit_pct": 5}}


def _play(tmp_path, playbook="daily", extra=None, args=()):
    evars = {"gpufleet_report_dir": str(tmp_path / "reports"), "gpufleet_history_path": str(tmp_path / "history.db"),
             "gpufleet_log_rotate_paths": [str(tmp_path / "logs")]}
    evars.update(extra or {})
    proc = run_playbook("playbooks/%s.yml" % playbook, ["-e", json.dumps(evars)] + list(args))
    return proc


def _reports(tmp_path, cadence, ext="json"):
    return sorted(glob.glob(str(tmp_path / "reports" / ("%s-*.%s" % (cadence, ext)))))


def _last_report(tmp_path, cadence):
    files = _reports(tmp_path, cadence)
    assert files, "no %s report under %s" % (cadence, tmp_path)
    with open(files[-1]) as handle:
        return json.load(handle)


def _checks(report, name):
    return [p for p in report["problems"] if p["check"] == name]


# ------------------------------------------------------------------ Chromium

class _Dom(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.rows = []
        self.svgs = []
        self.panels = []
        self.circles = []
        self._in_fleet = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "fleet":
            self._in_fleet = True
        if tag == "tr" and self._in_fleet and "data-host" in attrs:
            self.rows.append((attrs["data-host"], attrs["data-status"]))
        if tag == "svg":
            self.svgs.append(attrs.get("data-metric"))
        if tag == "div" and "no-data" in (attrs.get("class") or "").split():
            self.panels.append(attrs.get("data-metric"))
        if "point" in (attrs.get("class") or "").split():
            self.circles.append((len(self.svgs), attrs.get("data-value")))

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_fleet = False


def _chromium(tmp_path, html):
    shot = tmp_path / "report.png"
    dom = chromium.render("file://" + html, tmp_path / "chromium-profile", screenshot=shot)
    assert chromium.png_size(shot) == (1200, 1600)
    assert os.path.getsize(str(shot)) > 10000  # a rendered page, not an empty canvas
    parser = _Dom()
    parser.feed(dom)
    return parser, dom


def test_daily_writes_history_and_a_report_that_opens_in_chromium(tmp_path):
    for _run in range(3):
        proc = _play(tmp_path)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        time.sleep(1.1)  # distinct report names and history timestamps
    assert len(_reports(tmp_path, "daily")) == 3
    assert len(_reports(tmp_path, "daily", "html")) == 3 and len(_reports(tmp_path, "daily", "md")) == 3
    report = _last_report(tmp_path, "daily")
    assert report["schema_version"] == 1 and report["cadence"] == "daily" and report["check_mode"] is False
    # the daily areas of playbooks/group_vars/all/gpufleet.yml that report a fact on this machine (no LLM endpoint here)
    assert [h["host"] for h in report["hosts"]] == ["localhost"]
    assert report["areas"] == ["host", "gpu", "docker", "driver_stack"]
    assert report["history"]["run_id"] == 3
    # three runs seconds apart: each disk has its three points, but a rate needs two days: the daily trend
    # check (disk_fill) waits for history, said so in a section, and is no verdict (no trends area, no problem)
    assert [p for p in report["problems"] if p["area"] == "trends"] == []
    disks = [s["subject"] for c in report["charts"] if c["title"] == "Disk use" for s in c["series"]]
    [waiting] = [s for s in report["sections"] if s["title"].startswith("Trend checks waiting for history")]
    assert "path=/" in disks and len(waiting["lines"]) == len(disks)
    assert all(line.startswith("localhost path=") and "span under two days" in line for line in waiting["lines"])
    conn = sqlite3.connect(str(tmp_path / "history.db"))
    assert conn.execute("SELECT COUNT(*) FROM runs WHERE cadence = 'daily'").fetchone()[0] == 3
    assert conn.execute("SELECT COUNT(DISTINCT run_id) FROM metrics WHERE metric = 'host.disks.used_pct' AND subject = 'path=/'").fetchone()[0] == 3
    conn.close()
    disk = [c for c in report["charts"] if c["title"] == "Disk use"][0]
    root = [s for s in disk["series"] if s["subject"] == "path=/"][0]
    assert len(root["points"]) == 3

    parser, dom = _chromium(tmp_path, _reports(tmp_path, "daily", "html")[-1])
    assert parser.rows == [("localhost", report["hosts"][0]["status"])]
    # One chart has points on a machine without GPU, SMART drives or an LLM endpoint: disk use, whose
    # metric pattern playbooks/group_vars/all/gpufleet.yml sets (a LIKE pattern, "_" escaped).
    assert parser.svgs == ["host.disks.used\\_pct"]
    # The other charts of that list stand as "no data yet" panels, in the list's order, not left out.
    assert parser.panels == ["gpu.%.temperature\\_c", "gpu.%.memory\\_temperature\\_c", "smart.devices.wear\\_pct\\_used",
                             "benchmark.probe.results.ttft\\_s.median"]
    assert dom.count("No data yet: ") == 4
    # Every history point of every chart is a marker (class "point") in the rendered DOM, with its value.
    expected = sum(len(s["points"]) for c in report["charts"] for s in c["series"])
    assert len(parser.circles) == expected >= 3
    values = sorted(float(v) for _i, v in parser.circles)
    assert values == sorted(float("%.2f" % p[1]) for c in report["charts"] for s in c["series"] for p in s["points"])
    assert "Fleet status:" in dom


# Every cadence in check mode and each recording its run: test_fleet_ssh.py asserts both on the runs it
# makes over SSH (the report's check_mode and run_id, the history's runs, the sections of each cadence).


def test_one_unreachable_host_does_not_stop_the_fleet(tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {
        "localhost": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "gone-box": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": port,
                     "ansible_ssh_common_args": "-o ConnectTimeout=3"}}}}))
    proc = _play(tmp_path, extra=CRIT_DISK, args=["-i", str(inventory)])
    assert proc.returncode == 4, proc.stdout[-3000:]  # unreachable host: ansible's rc, but the run went on
    assert "gone-box" in proc.stdout and "unreachable=1" in proc.stdout
    report = _last_report(tmp_path, "daily")
    rows = dict((h["host"], h) for h in report["hosts"])
    assert rows["gone-box"]["reachable"] is False and rows["gone-box"]["status"] == "crit"
    # CRIT_DISK: any disk in use above 0.02 % is critical, so the host area of the reachable host is crit
    assert rows["localhost"]["reachable"] is True and rows["localhost"]["areas"]["host"] == "crit"
    assert report["hosts"][0]["host"] == "gone-box"
    assert _checks(report, "reachable")[0]["host"] == "gone-box"
    conn = sqlite3.connect(str(tmp_path / "history.db"))
    assert json.loads(conn.execute("SELECT failed_hosts FROM runs").fetchone()[0]) == ["gone-box"]


def test_a_locked_history_database_still_gives_a_report(tmp_path):
    _play(tmp_path)
    holder = sqlite3.connect(str(tmp_path / "history.db"))
    holder.execute("BEGIN EXCLUSIVE")
    try:
        proc = _play(tmp_path)
    finally:
        holder.rollback()
        holder.close()
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "locked by another run" in proc.stdout + proc.stderr
    report = _last_report(tmp_path, "daily")
    assert "locked by another run" in _checks(report, "history_database")[0]["message"]
    assert report["hosts"][0]["host"] == "localhost"


def test_a_corrupt_history_database_still_gives_a_report_and_is_kept(tmp_path):
    (tmp_path / "history.db").write_bytes(b"garbage " * 512)
    proc = _play(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = _last_report(tmp_path, "daily")
    problem = _checks(report, "history_database")[0]
    # The damaged file is kept for inspection beside a new history that holds this run.
    aside = sorted(tmp_path.glob("history.db.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"garbage ")
    assert problem["status"] == "crit" and "damaged" in problem["message"] and str(aside[0]) in problem["message"]
    assert report["history"]["run_id"] == 1
    assert sqlite3.connect(str(tmp_path / "history.db")).execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


# ------------------------------------------------------------------ alerts

class _Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append((self.path, self.headers.get("X-Token"), json.loads(body.decode("utf-8"))))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    yield server, _Receiver.received
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_alerts_on_change_no_repeat_in_window_then_still_crit_and_resolved(tmp_path, receiver):
    server, received = receiver
    base = "http://127.0.0.1:%d" % server.server_address[1]
    targets = [{"name": "hook", "type": "webhook", "url": base + "/hook/s3cr3t-token", "headers": {"X-Token": "hdr-s3cr3t"}},
               {"name": "chat", "type": "slack", "url": base + "/slack/T000/B000/s3cr3t-slack"}]
    # Only this machine's own disk and memory: the areas that read shared things (the Docker engine
    # other runs use, /var/lib/docker, /var/lib/ollama) can change between the runs and send alerts
    # this test does not expect.
    extra = dict(CRIT_DISK, gpufleet_alert_webhooks=targets, gpufleet_alert_repeat_hours=24,
                 gpufleet_daily_areas=["host"], gpufleet_disk_paths=["/"])
    proc = _play(tmp_path, extra=extra)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "s3cr3t" not in proc.stdout + proc.stderr
    assert [r[0] for r in received] == ["/hook/s3cr3t-token", "/slack/T000/B000/s3cr3t-slack"]
    hook = received[0][2]
    assert received[0][1] == "hdr-s3cr3t"
    assert hook["source"] == "gpufleet.maintenance" and hook["cadence"] == "daily"
    assert hook["report"].endswith(".html") and os.path.exists(hook["report"])
    disk = [a for a in hook["alerts"] if a["key"].startswith("host/disk_used/")]
    assert disk and all(a["status"] == "crit" and a["reason"] == "new" and a["host"] == "localhost" for a in disk)
    assert "[CRIT] localhost host/disk_used/" in received[1][2]["text"]

    # Same status within the window: nothing is sent.
    proc = _play(tmp_path, extra=extra)
    assert proc.returncode == 0
    assert len(received) == 2

    # Window of 0 hours: the still-critical checks go out again.
    proc = _play(tmp_path, extra=dict(extra, gpufleet_alert_repeat_hours=0))
    assert len(received) == 4
    assert set(a["reason"] for a in received[2][2]["alerts"]) == {"still_crit"}

    # Back to normal thresholds: one "resolved" per problem, then silence.
    normal = dict(extra)
    normal.pop("gpufleet_thresholds_host")
    proc = _play(tmp_path, extra=normal)
    resolved = [a for a in received[4][2]["alerts"] if a["key"].startswith("host/disk_used/")]
    assert resolved and all(a["reason"] == "resolved" and a["status"] == "ok" for a in resolved)
    count = len(received)
    _play(tmp_path, extra=normal)
    assert len(received) == count


def test_a_webhook_that_fails_is_retried_next_run(tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    extra = dict(CRIT_DISK, gpufleet_alert_webhooks=[{"name": "down", "type": "webhook", "url": "http://127.0.0.1:%d/x" % port}])
    proc = _play(tmp_path, extra=extra)
    assert proc.returncode == 0
    assert "gpufleet alerts: down:" in proc.stdout + proc.stderr
    conn = sqlite3.connect(str(tmp_path / "history.db"))
    assert conn.execute("SELECT COUNT(*) FROM alert_state").fetchone()[0] == 0


# ------------------------------------------------------------------ TLS

@pytest.fixture
def tls_server(tmp_path):
    apt_ensure("openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "5", "-subj", "/CN=gpufleet-test.local"], capture_output=True, check=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                conn.settimeout(5)
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (ssl.SSLError, OSError):
                pass
            finally:
                conn.close()

    thread = threading.Thread(target=serve)
    thread.daemon = True
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()
    thread.join(10)


def test_weekly_tls_expiry_against_a_local_tls_server(tmp_path, tls_server):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = closed.getsockname()[1]
    closed.close()
    endpoints = [{"name": "front-door", "host": "127.0.0.1", "port": tls_server},
                 {"name": "dead-door", "host": "127.0.0.1", "port": dead}]
    proc = _play(tmp_path, "weekly", extra={"gpufleet_tls_endpoints": endpoints})
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = _last_report(tmp_path, "weekly")
    assert "tls" in report["areas"]
    days = [p for p in report["problems"] if p["check"] == "tls_days_left"]
    assert len(days) == 1 and days[0]["status"] == "crit" and 4 < days[0]["value"] <= 5
    assert "front-door" in days[0]["message"] and "renew" in days[0]["message"]
    dead_check = [p for p in report["problems"] if p["check"] == "tls_expiry"]
    assert dead_check and "dead-door" in dead_check[0]["message"]


# ------------------------------------------------------------------ log rotation

def test_daily_log_rotation_check_then_apply_then_nothing(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    old = logs / "2026-09-01.jsonl"
    old.write_text('{"prompt": "x"}\n')
    then = time.time() - 60 * 86400
    os.utime(str(old), (then, then))
    (logs / "today.jsonl").write_text("{}\n")
    proc = _play(tmp_path, args=["--check", "--diff"])
    assert proc.returncode == 0 and old.exists()
    assert "changed=1" in proc.stdout and "2026-09-01.jsonl.gz" in proc.stdout
    proc = _play(tmp_path)
    assert proc.returncode == 0 and "changed=1" in proc.stdout
    assert not old.exists() and (logs / "2026-09-01.jsonl.gz").exists() and (logs / "today.jsonl").exists()
    proc = _play(tmp_path)
    assert "changed=0" in proc.stdout


def test_daily_a_log_rotation_that_fails_keeps_the_hosts_facts_in_the_report(tmp_path):
    # The rotation rides in the areas' module run (health_upkeep): when it fails, the areas it read
    # before must still reach the report, next to the failed step.
    logs = tmp_path / "logs"
    logs.mkdir()
    old = logs / "2026-09-01.jsonl"
    old.write_text('{"prompt": "x"}\n')
    then = time.time() - 60 * 86400
    os.utime(str(old), (then, then))
    (logs / "2026-09-01.jsonl.gz").mkdir()   # the compressed file cannot take the place of a directory
    proc = _play(tmp_path)
    assert proc.returncode == 2, proc.stdout[-3000:]   # fleet_report_fail_failed_steps: the host fails, after the report
    report = _last_report(tmp_path, "daily")
    [row] = report["hosts"]
    assert row["failed_step"].startswith("Gather the health facts of this host: rotating logs: compress %s" % old), row
    assert row["areas"]["host"] in ("ok", "warn", "crit") and row["areas"]["driver_stack"] in ("ok", "unknown", "warn", "crit")
    assert [p["check"] for p in report["problems"] if p["area"] == "run"] == ["step_failed"]
    # the summary printed for the host reads the kept facts too (cacheable set_fact: in ansible_facts)
    assert old.exists() and "host %s: kernel %s" % (socket.gethostname(), platform.release()) in proc.stdout


def test_history_action_ad_hoc_previous_value_and_errors(tmp_path):
    path = str(tmp_path / "h.db")
    # a reading the smart area declares (the history records only declared readings)
    smart = {"a": {"gpufleet_smart": {"devices": [{"name": "/dev/nvme0", "wear_pct_used": 3}]}}}
    first = run_module("gpufleet.maintenance.history", {"path": path, "cadence": "quarterly", "hosts": smart, "now": 1000})
    assert first["changed"] is False and first["history"]["run_id"] == 1 and first["history"]["error"] is None
    smart["a"]["gpufleet_smart"]["devices"][0]["wear_pct_used"] = 5
    second = run_module("gpufleet.maintenance.history", {
        "path": path, "cadence": "quarterly", "hosts": smart, "now": 2000,
        "last_metric_like": ["smart.%"], "trend_metrics": ["smart.%"]})
    assert second["history"]["last"] == {"a": {"smart.devices.wear_pct_used": {"device=/dev/nvme0": [1000.0, 3.0]}}}
    assert second["history"]["trends"][0]["points"] == [[1000.0, 3.0], [2000.0, 5.0]]
    checked = run_module("gpufleet.maintenance.history", {"path": path, "cadence": "daily", "hosts": smart}, check=True)
    assert checked["history"]["recorded"] is False
    bad = run_module("gpufleet.maintenance.history", {"path": path, "cadence": "hourly"})
    assert bad.get("failed") and "hourly" in bad["msg"]
    (tmp_path / "h.db").write_bytes(b"x" * 4096)
    broken = run_module("gpufleet.maintenance.history", {"path": path, "cadence": "daily", "hosts": smart})
    assert broken.get("failed") is not True and "damaged" in broken["history"]["error"]


class _Smtp(threading.Thread):
    """A minimal SMTP receiver on 127.0.0.1 (port 0) that keeps each message's text."""

    def __init__(self):
        threading.Thread.__init__(self)
        self.daemon = True
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(5)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.messages = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                conn, _addr = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            # community.general.mail connects twice (SMTP() then connect()): one thread per connection.
            worker = threading.Thread(target=self.serve, args=(conn,))
            worker.daemon = True
            worker.start()

    def serve(self, conn):
        with conn:
            conn.settimeout(10)
            handle = conn.makefile("rb")
            conn.sendall(b"220 gpufleet-test ESMTP\r\n")
            data = None
            try:
                for raw in handle:
                    line = raw.decode("utf-8", "replace")
                    if data is not None:
                        if line in (".\r\n", ".\n"):
                            self.messages.append("".join(data))
                            data = None
                            conn.sendall(b"250 queued\r\n")
                        else:
                            data.append(line)
                        continue
                    verb = line[:4].upper()
                    if verb == "DATA":
                        data = []
                        conn.sendall(b"354 go ahead\r\n")
                    elif verb == "QUIT":
                        conn.sendall(b"221 bye\r\n")
                        break
                    elif verb in ("EHLO", "HELO"):
                        conn.sendall(b"250 gpufleet-test\r\n")
                    else:
                        conn.sendall(b"250 ok\r\n")
            except (socket.timeout, OSError):
                pass


def test_email_alerts_through_community_general_mail(tmp_path):
    smtp = _Smtp()
    smtp.start()
    try:
        targets = [{"name": "mail", "type": "email", "to": "ops@example.org", "host": "127.0.0.1", "port": smtp.port,
                    "secure": "never", "sender": "gpufleet@example.org"}]
        proc = _play(tmp_path, extra=dict(CRIT_DISK, gpufleet_alert_webhooks=targets))
        assert proc.returncode == 0, proc.stdout[-3000:]
        deadline = time.time() + 10
        while not smtp.messages and time.time() < deadline:
            time.sleep(0.1)
        assert len(smtp.messages) == 1
        message = email.message_from_string(smtp.messages[0])
        assert str(make_header(decode_header(message["Subject"]))).startswith("[gpufleet daily] CRIT: ")
        assert "ops@example.org" in message["To"]
        text = "".join(part.get_payload(decode=True).decode("utf-8") for part in message.walk()
                       if part.get_content_type() == "text/plain")
        assert "[CRIT] localhost host/disk_used/" in text and "report: " in text
        # Within the window nothing more is mailed.
        _play(tmp_path, extra=dict(CRIT_DISK, gpufleet_alert_webhooks=targets))
        time.sleep(0.5)
        assert len(smtp.messages) == 1
    finally:
        smtp.stop.set()
        smtp.listener.close()
        smtp.join(10)


def test_a_step_switched_off_does_not_report_an_earlier_runs_fact(tmp_path):
    # The daily run leaves gpufleet_docker in the fact cache; a weekly run without Docker hygiene
    # must not report it as this week's, nor a monthly run without a backup target a backup.
    proc = _play(tmp_path, "daily")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "docker" in _last_report(tmp_path, "daily")["areas"]
    proc = _play(tmp_path, "weekly", {"gpufleet_docker_hygiene": False})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    weekly = _last_report(tmp_path, "weekly")
    assert "docker" not in weekly["areas"] and "benchmark" not in weekly["areas"], weekly["areas"]
    proc = _play(tmp_path, "monthly", {"gpufleet_image_audit": False, "gpufleet_package_pin_audit": False})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    monthly = _last_report(tmp_path, "monthly")
    # (the monthly trend checks wait for history here: runs seconds apart are no trend, and no area)
    assert monthly["areas"] == ["host", "gpu", "driver_stack", "exposure"], monthly["areas"]


def test_monthly_verifies_the_model_checksums_and_reports_a_changed_file(tmp_path):
    """Issue 19: model checksums verified on the monthly schedule (model_manifest was called by no playbook)."""
    store = tmp_path / "models"
    store.mkdir()
    (store / "llama-3.1-8b-q4_k_m.gguf").write_bytes(b"GGUF" + b"\x01" * 4096)
    (store / "gemma-2-9b-q8_0.gguf").write_bytes(b"GGUF" + b"\x02" * 4096)
    manifest = tmp_path / "models.json"
    scan = run_module("gpufleet.maintenance.model_manifest", {"mode": "scan", "roots": [str(store)], "manifest": str(manifest)})
    assert scan.get("failed") is not True and manifest.exists(), scan
    # bit rot: same size, one byte flipped
    data = bytearray((store / "gemma-2-9b-q8_0.gguf").read_bytes())
    data[100] ^= 0xFF
    (store / "gemma-2-9b-q8_0.gguf").write_bytes(bytes(data))
    serving = [{"model": "llama3.1:8b", "parameters_b": 8, "quantization": "Q4_K_M", "context_length": 8192,
                "layers": 32, "kv_heads": 8, "head_dim": 128}]
    proc = _play(tmp_path, "monthly", {"gpufleet_image_audit": False, "gpufleet_package_pin_audit": False,
                                       "gpufleet_model_manifest": str(manifest), "gpufleet_model_roots": [str(store)],
                                       "gpufleet_model_serving": serving})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    monthly = _last_report(tmp_path, "monthly")
    assert "models" in monthly["areas"], monthly["areas"]
    [changed] = _checks(monthly, "model_file")
    assert changed["status"] == "crit" and "gemma-2-9b-q8_0.gguf" in changed["message"], changed
    # Issue 20: the served model's estimate (hand-computed in tests/unit/.../models/test_vram.py) against the GPU
    # memory the same run read; this layer runs without a GPU (like test_gpu_facts.py), so it could not compare
    [vram] = _checks(monthly, "vram_headroom")
    assert vram["status"] == "unknown" and vram["subject"] == "model=llama3.1:8b", vram
    assert vram["message"].startswith("could not look: llama3.1:8b needs about 5.5 GiB (weights 4.5 GiB + KV cache 1 GiB "
                                      "for 8192 tokens), but no GPU memory to compare it with: gpufleet_gpu lists no GPU"), vram


def test_a_report_that_cannot_be_written_fails_the_run_after_the_metrics_and_summary(tmp_path):
    """gpufleet_report_dir is a file: the report cannot be written. The run still records the history, prints
    each host's summary and writes its metrics, then fails with the reason (not before them)."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the report directory should be\n")
    textdir = tmp_path / "textfile"
    textdir.mkdir()
    proc = _play(tmp_path, "daily", {"gpufleet_report_dir": str(blocker), "gpufleet_metrics_export": True,
                                     "metrics_export_dir": str(textdir)})
    assert proc.returncode != 0
    out = proc.stdout
    assert "gpufleet.maintenance.fleet_report : Print the health summary of each host" in out
    assert os.listdir(str(textdir)) == ["gpufleet.prom"]
    assert "Fail the run when the report could not be written" in out and "set gpufleet_report_dir to a writable" in out
    assert out.index("Write the metrics file") < out.index("Fail the run when the report could not be written")
    conn = sqlite3.connect(str(tmp_path / "history.db"))
    assert conn.execute("SELECT COUNT(*) FROM runs WHERE cadence = 'daily'").fetchone()[0] == 1
    conn.close()


# ------------------------------------------------------------------ task slots (issue 21)

def test_daily_costs_few_task_slots_per_host_and_still_checks_the_report_arguments(tmp_path):
    # Each task is a worker forked per host, skipped or not: the daily keeps them few (docs/fleet.md, Scale).
    evars = {"gpufleet_report_dir": str(tmp_path / "reports"), "gpufleet_history_path": str(tmp_path / "history.db"),
             "gpufleet_log_rotate_paths": [str(tmp_path / "logs")]}
    proc = run_playbook("playbooks/daily.yml", ["-e", json.dumps(evars)], json_output=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = [t["task"]["name"] for t in json.loads(proc.stdout)["plays"][0]["tasks"] if "localhost" in t["hosts"]]
    # 2 per host (the prerequisites step, host_health's gather) and 4 run_once on the first host (the report,
    # which checks the role's arguments first, the summaries, where it is, the mails); the rest of fleet_report
    # ends with meta end_role. 23 before issue 21.
    assert len(results) <= 6, results
    assert not [name for name in results if name.startswith("Validating arguments against arg spec")], results
    # the arguments the play does not build are still checked, once per play, by the report task
    # (check_role_arguments), before it records or writes anything
    evars.update(fleet_report_fail_on="sometimes", gpufleet_report_dir=str(tmp_path / "bad" / "reports"),
                 gpufleet_history_path=str(tmp_path / "bad" / "history.db"))
    proc = run_playbook("playbooks/daily.yml", ["-e", json.dumps(evars)])
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert "Record the run, write the report and decide the alerts (one pass on the controller)" in proc.stdout
    assert "Validation of arguments failed:" in proc.stdout, proc.stdout[-3000:]
    assert "value of fleet_report_fail_on must be one of: none, unknown, warn, crit, got: sometimes" in proc.stdout, \
        proc.stdout[-3000:]
    assert not (tmp_path / "bad").exists()  # nothing recorded, no report written
