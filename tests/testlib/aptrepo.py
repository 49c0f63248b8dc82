"""A local APT repository of small fake GPU-stack packages, built with the real dpkg-deb.

Each package exists at an old and a new version with Ubuntu-style names and dependencies
(``nvidia-driver-535`` depends on ``nvidia-dkms-535``, ``libnvidia-compute-535`` and
``nvidia-utils-535`` at the same version...). The repository is flat, indexed with
``apt-ftparchive`` (``dpkg-scanpackages`` when apt-utils is missing) and carries a Release file
with ``Origin: gpufleet-test`` so unattended-upgrades can be pointed at it.

Usage: python3 aptrepo.py OUTDIR     (stdlib only: it runs on the test containers too)
Then:  echo "deb [trusted=yes] file:OUTDIR ./" > /etc/apt/sources.list.d/gpufleet-test.list
"""

import os
import shutil
import subprocess
import sys
import tempfile

ORIGIN = "gpufleet-test"

NV_OLD, NV_NEW = "535.183.01-0ubuntu1", "535.183.06-0ubuntu1"
CT_OLD, CT_NEW = "1.14.6-1", "1.15.0-1"
AMD_OLD, AMD_NEW = "1:6.7.0.60100-1781449.22.04", "1:6.8.5.60102-1810124.22.04"
ROCM_OLD, ROCM_NEW = "6.1.0.60100-82~22.04", "6.1.2.60102-119~22.04"

# name: (description, {version: depends})
PACKAGES = {
    "nvidia-driver-535": ("NVIDIA driver metapackage (fake)", {
        v: "nvidia-dkms-535 (= {v}), libnvidia-compute-535 (= {v}), nvidia-utils-535 (= {v})".format(v=v)
        for v in (NV_OLD, NV_NEW)}),
    "nvidia-dkms-535": ("NVIDIA DKMS kernel module source (fake)", {
        v: "nvidia-kernel-common-535 (= {v})".format(v=v) for v in (NV_OLD, NV_NEW)}),
    "nvidia-kernel-common-535": ("NVIDIA kernel common files (fake)", {v: "" for v in (NV_OLD, NV_NEW)}),
    "libnvidia-compute-535": ("NVIDIA libcompute (fake)", {v: "" for v in (NV_OLD, NV_NEW)}),
    "nvidia-utils-535": ("NVIDIA driver utilities (fake)", {
        v: "libnvidia-compute-535 (= {v})".format(v=v) for v in (NV_OLD, NV_NEW)}),
    "nvidia-container-toolkit": ("NVIDIA container toolkit (fake)", {
        v: "libnvidia-container-tools (>= {v})".format(v=v) for v in (CT_OLD, CT_NEW)}),
    "libnvidia-container-tools": ("NVIDIA container library tools (fake)", {v: "" for v in (CT_OLD, CT_NEW)}),
    "amdgpu-dkms": ("AMDGPU DKMS kernel module (fake)", {v: "" for v in (AMD_OLD, AMD_NEW)}),
    "rocm-core": ("ROCm core (fake)", {v: "" for v in (ROCM_OLD, ROCM_NEW)}),
    "hip-runtime-amd": ("HIP runtime for AMD (fake)", {
        v: "rocm-core (= {v})".format(v=v) for v in (ROCM_OLD, ROCM_NEW)}),
    # Not pinned by anyone: proves upgrades and unattended-upgrades do run.
    "gpufleet-unrelated": ("An unrelated package (fake)", {"1.0-1": "", "2.0-1": ""}),
    "gpufleet-extra": ("Another unrelated package, installed during the tests (fake)", {"1.0-1": ""}),
}

OLD = {"nvidia-driver-535": NV_OLD, "nvidia-dkms-535": NV_OLD, "nvidia-kernel-common-535": NV_OLD,
       "libnvidia-compute-535": NV_OLD, "nvidia-utils-535": NV_OLD,
       "nvidia-container-toolkit": CT_OLD, "libnvidia-container-tools": CT_OLD,
       "amdgpu-dkms": AMD_OLD, "rocm-core": ROCM_OLD, "hip-runtime-amd": ROCM_OLD,
       "gpufleet-unrelated": "1.0-1"}
NEW = {"nvidia-driver-535": NV_NEW, "nvidia-dkms-535": NV_NEW, "nvidia-kernel-common-535": NV_NEW,
       "libnvidia-compute-535": NV_NEW, "nvidia-utils-535": NV_NEW,
       "nvidia-container-toolkit": CT_NEW, "libnvidia-container-tools": CT_NEW,
       "amdgpu-dkms": AMD_NEW, "rocm-core": ROCM_NEW, "hip-runtime-amd": ROCM_NEW,
       "gpufleet-unrelated": "2.0-1"}


def _deb(workdir, outdir, name, version, depends, description):
    root = os.path.join(workdir, "%s_%s" % (name, version.replace(":", "%3a")))
    os.makedirs(os.path.join(root, "DEBIAN"))
    doc = os.path.join(root, "usr", "share", "doc", name)
    os.makedirs(doc)
    with open(os.path.join(doc, "gpufleet-version"), "w") as handle:
        handle.write(version + "\n")
    control = ["Package: %s" % name, "Version: %s" % version, "Architecture: all",
               "Maintainer: gpufleet tests <tests@example.invalid>", "Section: misc", "Priority: optional"]
    if depends:
        control.append("Depends: %s" % depends)
    control.append("Description: %s" % description)
    with open(os.path.join(root, "DEBIAN", "control"), "w") as handle:
        handle.write("\n".join(control) + "\n")
    filename = "%s_%s_all.deb" % (name, version.split(":")[-1])
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root, os.path.join(outdir, filename)],
                   check=True, capture_output=True)
    return filename


def build(outdir, only=None):
    """Build every package at every version into ``outdir`` and index it; return the .deb names.

    ``only`` (``{name: version}``, e.g. :data:`OLD`) builds just those packages at those versions:
    building again without it into the same directory is "a newer version appears" for ``apt-get
    update``."""
    os.makedirs(outdir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="gpufleet-aptrepo-")
    debs = []
    try:
        for name, (description, versions) in sorted(PACKAGES.items()):
            for version, depends in sorted(versions.items()):
                if only is not None and only.get(name) != version:
                    continue
                debs.append(_deb(workdir, outdir, name, version, depends, description))
    finally:
        shutil.rmtree(workdir)
    if shutil.which("apt-ftparchive"):
        packages = subprocess.run(["apt-ftparchive", "packages", "."], cwd=outdir, check=True,
                                  capture_output=True, text=True).stdout
    else:
        packages = subprocess.run(["dpkg-scanpackages", "--multiversion", "."], cwd=outdir, check=True,
                                  capture_output=True, text=True).stdout
    with open(os.path.join(outdir, "Packages"), "w") as handle:
        handle.write(packages)
    if shutil.which("apt-ftparchive"):
        release = subprocess.run(["apt-ftparchive", "-o", "APT::FTPArchive::Release::Origin=%s" % ORIGIN,
                                  "-o", "APT::FTPArchive::Release::Label=%s" % ORIGIN,
                                  "-o", "APT::FTPArchive::Release::Suite=stable",
                                  "-o", "APT::FTPArchive::Release::Codename=gpufleet", "release", "."],
                                 cwd=outdir, check=True, capture_output=True, text=True).stdout
        with open(os.path.join(outdir, "Release"), "w") as handle:
            handle.write(release)
    return debs


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: aptrepo.py OUTDIR")
    print("\n".join(build(sys.argv[1])))
