"""A Debian container host with systemd as PID 1, for tests of what only a running systemd does
(daemon-reload, enabling and starting units, restarting services from handlers).

The image is the molecule image (scripts/docker-infra image) with systemd, dbus and smartmontools
added, built once and tagged by a hash of its recipe. systemd runs in the container with
CAP_SYS_ADMIN, no seccomp filter, the host's cgroup tree mounted read-only (cgroup v1 and hybrid
hosts) or a private cgroup namespace (cgroup v2), and tmpfs on /run and /run/lock. Where the
engine cannot run systemd at all, the test is skipped as missing hardware, naming why.
"""

import contextlib
import hashlib
import os
import subprocess
import time
import uuid

from testlib import hardware

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BASE = os.environ.get("GPUFLEET_IMAGE", "local/gpufleet-debian:bookworm")
RECIPE = (
    "apt-get update -qq -o DPkg::Lock::Timeout=300 && "
    "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd systemd-sysv dbus smartmontools && "
    "apt-get clean && "
    # smartd in a container: Debian's unit skips virtual machines and containers
    # (ConditionVirtualization=no), and with no drive to watch smartd would exit; here it runs.
    "echo 'smartd_opts=\"-q never\"' > /etc/default/smartmontools && "
    "mkdir -p /etc/systemd/system/smartmontools.service.d && "
    "printf '[Unit]\\nConditionVirtualization=\\n' > /etc/systemd/system/smartmontools.service.d/gpufleet-test.conf"
)
TAG = "gpf16/debian-systemd:%s" % hashlib.sha256((BASE + RECIPE).encode()).hexdigest()[:12]
RUN_FLAGS = (
    ["--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro"],
    ["--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--cgroupns=private"],
)


def _docker(*args, check=True, timeout=600):
    proc = subprocess.run(["docker"] + list(args), capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s failed (rc %s): %s" % (" ".join(args[:3]), proc.returncode, proc.stderr[-2000:]))
    return proc


def build_image():
    """The systemd image (built once per recipe); returns its tag."""
    if _docker("image", "inspect", TAG, check=False).returncode == 0:
        return TAG
    subprocess.run([os.path.join(REPO_ROOT, "scripts", "docker-infra"), "image"], check=True, capture_output=True)
    builder = "gpf16-systemd-build-%s" % uuid.uuid4().hex[:6]
    try:
        _docker("run", "--name", builder, BASE, "sh", "-c", RECIPE)
        _docker("commit", "-c", 'CMD ["/sbin/init"]', builder, TAG)
    finally:
        _docker("rm", "-f", builder, check=False)
    return TAG


def exec_(name, *argv, check=True):
    """Run a command in the container host; returns the CompletedProcess."""
    return _docker("exec", name, *argv, check=check, timeout=300)


def _state(name):
    proc = exec_(name, "systemctl", "is-system-running", check=False)
    return proc.stdout.strip()


@contextlib.contextmanager
def systemd_host(prefix, volumes=()):
    """Yield the name of a running container whose PID 1 is systemd; removed afterwards."""
    image = build_image()
    errors = []
    for flags in RUN_FLAGS:
        name = "%s-%s" % (prefix, uuid.uuid4().hex[:6])
        args = ["run", "-d", "--name", name, "--network", "none", "--tmpfs", "/run", "--tmpfs", "/run/lock"] + flags
        for source, target in volumes:
            args += ["-v", "%s:%s" % (source, target)]
        started = _docker(*(args + [image]), check=False)
        state = ""
        if started.returncode == 0:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                state = _state(name)
                if state in ("running", "degraded"):
                    break
                time.sleep(0.5)
        if state in ("running", "degraded"):
            try:
                yield name
            finally:
                _docker("rm", "-f", name, check=False)
            return
        errors.append("%s: %s" % (" ".join(flags), (started.stderr or state or "no state").strip()[-300:]))
        _docker("rm", "-f", name, check=False)
    hardware.skip_without("a container engine that runs systemd as PID 1", "; ".join(errors))


def unit_property(name, unit, prop):
    """``systemctl show -p PROP --value UNIT`` in the container host."""
    return exec_(name, "systemctl", "show", "-p", prop, "--value", unit).stdout.strip()
