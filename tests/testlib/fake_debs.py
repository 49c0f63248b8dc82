"""Small fake Debian packages built with the real dpkg-deb, installed with the real dpkg.

``build_deb`` writes a package tree (DEBIAN/control plus files) and runs ``dpkg-deb --build``;
``DpkgRoot`` installs packages into a private dpkg database below a directory (``--admindir``,
``--instdir``), so tests get a real ``/var/lib/dpkg/status`` without touching the machine's own.
"""

import os
import subprocess

# Ubuntu-style NVIDIA driver and CUDA packages: (name, version, depends, files)
UBUNTU_DRIVER_STACK = (
    ("libnvidia-compute-535", "535.183.01-0ubuntu0.22.04.1", None,
     {"usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.183.01": ""}),
    ("nvidia-dkms-535", "535.183.01-0ubuntu0.22.04.1", None, {}),
    ("nvidia-driver-535", "535.183.01-0ubuntu0.22.04.1",
     "nvidia-dkms-535 (= 535.183.01-0ubuntu0.22.04.1), libnvidia-compute-535 (= 535.183.01-0ubuntu0.22.04.1)", {}),
    ("cuda-toolkit-12-4", "12.4.1-1", None,
     {"usr/local/cuda-12.4/version.json": '{"cuda": {"name": "CUDA SDK", "version": "12.4.1"}}\n'}),
)


def build_deb(workdir, name, version, depends=None, files=None):
    """Build ``<workdir>/<name>_<version>_all.deb``; return its path."""
    tree = os.path.join(workdir, "%s-%s" % (name, version))
    os.makedirs(os.path.join(tree, "DEBIAN"), exist_ok=True)
    control = ["Package: %s" % name, "Version: %s" % version, "Architecture: all",
               "Maintainer: gpufleet tests <tests@example.invalid>"]
    if depends:
        control.append("Depends: %s" % depends)
    control.append("Description: fake %s for gpufleet.maintenance tests" % name)
    with open(os.path.join(tree, "DEBIAN", "control"), "w") as handle:
        handle.write("\n".join(control) + "\n")
    for relative, content in (files or {}).items():
        path = os.path.join(tree, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(content)
    deb = os.path.join(workdir, "%s_%s_all.deb" % (name, version))
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", tree, deb], check=True, capture_output=True)
    return deb


class DpkgRoot:
    """A directory with its own dpkg database; packages go in with the real ``dpkg -i``."""

    def __init__(self, root):
        self.root = str(root)
        self.admindir = os.path.join(self.root, "var", "lib", "dpkg")
        for sub in ("updates", "info"):
            os.makedirs(os.path.join(self.admindir, sub), exist_ok=True)
        for name in ("status", "available"):
            open(os.path.join(self.admindir, name), "a").close()

    def _dpkg(self, *args, **kwargs):
        cmd = ["dpkg", "--admindir=%s" % self.admindir, "--instdir=%s" % self.root,
               "--force-script-chrootless", "--log=/dev/null"] + list(args)
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)

    def install(self, *debs):
        self._dpkg("-i", *debs)

    def hold(self, *names):
        self._dpkg("--set-selections", input="".join("%s hold\n" % n for n in names))

    def query(self, fmt):
        return subprocess.run(["dpkg-query", "--admindir=%s" % self.admindir, "-W", "-f=" + fmt],
                              check=True, capture_output=True, text=True).stdout
