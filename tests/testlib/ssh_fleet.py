"""A fleet of fresh container hosts reached over real SSH, cut off from every package index.

Each host runs an image built by ``scripts/docker-infra fresh`` (Debian 12 minbase with python3,
sudo, ca-certificates and procps, plus openssh-server and the user ``ops`` with passwordless sudo);
``ops`` logs in with a key made for the fleet, and plays use ``become: true`` as on real boxes. The
hosts sit on an internal Docker network: no route out and no DNS. Their APT goes through
:class:`testlib.apt_proxy.AptProxy` on the network's gateway, which lets through only the
distribution archives (as a local mirror does in an air-gapped fleet); PyPI is unreachable, so what
Python packages a host gets, it gets from the controller.

    hosts = [FleetHost("web-1"), FleetHost("gpu-1", image=FRESH_SSH_DOCKER, dockerd=True),
             FleetHost("down-1", stopped=True)]
    with SshFleet("gpf18", hosts) as fleet:
        run = fleet.playbook("playbooks/daily.yml")
        run.stats["gpf18-web-1"]["failures"]

The inventory (``fleet.inventory``, YAML) and the key (``fleet.key``) can be handed to
ansible-runner or an execution environment as they are. Containers, the network and the key are
removed on exit; every name starts with the prefix given.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import yaml

from testlib.ansible_run import REPO_ROOT, run_playbook
from testlib.apt_proxy import AptProxy

FRESH = "local/gpufleet-fresh:bookworm"
FRESH_SSH = "local/gpufleet-fresh-ssh:bookworm"
FRESH_SSH_DOCKER = "local/gpufleet-fresh-ssh-docker:bookworm"
FRESH_NOBLE = "local/gpufleet-fresh:noble"
FRESH_SSH_NOBLE = "local/gpufleet-fresh-ssh:noble"
_INFRA_TARGET = {FRESH: "fresh", FRESH_SSH: "fresh", FRESH_SSH_DOCKER: "fresh", FRESH_NOBLE: "noble",
                 FRESH_SSH_NOBLE: "noble"}


def ensure_images(*images):
    """Build (or find current) the fresh images named, through scripts/docker-infra; other images
    (an execution environment, an image built elsewhere) must exist already."""
    for target in sorted({_INFRA_TARGET[image] for image in images if image in _INFRA_TARGET}):
        env = dict(os.environ, GPUFLEET_UBUNTU="yes") if target == "noble" else None
        proc = subprocess.run([os.path.join(REPO_ROOT, "scripts", "docker-infra"), target], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=1200, check=False)
        if proc.returncode != 0:
            pytest.fail("scripts/docker-infra %s failed:\n%s\n%s" % (target, proc.stdout[-3000:], proc.stderr[-3000:]))


def docker(*args, check=True, timeout=120):
    proc = subprocess.run(["docker"] + list(args), capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s failed (rc %s): %s" % (" ".join(args), proc.returncode, proc.stderr.strip()))
    return proc


class FleetHost:
    """One host: ``image``, ``dockerd`` (start Debian's dockerd in it: needs the docker image),
    ``stopped`` (created, then stopped before any play: unreachable)."""

    def __init__(self, name, image=FRESH_SSH, dockerd=False, stopped=False):
        self.name = name
        self.image = image
        self.dockerd = dockerd
        self.stopped = stopped
        self.container = None
        self.address = None


class FleetRun:
    """The outcome of one ansible-playbook run over the fleet (ansible.posix.json output)."""

    def __init__(self, proc):
        self.proc = proc
        self.returncode = proc.returncode
        try:
            self.data = json.loads(proc.stdout)
        except ValueError:
            pytest.fail("ansible-playbook did not print JSON (rc %s):\n%s\n%s"
                        % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
        self.stats = self.data["stats"]

    def results(self, host):
        """[(task name, result)] of ``host`` in run order."""
        out = []
        for play in self.data["plays"]:
            for task in play["tasks"]:
                if host in task["hosts"]:
                    out.append((task["task"]["name"], task["hosts"][host]))
        return out

    def failed_tasks(self, host):
        return [(name, result.get("msg")) for name, result in self.results(host)
                if result.get("failed") and not result.get("ignore_errors")]

    def changed_tasks(self, host):
        return [name for name, result in self.results(host) if result.get("changed")]

    def facts(self, host, name):
        """The last value of ``ansible_facts[name]`` that a task of ``host`` set."""
        value = None
        for _task, result in self.results(host):
            facts = result.get("ansible_facts") or {}
            if name in facts:
                value = facts[name]
        return value

    def explain(self):
        return "rc %s\nstats %s\nstderr %s\nfailed %s" % (
            self.returncode, json.dumps(self.stats), self.proc.stderr[-3000:],
            json.dumps({h: self.failed_tasks(h) for h in self.stats}, indent=1)[-6000:])


class SshFleet:
    def __init__(self, prefix, hosts, apt_proxy=True, extra_host_vars=None):
        self.prefix = prefix
        self.hosts = dict((h.name, h) for h in hosts)
        self.use_proxy = apt_proxy
        self.extra_host_vars = extra_host_vars or {}
        self.dir = None
        self.network = prefix + "-net"
        self.proxy = None
        self.key = None
        self.inventory = None

    # ------------------------------------------------------------------ set-up and tear-down
    def __enter__(self):
        ensure_images(*{h.image for h in self.hosts.values()})
        self.dir = tempfile.mkdtemp(prefix=self.prefix + "-fleet-")
        self.key = os.path.join(self.dir, "id_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", self.prefix, "-f", self.key], check=True)
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self):
        docker("network", "rm", self.network, check=False)
        docker("network", "create", "--internal", "--label", "io.gpufleet.test=" + self.prefix, self.network)
        gateway = json.loads(docker("network", "inspect", self.network).stdout)[0]["IPAM"]["Config"][0]["Gateway"]
        if self.use_proxy:
            self.proxy = AptProxy(gateway).__enter__()
        with open(self.key + ".pub") as handle:
            pubkey = handle.read().strip()
        for host in self.hosts.values():
            host.container = "%s-%s" % (self.prefix, host.name)
            docker("rm", "-fv", host.container, check=False)
            args = ["run", "-d", "--init", "--name", host.container, "--hostname", host.name, "--network", self.network,
                    "--label", "io.gpufleet.test=" + self.prefix, "-e", "GPUFLEET_AUTHORIZED_KEY=" + pubkey]
            if host.image == FRESH_SSH_DOCKER:
                # dockerd inside needs capabilities (all but CAP_SYS_RESOURCE, which a CI machine that is
                # itself a container may not hold, so no --privileged) and its data root on a volume
                # (overlay2 on overlay fails)
                args += ["--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--security-opt", "seccomp=unconfined",
                         "--security-opt", "apparmor=unconfined", "-v", "/var/lib/docker"]
            if host.dockerd:
                args += ["-e", "GPUFLEET_DOCKERD=1"]
            docker(*(args + [host.image]))
            info = json.loads(docker("inspect", host.container).stdout)[0]
            host.address = info["NetworkSettings"]["Networks"][self.network]["IPAddress"]
        for host in self.hosts.values():
            self._wait_for_ssh(host)
            if self.proxy:
                self.exec(host.name, "sh", "-c", "printf 'Acquire::http::Proxy \"%s\";\\n' > /etc/apt/apt.conf.d/01gpufleet-test-proxy"
                          % self.proxy.url)
            if host.dockerd:
                self._wait_for_dockerd(host)
        for host in self.hosts.values():
            if host.stopped:
                docker("stop", "-t", "2", host.container)
        self.inventory = os.path.join(self.dir, "inventory.yml")
        with open(self.inventory, "w") as handle:
            yaml.safe_dump(self.inventory_data(), handle, default_flow_style=False)

    def _wait_for_ssh(self, host, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with socket.create_connection((host.address, 22), timeout=2) as sock:
                    if sock.recv(4).startswith(b"SSH"):
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError("sshd of %s did not answer within %s s: %s"
                             % (host.name, timeout, docker("logs", host.container, check=False).stderr[-2000:]))

    def _wait_for_dockerd(self, host, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.exec(host.name, "docker", "version", check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise AssertionError("dockerd in %s did not answer within %s s: %s" % (
            host.name, timeout, self.exec(host.name, "tail", "-n", "30", "/var/log/dockerd.log", check=False).stdout))

    def __exit__(self, *exc):
        for host in self.hosts.values():
            if host.container:
                docker("rm", "-fv", host.container, check=False)
        docker("network", "rm", self.network, check=False)
        if self.proxy:
            self.proxy.__exit__(None, None, None)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------------ use
    def name(self, host):
        """The inventory name of ``host`` (the container name)."""
        return self.hosts[host].container

    def inventory_data(self):
        hosts = {}
        for host in self.hosts.values():
            hosts[host.container] = dict({"ansible_host": host.address}, **self.extra_host_vars.get(host.name, {}))
        return {"all": {
            "hosts": hosts,
            "children": {"canary": {"hosts": {}}},
            "vars": {
                "ansible_user": "ops",
                "ansible_become": True,
                "ansible_ssh_private_key_file": self.key,
                "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
                "ansible_timeout": 10,
            },
        }}

    def exec(self, host, *argv, check=True):
        """Run ``argv`` as root in ``host`` (docker exec: for set-up and assertions, not for plays)."""
        return docker("exec", self.hosts[host].container, *argv, check=check)

    def playbook(self, playbook, *args, check=False, extra_vars=None, env=None):
        """ansible-playbook ``playbook`` over the fleet from the checkout (its ansible.cfg). The
        prerequisites role is on (testlib.ansible_run keeps it off for localhost runs) unless
        ``extra_vars`` says otherwise."""
        argv = ["-i", self.inventory] + list(args)
        argv += ["-e", json.dumps(dict({"gpufleet_prerequisites": True}, **(extra_vars or {})))]
        if check:
            argv.append("--check")
        return FleetRun(run_playbook(playbook, argv, env=env, json_output=True))
