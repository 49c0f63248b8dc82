"""A private Docker daemon, a local registry and tiny images for the Docker integration tests.

The engine on a CI machine is shared with other test runs, so prune tests run against a dockerd of
their own (own data root, exec root, pidfile and socket under a temp dir, no bridge, no iptables);
the registry is Debian's ``docker-registry`` on 127.0.0.1 with a no-auth config written here. Both
are stopped by their process group, bounded in time. Images are built without any pull: a tree with
Debian's static busybox plus a file that makes the content unique, given to ``docker import``.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

from testlib.ansible_run import BIN, REPO_ROOT, ansible_env
from testlib.system import apt_ensure

BUSYBOX = "/bin/busybox"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_group(proc, timeout=20):
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def restore_docker0():
    """A dockerd started with --bridge=none deletes the host's docker0 bridge, which the shared engine
    (molecule, other tests) needs; put it back as dockerd made it."""
    if subprocess.run(["ip", "link", "show", "docker0"], capture_output=True, check=False).returncode == 0:
        return
    for cmd in (["ip", "link", "add", "docker0", "type", "bridge"], ["ip", "addr", "add", "172.17.0.1/16", "dev", "docker0"],
                ["ip", "link", "set", "docker0", "up"]):
        subprocess.run(cmd, capture_output=True, check=False)


class Dockerd:
    """``with Dockerd() as engine:`` - a private daemon; ``engine.host`` is its ``unix://`` URL."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gpf6-dd-", dir="/tmp")
        self.sock = os.path.join(self.dir, "docker.sock")
        self.host = "unix://" + self.sock
        self.proc = None

    def __enter__(self):
        apt_ensure("docker.io", "busybox-static")
        return self._start()

    def _start(self):
        log = open(os.path.join(self.dir, "dockerd.log"), "a")
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", os.path.join(self.dir, "data"), "--exec-root", os.path.join(self.dir, "exec"),
             "--pidfile", os.path.join(self.dir, "dockerd.pid"), "-H", self.host, "--bridge=none", "--iptables=false",
             "--ip6tables=false", "--ip-masq=false"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dockerd exited: %s" % self.log_tail())
            if subprocess.run(["docker", "-H", self.host, "version"], capture_output=True, check=False).returncode == 0:
                restore_docker0()
                return self
            time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError("private dockerd did not answer within 60 s: %s" % self.log_tail())

    @property
    def pidfile(self):
        """The daemon's pidfile: dockerd rewrites it at every start."""
        return os.path.join(self.dir, "dockerd.pid")

    def restart(self):
        """Stop this dockerd and start it again on the same data root (what `systemctl restart docker` does)."""
        _stop_group(self.proc)
        return self._start()

    def log_tail(self):
        with open(os.path.join(self.dir, "dockerd.log")) as handle:
            return handle.read()[-2000:]

    def __exit__(self, *exc):
        if self.proc is not None:
            ids = self.docker("ps", "-aq", check=False).stdout.split()
            if ids:
                self.docker("rm", "-f", *ids, check=False)
            self.docker("network", "prune", "-f", check=False)  # bridges live outside the data root
            _stop_group(self.proc)
            restore_docker0()
        with open("/proc/mounts") as handle:
            mounts = [line.split()[1] for line in handle if self.dir in line]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], capture_output=True, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop_daemon(self):
        """Stop this dockerd now (the engine going away under a running client); cleaned up on exit."""
        _stop_group(self.proc)

    def docker(self, *args, check=True, input=None):
        proc = subprocess.run(["docker", "-H", self.host] + list(args), capture_output=True, text=True,
                              input=input, timeout=180, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("docker %s failed (rc %s): %s" % (" ".join(args), proc.returncode, proc.stderr))
        return proc

    def inspect(self, *names, kind=None):
        args = ["inspect"] + (["--type", kind] if kind else []) + list(names)
        return json.loads(self.docker(*args).stdout)

    def inspect_info(self):
        return json.loads(self.docker("info", "--format", "{{json .}}").stdout)

    def make_image(self, tag, content, labels=None):
        """Import a busybox tree with ``/content.txt`` = ``content``; return the image ID."""
        tree = tempfile.mkdtemp(prefix="gpf6-img-", dir=self.dir)
        os.makedirs(os.path.join(tree, "bin"))
        os.makedirs(os.path.join(tree, "tmp"))
        shutil.copy2(BUSYBOX, os.path.join(tree, "bin", "busybox"))
        for applet in ("sh", "sleep", "cat", "echo", "yes", "head"):
            os.symlink("busybox", os.path.join(tree, "bin", applet))
        with open(os.path.join(tree, "content.txt"), "w") as handle:
            handle.write(content)
        tar = subprocess.run(["tar", "-C", tree, "-cf", "-", "."], capture_output=True, check=True).stdout
        args = ["docker", "-H", self.host, "import", "-c", 'CMD ["/bin/sleep", "3600"]']
        for key, value in (labels or {}).items():
            args += ["-c", "LABEL %s=%s" % (key, value)]
        args += ["-", tag] if tag else ["-"]
        proc = subprocess.run(args, input=tar, capture_output=True, check=False, timeout=120)
        shutil.rmtree(tree, ignore_errors=True)
        if proc.returncode != 0:
            raise AssertionError("docker import failed: %s" % proc.stderr.decode())
        return proc.stdout.decode().strip()

    def push(self, ref):
        """Push ``ref``; return the digest the registry gave it."""
        self.docker("push", ref)
        name = ref.rsplit(":", 1)[0]
        for entry in self.inspect(ref, kind="image")[0]["RepoDigests"]:
            if entry.startswith(name + "@"):
                return entry.split("@", 1)[1]
        raise AssertionError("no repo digest for %s after the push" % ref)


class Registry:
    """``with Registry() as reg:`` - Debian's docker-registry on 127.0.0.1; ``reg.address`` is host:port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gpf6-reg-", dir="/tmp")
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        self.proc = None

    def __enter__(self):
        apt_ensure("docker-registry")
        config = os.path.join(self.dir, "config.yml")
        with open(config, "w") as handle:
            handle.write(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
                "  delete:\n    enabled: true\nhttp:\n  addr: %s\n" % (os.path.join(self.dir, "data"), self.address))
        log = open(os.path.join(self.dir, "registry.log"), "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", config], stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("docker-registry exited: %s" % open(os.path.join(self.dir, "registry.log")).read()[-2000:])
            try:
                urllib.request.urlopen("http://%s/v2/" % self.address, timeout=2).read()
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("docker-registry did not answer on %s within 30 s" % self.address)

    def __exit__(self, *exc):
        if self.proc is not None:
            _stop_group(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


def run_module(module, args, check=False, diff=False):
    """One module ad hoc on localhost (``--check``/``--diff`` as asked); the host's result dict."""
    cmd = [os.path.join(BIN, "ansible"), "localhost", "-m", module] + (["-a", json.dumps(args)] if args else [])
    cmd += ["--check"] if check else []
    cmd += ["--diff"] if diff else []
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=ansible_env(), capture_output=True, text=True, timeout=600, check=False)
    try:
        return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("ansible did not print a result (rc %s):\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
