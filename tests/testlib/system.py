"""System prerequisites for integration tests: Debian packages installed on demand (as root).

CI runs as root on a fresh Debian machine, so tests install what they need instead of skipping.
A test skips only when a package really cannot be had (not root, no apt), naming it.
"""

import os
import shutil
import subprocess

import pytest

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
    if not _UPDATED and not os.path.exists("/tmp/.gpufleet-apt-updated"):
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
        _UPDATED.append(True)
    proc = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                          env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail("apt-get install %s failed:\n%s" % (" ".join(missing), proc.stderr[-2000:]))
