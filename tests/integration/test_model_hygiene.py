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
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and iproute2 to create a network namespace")
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
        cmd = ["ip", "netns", "exec", netns, os.path.join(BIN, "ansible"), "localhost", "-m", "gpufleet.maintenance.exposure_facts"]
        out = subprocess.run(cmd, cwd=REPO_ROOT, env=ansible_env(), capture_output=True, text=True, check=False, timeout=120)
        result = json.loads(out.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
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
    assert fact["firewall"]["ufw"]["present"] in (True, False)


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
