"""Minimal SSH hosts for the execution environment tests: containers running sshd on a private Docker
network, reached by the EE container with a key made for the run.

TODO(h-fresh): switch to tests/testlib/ssh_fleet.py (SshFleet/FleetHost, the fresh images of
scripts/docker-infra) once that branch is merged; this module exists only because it was not yet.
"""

import os
import secrets
import subprocess
import tempfile
import time

import yaml

from testlib.ansible_run import REPO_ROOT

HOST_IMAGE = "local/h-awx-sshd:bookworm"
# The image carries the distribution packages the prerequisites role installs on Debian
# (roles/prerequisites/vars/Debian.yml, read at build time so the two cannot drift), so the role finds
# nothing missing: these hosts are the shared pre-provisioned image, not fresh boxes (the fleet tests
# prove the install on fresh ones), and with the image's emptied package lists the role's apt install
# failed here ("No package matching 'dmidecode'", 2026-12-05).
_DOCKERFILE = """FROM local/gpufleet-debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server {packages} \\
 && rm -rf /var/lib/apt/lists/* && ssh-keygen -A && mkdir -p /run/sshd /root/.ssh && chmod 700 /root/.ssh
CMD ["/usr/sbin/sshd", "-D", "-e"]
"""


def prerequisites_packages():
    """The Debian packages the prerequisites role installs (its vars/Debian.yml)."""
    with open(os.path.join(REPO_ROOT, "roles", "prerequisites", "vars", "Debian.yml")) as handle:
        return list(yaml.safe_load(handle)["__prerequisites_packages"])


def docker(*args, check=True, timeout=300, **kwargs):
    proc = subprocess.run(["docker"] + list(args), capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s failed (rc %s): %s" % (" ".join(args[:3]), proc.returncode, proc.stderr.strip()[-2000:]))
    return proc


def ensure_host_image():
    """The host image (the shared Debian test image plus openssh-server), built once."""
    subprocess.run([os.path.join(REPO_ROOT, "scripts", "docker-infra"), "image"], check=True, capture_output=True, timeout=1200)
    with tempfile.TemporaryDirectory(prefix="h-awx-sshd-") as context:
        with open(os.path.join(context, "Dockerfile"), "w") as handle:
            handle.write(_DOCKERFILE.format(packages=" ".join(prerequisites_packages())))
        # --network=host: apt reaches the archive whatever happens to the docker0 bridge meanwhile
        docker("build", "-q", "--network=host", "-t", HOST_IMAGE, context, timeout=900)
    return HOST_IMAGE


class SshHosts:
    """``with SshHosts(["box1", "box2"]) as hosts:`` - ``hosts.network``, ``hosts.names``,
    ``hosts.private_key`` (text), ``hosts.inventory()``; containers and network removed on exit."""

    def __init__(self, names):
        self.prefix = "h-awx-%s" % secrets.token_hex(3)
        self.names = ["%s-%s" % (self.prefix, name) for name in names]
        self.network = self.prefix + "-net"
        self.dir = tempfile.mkdtemp(prefix="h-awx-keys-")
        self.private_key = None

    def __enter__(self):
        ensure_host_image()
        key = os.path.join(self.dir, "id_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", self.prefix, "-f", key], check=True)
        with open(key) as handle:
            self.private_key = handle.read()
        os.chmod(key + ".pub", 0o644)
        docker("network", "create", self.network)
        try:
            for name in self.names:
                docker("run", "-d", "--name", name, "--hostname", name.rsplit("-", 1)[-1], "--network", self.network,
                       "-v", "%s.pub:/root/.ssh/authorized_keys:ro" % key, HOST_IMAGE)
            self._wait_sshd()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_sshd(self):
        deadline = time.monotonic() + 60
        for name in self.names:
            while docker("exec", name, "pgrep", "-x", "sshd", check=False).returncode != 0:
                if time.monotonic() > deadline:
                    raise AssertionError("sshd did not start in %s: %s" % (name, docker("logs", name, check=False).stderr))
                time.sleep(0.3)

    def inventory(self):
        """An inventory of the hosts (by container name, which the network resolves)."""
        return {"all": {"children": {"gpu_boxes": {"hosts": dict(
            (name, {"ansible_host": name, "ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3"})
            for name in self.names)}}}}

    def __exit__(self, *exc):
        for name in self.names:
            docker("rm", "-f", name, check=False)
        docker("network", "rm", self.network, check=False)
        for entry in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, entry))
        os.rmdir(self.dir)
