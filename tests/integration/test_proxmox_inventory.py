"""inventory/fleet.example.proxmox.yml through the real community.proxmox.proxmox inventory plugin and the
real ansible-inventory, against a local HTTP server answering the Proxmox API (``/api2/json/...``) with
replies recorded from PVE 6.2 (tests/unit/fixtures/proxmox/PROVENANCE.md). The server refuses any request
whose API token is not the one in the environment, and answers 501 for paths it has no reply for, as
pveproxy does for a method it does not implement."""

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from testlib.ansible_run import BIN, REPO_ROOT, ansible_env
from testlib.proxmox_host import api_pve62

pytestmark = pytest.mark.integration

EXAMPLE = os.path.join(REPO_ROOT, "inventory", "fleet.example.proxmox.yml")
SECRET = "0f2d6a1c-gpufleet-test-token"
TOKEN = "PVEAPIToken=gpufleet@pve!inventory=%s" % SECRET


class _Api(BaseHTTPRequestHandler):
    replies = {}
    seen = []

    def log_message(self, *_args):
        pass

    def _send(self, status, data):
        body = json.dumps({"data": data}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's name
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != TOKEN:
            return self._send(401, None)
        path = self.path.split("?", 1)[0]
        if not path.startswith("/api2/json/"):
            return self._send(404, None)
        path = path[len("/api2/json"):]
        if path.endswith("/snapshot"):
            return self._send(200, self.replies["snapshot (every guest)"])
        if path in self.replies:
            return self._send(200, self.replies[path])
        return self._send(501, None)


@pytest.fixture
def api():
    _Api.replies, _Api.seen = api_pve62(), []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _plain(value):
    """A value as ansible-inventory prints it, without its ``__ansible_unsafe`` wrapping."""
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) else value


def _inventory(tmp_path, url, **env):
    with open(EXAMPLE) as handle:
        text = handle.read()
    assert SECRET not in text and "token_secret" not in yaml.safe_load(text)   # the secret is not in the file
    source = tmp_path / "fleet.proxmox.yml"
    source.write_text(text.replace("url: https://pve-01.example.internal:8006", "url: %s" % url))
    environ = ansible_env(**env)
    if "PROXMOX_TOKEN_SECRET" not in env:
        environ.pop("PROXMOX_TOKEN_SECRET", None)
    return subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(source), "--list"], cwd=REPO_ROOT,
                          env=environ, capture_output=True, text=True, timeout=120, check=False)


def test_the_example_lists_the_nodes_and_guests_with_the_token_from_the_environment(tmp_path, api):
    proc = _inventory(tmp_path, api, PROXMOX_TOKEN_SECRET=SECRET)
    assert proc.returncode == 0, proc.stderr
    inventory = json.loads(proc.stdout)
    hostvars = inventory["_meta"]["hostvars"]
    guests = ["test-lxc", "test-qemu", "test-qemu-multi-nic", "test-qemu-windows"]
    assert sorted(inventory["proxmox_nodes"]["hosts"]) == ["testnode", "testnode2"]
    assert sorted(inventory["proxmox_all_qemu"]["hosts"]) == guests[1:]
    assert inventory["proxmox_all_lxc"]["hosts"] == ["test-lxc"]
    assert "test-qemu-template" not in hostvars   # filtered out: its configuration is never asked for
    assert not any("/9001/" in path for path, _auth in _Api.seen)
    # The recorded configs tag VM 101 and container 100 "one, two, three": a group per tag.
    assert sorted(inventory["tag_one"]["hosts"]) == ["test-lxc", "test-qemu"]
    # No recorded guest is tagged gpu: none expects a GPU, and gpu_guests is empty.
    assert [hostvars[g]["gpufleet_proxmox_guest_gpus"] for g in guests] == [0, 0, 0, 0]
    assert not inventory.get("gpu_guests", {}).get("hosts")
    assert [_plain(hostvars["test-qemu"][key]) for key in ("proxmox_vmid", "proxmox_node", "proxmox_status")] == [
        "101", "testnode", "stopped"]   # the recording's vmid (a string in PVE 6.2) and its status/current of 101
    # Every request carried the token of the environment.
    assert _Api.seen and set(auth for _path, auth in _Api.seen) == {TOKEN}
    assert ("/api2/json/nodes/testnode/qemu/101/config", TOKEN) in _Api.seen


def test_without_the_secret_in_the_environment_the_plugin_refuses_to_run(tmp_path, api):
    proc = _inventory(tmp_path, api)
    assert "You must specify either a password or both token_id and token_secret" in proc.stderr + proc.stdout
    assert _Api.seen == []   # nothing was asked without credentials
