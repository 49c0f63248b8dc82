"""System prerequisites for integration tests: Debian packages installed on demand (as root).

CI runs as root on a fresh Debian machine, so tests install what they need instead of skipping.
A test skips only when a package really cannot be had (not root, no apt), naming it.
"""

import contextlib
import os
import shutil
import subprocess

import pytest

from testlib import hardware

_UPDATED = []


def _installed(package):
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False)
    return proc.returncode == 0 and "install ok installed" in proc.stdout


def apt_ensure(*packages):
    """Install the Debian packages that are missing; skip the test (naming them) when impossible."""
    missing = [p for p in packages if not _installed(p)]
    if not missing:
        return
    if not shutil.which("apt-get") or os.geteuid() != 0:
        pytest.skip("needs Debian packages %s (apt-get as root is not available here)" % ", ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Other runs on the machine (or unattended-upgrades) may hold the dpkg lock: wait for it.
    wait = ["-o", "DPkg::Lock::Timeout=600"]
    if not _UPDATED and not os.path.exists("/tmp/.gpufleet-apt-updated"):
        subprocess.run(["apt-get", "update", "-qq"] + wait, env=env, check=True)
        _UPDATED.append(True)
    proc = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + wait + missing,
                          env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail("apt-get install %s failed:\n%s" % (" ".join(missing), proc.stderr[-2000:]))


@contextlib.contextmanager
def loop_device(directory, size_bytes=64 * 1024 * 1024):
    """Yield a real block device (``/dev/loopN``) backed by a sparse file in ``directory``; detach it after.

    Any CI machine gets one (root, util-linux's ``losetup`` from the ``mount`` package). The test is
    skipped as missing hardware only when the kernel gives no loop device (no loop driver, or a
    container without /dev/loop-control).
    """
    apt_ensure("mount")
    if os.geteuid() != 0:
        pytest.skip("needs root to attach a loop device (losetup)")
    backing = os.path.join(str(directory), "disk.img")
    with open(backing, "wb") as handle:
        handle.truncate(size_bytes)
    proc = subprocess.run(["losetup", "--find", "--show", backing], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        hardware.skip_without("a block device", "losetup could not attach a loop device here: %s" % proc.stderr.strip())
    device = proc.stdout.strip()
    try:
        yield device
    finally:
        subprocess.run(["losetup", "--detach", device], check=False)
