"""A real ZFS pool on a sparse file, for the tests of the ZFS snapshot path (no stand-in ``zfs``).

Where the kernel runs OpenZFS (``/dev/zfs`` and zfsutils-linux), the pool is made with it. This
project's machines run a kernel built without loadable modules (``CONFIG_MODULES`` is not set: no
``/proc/modules``, no ``/lib/modules``, no ``modprobe``), so OpenZFS's kernel module (zfs-dkms, from
Debian's contrib) cannot be loaded there at all, whatever headers are installed. The pool is then
served by zfs-fuse (Debian main, 0.7.0): the ZFS code in a FUSE daemon, with the same ``zfs``/``zpool``
command line for what the collection runs (``list -H -o name -t snapshot -d 1``, ``snapshot``,
``destroy``; the tests add ``rollback``); its pools are version 23 instead of OpenZFS's feature flags.
The daemon is started here when none answers, and stopped again by its own PID. Only a kernel with
neither ZFS nor FUSE skips, as missing hardware (like ``system.loop_device`` without a loop driver).
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

from testlib import hardware
from testlib.system import apt_ensure


def _answers():
    return subprocess.run(["zpool", "list", "-H"], capture_output=True, check=False).returncode == 0


class ZfsPool:
    """``with ZfsPool() as pool:`` - ``pool.name``, ``pool.mountpoint``, ``pool.zfs(*args)``, ``pool.snapshots(dataset)``."""

    def __init__(self, size_mb=128):
        self.size_mb = size_mb
        self.dir = tempfile.mkdtemp(prefix="gpufleet-zfs-", dir="/var/tmp")
        self.name = "gpft" + uuid.uuid4().hex[:8]
        self.mountpoint = os.path.join(self.dir, "mnt")
        self.daemon = None
        self.kind = None

    def __enter__(self):
        if os.path.exists("/dev/zfs") and shutil.which("zpool"):
            self.kind = "OpenZFS (kernel module)"
        elif os.path.exists("/dev/fuse"):
            apt_ensure("zfs-fuse")
            self.kind = "zfs-fuse"
            if not _answers():
                log = open(os.path.join(self.dir, "zfs-fuse.log"), "w")
                self.daemon = subprocess.Popen(["zfs-fuse", "--no-daemon", "--no-kstat-mount", "--max-arc-size", "32"],
                                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
                deadline = time.time() + 30
                while not _answers():
                    if self.daemon.poll() is not None or time.time() > deadline:
                        self.__exit__()
                        raise RuntimeError("zfs-fuse did not answer within 30 s: %s" % open(log.name).read()[-2000:])
                    time.sleep(0.2)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
            hardware.skip_without("a kernel with ZFS or FUSE", "neither /dev/zfs nor /dev/fuse exists")
        image = os.path.join(self.dir, "pool.img")
        with open(image, "wb") as handle:
            handle.truncate(self.size_mb * 1024 * 1024)
        self.zfs_cmd(["zpool", "create", "-m", self.mountpoint, self.name, image])
        return self

    def zfs_cmd(self, argv, check=True):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("%s failed (rc %s): %s" % (" ".join(argv), proc.returncode, proc.stderr))
        return proc

    def zfs(self, *args, check=True):
        return self.zfs_cmd(["zfs"] + list(args), check=check)

    def snapshots(self, dataset):
        """The snapshot names (after the @) of ``dataset``, sorted, as zfs lists them."""
        out = self.zfs("list", "-H", "-o", "name", "-t", "snapshot", "-d", "1", dataset).stdout
        return sorted(line.split("@", 1)[1] for line in out.splitlines() if line.startswith(dataset + "@"))

    def __exit__(self, *exc):
        self.zfs_cmd(["zpool", "destroy", "-f", self.name], check=False)
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
