"""Test servers for the LLM probe: the replay server, the Ollama shim and a real llama-server.

Every server binds 127.0.0.1 port 0, runs in its own process group (``start_new_session``), is
waited for within a bounded time and always stopped (pytest fixtures with finalizers).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


class Server:
    """A server process in its own process group; ``url`` once it listens."""

    def __init__(self, argv, env=None, port=None, ready_path=None, ready_timeout=60.0, log_path=None):
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE if port is None else self._log, stderr=self._log,
                                     env=env, start_new_session=True)
        self.port = port
        deadline = time.monotonic() + ready_timeout
        try:
            if self.port is None:
                line = _readline_with_deadline(self.proc, deadline)
                if not line.startswith("PORT "):
                    raise RuntimeError("server %s printed %r instead of its port" % (argv, line))
                self.port = int(line.split()[1])
            if ready_path:
                _wait_http(self.url + ready_path, deadline, self.proc)
        except BaseException:
            self.stop()
            raise

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()

    def log_tail(self, size=3000):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as handle:
            return handle.read()[-size:].decode("utf-8", "replace")


def _readline_with_deadline(proc, deadline):
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if sel.select(timeout=0.2):
            return proc.stdout.readline().decode().strip()
        if proc.poll() is not None:
            raise RuntimeError("server %s exited with %s before listening" % (proc.args, proc.returncode))
    raise RuntimeError("server %s did not print its port in time" % (proc.args,))


def _wait_http(url, deadline, proc):
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server %s exited with %s before answering %s" % (proc.args, proc.returncode, url))
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError("server did not answer %s in time (%s)" % (url, last))


def free_port():
    """A port nothing listens on (bound then released): connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_json(url, body=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def start_replay(**state):
    """Start tests/testlib/llm_replay_server.py with the given initial state."""
    return Server([sys.executable, os.path.join(HERE, "llm_replay_server.py"), json.dumps(state)], ready_timeout=20)


def replay_servers():
    """Generator for a fixture: yields a factory ``start(first_delay_s=..., fault=...)`` and stops
    every server it started when resumed. Use: ``yield from replay_servers()``."""
    servers = []

    def start(**state):
        server = start_replay(**state)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --- the real llama.cpp server -------------------------------------------------------------------

def llama_server_binary():
    """Path of llama-server, built once by scripts/llama-server-build (a few minutes; cached)."""
    proc = subprocess.run([os.path.join(REPO_ROOT, "scripts", "llama-server-build")], capture_output=True,
                          text=True, timeout=3600, check=False)
    if proc.returncode != 0:
        pytest.fail("scripts/llama-server-build failed:\n%s" % proc.stderr[-3000:])
    return proc.stdout.strip().splitlines()[-1]


def start_llama_server(binary, model, tmpdir, threads=1, alias="tiny", extra=()):
    """One compute thread: the tiny model needs no more, and with two, a token waits at ggml's thread
    barrier whenever the other thread is off the CPU. Under eight busy loops on two cores that cost
    Debian's build about 200 ms a token (4.4 tokens/s against 49 with one thread, measured 2026-12-05),
    which hides the pacing the regression test injects."""
    argv = [binary, "-m", model, "--host", "127.0.0.1", "--port", str(free_port()), "-c", "1024",
            "-t", str(threads), "--alias", alias, "--metrics", "-np", "2"] + list(extra)
    port = int(argv[argv.index("--port") + 1])
    return Server(argv, port=port, ready_path="/health", ready_timeout=120,
                  log_path=os.path.join(str(tmpdir), "llama-server-%d.log" % port))


def start_ollama_shim(upstream, model_path, name="tiny:latest"):
    return Server([sys.executable, os.path.join(HERE, "ollama_shim.py"), "--upstream", upstream,
                   "--model-path", model_path, "--name", name], ready_path="/api/version", ready_timeout=20)
