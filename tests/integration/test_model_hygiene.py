"""Model manifests and the exposure audit through the real Ansible, on real files and real sockets."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from testlib.ansible_run import REPO_ROOT, ansible_env, run_module
from testlib.system import apt_ensure

pytestmark = pytest.mark.integration
BIN = os.path.dirname(sys.executable)


def _blob(models, content):
    digest = hashlib.sha256(content).hexdigest()
    (models / "blobs" / ("sha256-" + digest)).write_bytes(content)
    return digest


def test_model_manifest_scan_verify_cache_and_corruption(tmp_path):
    models = tmp_path / "ollama" / "models"
    (models / "blobs").mkdir(parents=True)
    weights = _blob(models, os.urandom(256 * 1024))
    config = _blob(models, b'{"model_format":"gguf","model_family":"gemma3"}')
    mdir = models / "manifests" / "registry.ollama.ai" / "library" / "gemma3"
    mdir.mkdir(parents=True)
    (mdir / "270m").write_text(json.dumps({"config": {"digest": "sha256:" + config},
                                           "layers": [{"digest": "sha256:" + weights}]}))
    gguf_dir = tmp_path / "gguf"
    gguf_dir.mkdir()
    (gguf_dir / "qwen2.5-0.5b-q4_k_m.gguf").write_bytes(b"GGUF" + os.urandom(64 * 1024))
    manifest = str(tmp_path / "models.manifest.json")
    args = {"roots": [str(models), str(gguf_dir)], "manifest": manifest}
    total = sum(os.path.getsize(os.path.join(d, f)) for d, dummy, fs in os.walk(tmp_path) for f in fs
                if f.endswith(".gguf") or f.startswith("sha256-"))

    check = run_module("gpufleet.maintenance.model_manifest", dict(args, mode="scan"), check=True)
    assert check["changed"] is True and not os.path.exists(manifest)
    scan = run_module("gpufleet.maintenance.model_manifest", dict(args, mode="scan"))
    assert scan["changed"] is True and scan["hashed_bytes"] == total
    assert scan["manifest"]["ollama_models"] == {"gemma3:270m": [config, weights]}
    again = run_module("gpufleet.maintenance.model_manifest", dict(args, mode="scan"))
    assert again["changed"] is False and again["hashed_bytes"] == 0  # the cache skipped every unchanged file

    ok = run_module("gpufleet.maintenance.model_manifest", args)
    fact = ok["ansible_facts"]["gpufleet_models"]
    assert fact["status"] == "ok" and fact["files_checked"] == 3 and ok["hashed_bytes"] == 0

    blob = models / "blobs" / ("sha256-" + weights)
    data = bytearray(blob.read_bytes())
    data[1000] ^= 0xFF
    blob.write_bytes(bytes(data))  # same size, new mtime: the cache key changes, so it is re-hashed
    bad = run_module("gpufleet.maintenance.model_manifest", args)
    fact = bad["ansible_facts"]["gpufleet_models"]
    assert fact["status"] == "crit"
    assert [(os.path.basename(p["path"]), p["problem"]) for p in fact["problems"]] == [
        ("sha256-" + weights, "blob_digest_mismatch")]
    assert bad["hashed_bytes"] == len(data)


def test_model_manifest_bad_input_fails_cleanly(tmp_path):
    result = run_module("gpufleet.maintenance.model_manifest", {"roots": [str(tmp_path / "nope")], "manifest": str(tmp_path / "m.json")})
    assert result["failed"] is True and "does not exist" in result["msg"]
    (tmp_path / "m.json").write_text("{not json")
    result = run_module("gpufleet.maintenance.model_manifest", {"roots": [str(tmp_path)], "manifest": str(tmp_path / "m.json")})
    assert result["failed"] is True and "is not valid JSON" in result["msg"]


# ------------------------------------------------------------------ exposure audit in a netns

SERVER = r"""
import ctypes, socket, sys, time
name, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME: what ss shows as the process
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port)); s.listen(8)
print("ready", flush=True)
time.sleep(120)
"""


@pytest.fixture
def netns():
    apt_ensure("iproute2", "nftables")  # ip netns; ss (the module reads sockets with it); nft
    if os.geteuid() != 0:
        pytest.skip("needs root to create a network namespace")
    name = "gpf12-%s" % uuid.uuid4().hex[:6]
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        # A second, non-loopback address (TEST-NET-1) inside the namespace only; a veth pair holds it.
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "gpf0", "type", "veth", "peer", "name", "gpf1"],
                    ["ip", "addr", "add", "192.0.2.10/24", "dev", "gpf0"], ["ip", "link", "set", "gpf0", "up"],
                    ["ip", "link", "set", "gpf1", "up"]):
            subprocess.run(["ip", "netns", "exec", name] + cmd, check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_exposure_audit_sees_sockets_opened_by_the_test(netns, tmp_path):
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    servers = []
    try:
        for name, host, port in (("ollama", "192.0.2.10", 11434), ("llama-server", "127.0.0.1", 8080),
                                 ("nginx", "192.0.2.10", 8000)):
            proc = subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, str(script), name, host, str(port)],
                                    stdout=subprocess.PIPE, text=True, start_new_session=True)
            assert proc.stdout.readline().strip() == "ready"
            servers.append(proc)
        result = _exposure_in(netns)
        # A host firewall inside the namespace (nftables is per network namespace): an input chain
        # that drops by default is what the check asks for.
        for rule in (["add", "table", "inet", "gpf"],
                     ["add", "chain", "inet", "gpf", "input", "{ type filter hook input priority 0 ; policy drop ; }"]):
            subprocess.run(["ip", "netns", "exec", netns, "nft"] + rule, check=True)
        guarded = _exposure_in(netns)
    finally:
        for proc in servers:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
    fact = result["ansible_facts"]["gpufleet_exposure"]
    by_port = dict((c["port"], c) for c in fact["checks"] if c["check"] == "inference_port_exposed")
    assert by_port[11434]["status"] == "crit" and by_port[11434]["process"] == "ollama"
    assert by_port[11434]["value"] == "192.0.2.10:11434"
    assert by_port[8080]["status"] == "ok" and "loopback" in by_port[8080]["message"]
    assert by_port[8000]["status"] == "ok" and "front door nginx" in by_port[8000]["message"]
    assert [s["port"] for s in fact["exposed"]] == [11434]
    assert fact["status"] == "crit"
    # No rules in a new namespace; ufw present only where its binary is (the module reads `ufw status`).
    ufw = shutil.which("ufw") is not None
    assert fact["firewall"]["ufw"]["present"] is ufw
    assert fact["firewall"]["nftables"] == {"present": True, "tables": [], "input_policy": None}
    if not ufw:
        assert [c["status"] for c in fact["checks"] if c["check"] == "firewall"] == ["warn"]
    walled = guarded["ansible_facts"]["gpufleet_exposure"]
    assert walled["firewall"]["nftables"] == {"present": True, "tables": ["inet gpf"], "input_policy": "drop"}
    assert [c["status"] for c in walled["checks"] if c["check"] == "firewall"] == ["ok"]
    assert [s["port"] for s in walled["exposed"]] == [11434]  # a firewall does not hide a socket bound to all


def _exposure_in(netns):
    """exposure_facts through the real ansible, run inside the network namespace."""
    cmd = ["ip", "netns", "exec", netns, os.path.join(BIN, "ansible"), "localhost", "-m", "gpufleet.maintenance.exposure_facts"]
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=ansible_env(), capture_output=True, text=True, check=False, timeout=120)
    return json.loads(out.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


# ------------------------------------------------------------------ log rotation

def test_log_rotate_compresses_deletes_spares_open_files_and_is_idempotent(tmp_path):
    logs = tmp_path / "llm-audit"
    logs.mkdir()
    now = time.time()
    ages = {"today.jsonl": 0, "old.jsonl": 45, "ancient.jsonl": 400, "busy.log": 90, "other.txt": 90}
    for name, days in ages.items():
        (logs / name).write_text('{"model":"gemma3","ttft_s":0.05}\n' * 200)
        os.utime(logs / name, (now - days * 86400, now - days * 86400))
    writer = subprocess.Popen([sys.executable, "-c", "import sys,time; f=open(sys.argv[1],'a'); print('ok', flush=True); time.sleep(60)",
                               str(logs / "busy.log")], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert writer.stdout.readline().strip() == "ok"
        args = {"paths": [str(logs)], "compress_days": 30, "delete_days": 365}
        check = run_module("gpufleet.maintenance.log_rotate", args, check=True)
        assert check["changed"] is True
        assert sorted(os.listdir(logs)) == sorted(ages)  # check mode touched nothing
        done = run_module("gpufleet.maintenance.log_rotate", args)
        assert done["changed"] is True and done["freed_bytes"] > 0
        plan = dict((os.path.basename(a["path"]), a["action"]) for a in done["actions"])
        assert plan == {"old.jsonl": "compress", "ancient.jsonl": "delete", "busy.log": "skip"}
        assert sorted(os.listdir(logs)) == ["busy.log", "old.jsonl.gz", "other.txt", "today.jsonl"]
        assert abs(os.stat(logs / "old.jsonl.gz").st_mtime - (now - 45 * 86400)) < 2
        again = run_module("gpufleet.maintenance.log_rotate", args)
        assert again["changed"] is False
    finally:
        os.killpg(writer.pid, signal.SIGTERM)
        writer.wait(timeout=10)
    after = run_module("gpufleet.maintenance.log_rotate", {"paths": [str(logs)], "compress_days": 30, "delete_days": 365})
    assert [os.path.basename(a["path"]) for a in after["actions"]] == ["busy.log"] and after["changed"] is True
    assert (logs / "busy.log.gz").exists()


def test_log_rotate_refuses_negative_ages_naming_the_option(tmp_path):
    result = run_module("gpufleet.maintenance.log_rotate", {"paths": [str(tmp_path)], "compress_days": -1})
    assert result["failed"] is True and result["msg"] == "compress_days must be at least 0 (got -1)"


# ------------------------------------------------------------------ runner units and front door

def _runner_playbook(tmp_path, runners, nginx=True, state="present"):
    import yaml

    playbook = tmp_path / "runners.yml"
    playbook.write_text(yaml.safe_dump([{"name": "runners", "hosts": "localhost", "gather_facts": False, "roles": [{
        "role": "gpufleet.maintenance.runner_service", "vars": {
            "runner_service_state": state,
            "runner_service_runners": runners,
            "runner_service_unit_dir": str(tmp_path / "units"),
            "runner_service_nginx": nginx,
            "runner_service_nginx_sites_dir": str(tmp_path / "sites-available"),
            "runner_service_nginx_enabled_dir": str(tmp_path / "sites-enabled"),
        }}]}]))
    for name in ("units", "sites-available", "sites-enabled"):
        (tmp_path / name).mkdir(exist_ok=True)
    return str(playbook)


def test_runner_units_verify_front_door_passes_nginx_t_and_role_is_idempotent(tmp_path):
    from testlib.ansible_run import run_playbook

    apt_ensure("nginx-light", "openssl")
    cert, key = tmp_path / "tls.pem", tmp_path / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=llm.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    runners = [
        {"name": "ollama", "exec": "/usr/bin/sleep infinity", "version": "0.12.6", "model": "gemma3:270m", "port": 11434,
         "memory_max": "48G", "cpu_quota": "400%", "restart_sec": 5, "start_limit_interval_sec": 0,
         "restart_daily_at": "04:30", "server_name": "llm.test", "proxy_read_timeout": "600s",
         "client_max_body_size": "50m", "tls_certificate": str(cert), "tls_certificate_key": str(key), "listen_port": 8443},
        {"name": "llama-server", "exec": "/usr/bin/sleep 1000", "version": "b6500", "port": 8080,
         "environment": {"LLAMA_ARG_CTX_SIZE": "8192"}, "tls_certificate": str(cert), "tls_certificate_key": str(key),
         "listen_port": 8444},
    ]
    playbook = _runner_playbook(tmp_path, runners)
    check = run_playbook(playbook, ["--check"])
    assert check.returncode == 0, check.stdout + check.stderr
    assert os.listdir(tmp_path / "units") == [] and os.listdir(tmp_path / "sites-available") == []
    first = run_playbook(playbook)
    assert first.returncode == 0, first.stdout + first.stderr
    units = sorted(os.listdir(tmp_path / "units"))
    assert units == ["llama-server.service", "ollama-restart.service", "ollama-restart.timer", "ollama.service"]
    ollama = (tmp_path / "units" / "ollama.service").read_text()
    assert "Description=ollama model runner 0.12.6 serving gemma3:270m on 127.0.0.1:11434" in ollama
    assert 'Environment="OLLAMA_HOST=127.0.0.1:11434"' in ollama
    assert "Restart=on-failure" in ollama and "MemoryMax=48G" in ollama and "CPUQuota=400%" in ollama
    assert "RestartSec=5" in ollama.splitlines() and "StartLimitIntervalSec=0" in ollama.splitlines()
    # llama-server leaves them out: the guides' values (issue 20, "defaults are not safe")
    llama = (tmp_path / "units" / "llama-server.service").read_text().splitlines()
    assert {"RestartSec=2", "StartLimitIntervalSec=60", "StartLimitBurst=5", "MemoryMax=90%"} <= set(llama)
    assert not [line for line in llama if line.startswith("CPUQuota=")]
    assert llama.index("StartLimitBurst=5") < llama.index("[Service]")  # a [Unit] setting since systemd 230
    verify = subprocess.run(["systemd-analyze", "verify"] + [str(tmp_path / "units" / u) for u in units],
                            capture_output=True, text=True, check=False, timeout=60)
    assert verify.returncode == 0, verify.stderr
    conf = tmp_path / "nginx.conf"
    conf.write_text("pid %s/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n  include %s/*.conf;\n}\n"
                    % (tmp_path, tmp_path / "sites-enabled"))
    nginx_t = subprocess.run(["nginx", "-t", "-c", str(conf)], capture_output=True, text=True, check=False)
    assert nginx_t.returncode == 0, nginx_t.stderr
    site = (tmp_path / "sites-available" / "gpufleet-ollama.conf").read_text()
    assert "proxy_read_timeout 600s;" in site and "client_max_body_size 50m;" in site and "server 127.0.0.1:11434;" in site
    llama_site = (tmp_path / "sites-available" / "gpufleet-llama-server.conf").read_text()
    assert "proxy_read_timeout 300s;" in llama_site and "client_max_body_size 2m;" in llama_site
    second = run_playbook(playbook)
    assert second.returncode == 0 and "changed=0" in second.stdout, second.stdout
    # check mode with diff: a changed option is shown as the unit's diff and nothing is written
    before = (tmp_path / "units" / "llama-server.service").read_text()
    runners[1]["memory_max"] = ""
    preview = run_playbook(_runner_playbook(tmp_path, runners), ["--check", "--diff"])
    assert preview.returncode == 0 and "changed=1" in preview.stdout, preview.stdout
    assert "-MemoryMax=90%" in preview.stdout and "+MemoryMax" not in preview.stdout, preview.stdout
    assert (tmp_path / "units" / "llama-server.service").read_text() == before
    gone = run_playbook(_runner_playbook(tmp_path, runners, state="absent"))
    assert gone.returncode == 0, gone.stdout
    assert os.listdir(tmp_path / "units") == [] and os.listdir(tmp_path / "sites-enabled") == []


# ------------------------------------------------------------------ model switch and rollback

RUNNER = r"""
import http.server, json, os, sys
model_dir, port = sys.argv[1], int(sys.argv[2])
model = os.readlink(os.path.join(model_dir, "current"))  # what a runner loads at start
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"status": "ok", "model": model}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""

RESTART = """#!/bin/sh
# stand-in for `systemctl restart runner`: stop the old process, start a new one, detached
[ -f "{pidfile}" ] && kill "$(cat "{pidfile}")" 2>/dev/null && sleep 0.2
setsid {python} {runner} {models} {port} >/dev/null 2>&1 < /dev/null &
echo $! > "{pidfile}"
"""


def _get(url):
    import urllib.request

    return json.loads(urllib.request.urlopen(url, timeout=2).read())


def test_model_switch_and_timed_rollback(tmp_path):
    import socket
    import yaml
    from testlib.ansible_run import run_playbook

    models = tmp_path / "models" / "gemma3"
    models.mkdir(parents=True)
    for version in ("2026-10-01.gguf", "2026-11-01.gguf", "2026-11-20.gguf"):
        (models / version).write_bytes(b"GGUF" + version.encode())
    os.symlink("2026-10-01.gguf", models / "current")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "runner.py").write_text(RUNNER)
    restart = tmp_path / "restart.sh"
    restart.write_text(RESTART.format(pidfile=tmp_path / "runner.pid", python=sys.executable, runner=tmp_path / "runner.py",
                                      models=models, port=port))
    restart.chmod(0o755)
    subprocess.run([str(restart)], check=True)
    url = "http://127.0.0.1:%d/health" % port
    variables = tmp_path / "vars.yml"
    variables.write_text(yaml.safe_dump({"model_pin_dir": str(models), "model_pin_restart_command": [str(restart)],
                                         "model_pin_health_url": url}))
    switch = tmp_path / "switch.yml"
    switch.write_text(yaml.safe_dump([{"name": "switch", "hosts": "localhost", "gather_facts": False,
                                       "roles": [{"role": "gpufleet.maintenance.model_pin"}]}]))
    try:
        first = run_playbook(str(switch), ["-e", "@%s" % variables, "-e", "model_pin_version=2026-11-20.gguf"])
        assert first.returncode == 0, first.stdout + first.stderr
        assert os.readlink(models / "current") == "2026-11-20.gguf"
        assert os.readlink(models / "previous") == "2026-10-01.gguf"
        assert _get(url)["model"] == "2026-11-20.gguf"
        again = run_playbook(str(switch), ["-e", "@%s" % variables, "-e", "model_pin_version=2026-11-20.gguf"])
        assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout
        refused = run_playbook(str(switch), ["-e", "@%s" % variables, "-e", '{"model_pin_prune": ["2026-10-01.gguf"]}'])
        assert refused.returncode != 0 and "refusing to delete 2026-10-01.gguf" in refused.stdout
        assert (models / "2026-10-01.gguf").exists()
        started = time.monotonic()
        rollback = run_playbook("playbooks/model_rollback.yml", ["-e", "@%s" % variables, "-e", "gpufleet_hosts=localhost"])
        rollback_s = time.monotonic() - started
        assert rollback.returncode == 0, rollback.stdout + rollback.stderr
        import re

        match = re.search(r"rolled back \S+\s+to 2026-10-01.gguf in ([0-9.]+) s", rollback.stdout)
        assert match, rollback.stdout
        # The time it reports is the switch's own, inside the playbook run this test timed around it
        # (how fast a rollback is belongs to tests/bench, not to an assertion here).
        assert 0 < float(match.group(1)) <= rollback_s
        assert os.readlink(models / "current") == "2026-10-01.gguf"
        assert os.readlink(models / "previous") == "2026-11-20.gguf"
        assert _get(url)["model"] == "2026-10-01.gguf"
        pruned = run_playbook(str(switch), ["-e", "@%s" % variables, "-e", '{"model_pin_prune": ["2026-11-01.gguf"]}'])
        assert pruned.returncode == 0 and not (models / "2026-11-01.gguf").exists()
    finally:
        pid = (tmp_path / "runner.pid").read_text().strip()
        subprocess.run(["kill", pid], check=False)
