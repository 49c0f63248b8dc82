"""driver_stack: the whole chain read from root trees built from real samples, and its verdicts (through AREA.gather)."""

import copy
import functools
import lzma
import os
import shutil

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import AREA, collect, parse, present

# The captures the trees are built from, one corpus per tool.
FIXTURES = [os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", corpus)
            for corpus in ("proc", "dkms", "nvidia_smi", "dist_info")]
RUNNING = "6.8.0-45-generic"
NEWEST = "6.8.0-48-generic"

# torch/version.py as torch's build writes it (tools/generate_torch_version.py layout)
TORCH_VERSION_PY = """from typing import Optional

__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip', 'xpu']
__version__ = '{version}'
debug = False
cuda: Optional[str] = {cuda}
git_version = '2236df1770800ffea5697b11b0bb0d910b2e59e1'
hip: Optional[str] = {hip}
xpu: Optional[str] = None
"""


def fixture(name):
    path = [os.path.join(corpus, name) for corpus in FIXTURES if os.path.exists(os.path.join(corpus, name))][0]
    with open(path) as handle:
        return handle.read()


class Tree:
    """A root directory built file by file."""

    def __init__(self, path):
        self.root = str(path)

    def write(self, relative, text="", binary=False):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if binary else "w") as handle:
            handle.write(text)
        return self

    def mkdir(self, relative):
        os.makedirs(os.path.join(self.root, relative), exist_ok=True)
        return self

    def link(self, relative, target):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(target, path)
        return self

    def kernel(self, release):
        return self.mkdir("lib/modules/%s/kernel" % release).write("boot/vmlinuz-%s" % release, "")

    def running(self, release):
        return self.write("proc/sys/kernel/osrelease", release + "\n")

    def dkms(self, module, version, kernel, installed=True):
        self.mkdir("var/lib/dkms/%s/%s/%s/x86_64/module" % (module, version, kernel))
        self.mkdir("var/lib/dkms/%s/%s/source" % (module, version))
        if installed:
            self.link("var/lib/dkms/%s/kernel-%s-x86_64" % (module, kernel), "%s/%s/x86_64" % (version, kernel))
        return self

    def nvml(self, version):
        return self.write("usr/lib/x86_64-linux-gnu/libnvidia-ml.so.%s" % version, "")

    def proc_modules(self, *names):
        return self.write("proc/modules", "".join("%s 1126400 0 - Live 0x0000000000000000\n" % n for n in names))

    def dpkg(self, *stanzas):
        text = "\n".join("Package: %s\nStatus: %s ok installed\nArchitecture: amd64\nVersion: %s\n" % (
            name, "hold" if held else "install", version) for name, version, held in stanzas)
        return self.write("var/lib/dpkg/status", text)

    def venv(self, prefix, torch_version=None, cuda=None, hip=None, wheels=()):
        site = "%s/lib/python3.12/site-packages" % prefix.strip("/")
        self.mkdir(site)
        if torch_version:
            self.write(site + "/torch/version.py", TORCH_VERSION_PY.format(
                version=torch_version, cuda=repr(cuda) if cuda else "None", hip=repr(hip) if hip else "None"))
            self.write(site + "/torch-%s.dist-info/METADATA" % torch_version.split("+")[0],
                       "Metadata-Version: 2.1\nName: torch\nVersion: %s\n\nlong description\nName: not-this\n" % torch_version)
        for name, metadata in wheels:
            self.write(site + "/%s.dist-info/METADATA" % name, metadata)
        return self


def gather(root, run_command=None, tools=None, **options):
    """AREA.gather with the options given; ``tools``: stand-in paths by tool name (others are looked up)."""
    area = copy.copy(AREA)
    area.collect = functools.partial(collect.collect, tools=tools)
    return area.gather(run_command, AREA.validate(dict(options, root=str(root))))


def run(tree, **kwargs):
    fact, warnings = gather(tree.root, **kwargs)
    return fact, warnings


def checks_named(fact, name):
    return [c for c in fact["checks"] if c["check"] == name]


def clean_box(tmp_path):
    """A box whose links agree: open module 575.57.08 from the real /proc sample, CUDA 12.9.1."""
    tree = Tree(tmp_path)
    tree.running(RUNNING).kernel(RUNNING)
    tree.write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-open-575.57.08.txt"))
    tree.proc_modules("nvidia_uvm", "nvidia_drm", "nvidia_modeset", "nvidia")
    tree.nvml("575.57.08").dkms("nvidia", "575.57.08", RUNNING)
    tree.dpkg(("nvidia-driver-575", "575.57.08-0ubuntu1", True), ("nvidia-dkms-575", "575.57.08-0ubuntu1", True),
              ("libnvidia-compute-575", "575.57.08-0ubuntu1", True), ("cuda-toolkit-12-9", "12.9.1-1", True),
              ("libnccl2", "2.27.3-1+cuda12.9", True), ("libcudnn9-cuda-12", "9.10.2.21-1", True),
              ("linux-image-%s" % RUNNING, "6.8.0-45.45", False), ("dpkg", "1.22.6", False))
    tree.write("usr/local/cuda-12.9/version.json", '{"cuda": {"name": "CUDA SDK", "version": "12.9.1"}}')
    tree.link("usr/local/cuda", "cuda-12.9")
    tree.write("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0c6e2d0a", b"\x06\x00\x00\x00\x00", binary=True)
    tree.write("etc/docker/daemon.json", '{"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}}}')
    return tree


def test_clean_box(tmp_path):
    fact, warnings = run(clean_box(tmp_path))
    assert warnings == []
    assert fact["verdict"] == "ok" and fact["status"] == "ok" and fact["verdict_link"] is None
    assert fact["live"] is False and fact["sources"]["packages"] == "/var/lib/dpkg/status"
    assert fact["sources"]["dkms"] == "/var/lib/dkms" and fact["sources"]["commands"].startswith("not run")
    nvidia = fact["nvidia"]
    assert nvidia["kernel_module_version"] == "575.57.08" and nvidia["kernel_module_flavor"] == "open"
    assert nvidia["userspace_version"] == "575.57.08" and nvidia["cuda_driver_version"] == "12.9"
    assert nvidia["kernel_module_loaded"] is True and nvidia["nouveau_loaded"] is False
    assert [p["name"] for p in nvidia["packages"]] == ["libnvidia-compute-575", "nvidia-dkms-575", "nvidia-driver-575"]
    assert all(p["held"] for p in nvidia["packages"])
    assert fact["cuda_toolkits"] == [{"version": "12.9.1", "path": "/usr/local/cuda-12.9", "package": "cuda-toolkit-12-9",
                                      "source": "version file"}]
    assert fact["cuda_default_path"] == "/usr/local/cuda-12.9"
    assert fact["nccl_version"] == "2.27.3" and fact["cudnn_version"] == "9.10.2.21"
    assert fact["kernel"] == {"running_release": RUNNING, "installed_releases": [RUNNING], "newest_release": RUNNING,
                              "reboot_required": False, "reboot_required_packages": [], "secure_boot": "disabled"}
    assert fact["container_toolkit"]["docker_nvidia_runtime"] is True
    assert sorted(c["check"] for c in fact["checks"]) == [
        "dkms_missing_for_kernel", "driver_library_mismatch", "driver_packages_not_held",
        "nouveau_loaded_with_nvidia", "toolkit_newer_than_driver"]
    assert all(c["status"] == "ok" for c in fact["checks"])


def test_driver_library_mismatch_is_reboot_pending(tmp_path):
    """Module 515.76 (real /proc sample) loaded, libraries updated to 515.105.01 without a reboot."""
    tree = Tree(tmp_path).running(RUNNING).kernel(RUNNING)
    tree.write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-515.76.txt"))
    tree.nvml("515.105.01").dkms("nvidia", "515.105.01", RUNNING)
    fact = run(tree)[0]
    mismatch = checks_named(fact, "driver_library_mismatch")[0]
    assert mismatch["status"] == "crit" and mismatch["value"] == "515.105.01" and mismatch["threshold"] == "515.76"
    assert "reboot" in mismatch["message"]
    assert fact["verdict"] == "reboot_pending" and fact["verdict_link"] == "kernel_module"
    assert "515.76" in fact["verdict_reason"]
    assert fact["status"] == "crit"


def test_dkms_missing_for_the_newest_kernel_is_broken(tmp_path):
    tree = clean_box(tmp_path)
    tree.kernel(NEWEST).write("var/run/reboot-required", "*** System restart required ***\n")
    tree.write("var/run/reboot-required.pkgs", "linux-image-%s\nlinux-base\n" % NEWEST)
    fact = run(tree)[0]
    assert fact["kernel"]["newest_release"] == NEWEST and fact["kernel"]["reboot_required"] is True
    assert fact["kernel"]["reboot_required_packages"] == ["linux-base", "linux-image-%s" % NEWEST]
    missing = [c for c in checks_named(fact, "dkms_missing_for_kernel") if c["status"] == "crit"]
    assert len(missing) == 1 and missing[0]["kernel"] == NEWEST and "dkms autoinstall -k %s" % NEWEST in missing[0]["message"]
    assert fact["verdict"] == "broken" and fact["verdict_link"] == "dkms"
    assert checks_named(fact, "reboot_required")[0]["status"] == "warn"


def test_dkms_built_for_the_newest_kernel_at_an_old_version(tmp_path):
    tree = clean_box(tmp_path).kernel(NEWEST).dkms("nvidia", "570.133.07", NEWEST)
    fact = run(tree)[0]
    crit = [c for c in checks_named(fact, "dkms_missing_for_kernel") if c["status"] == "crit"]
    assert len(crit) == 1 and crit[0]["value"] == "570.133.07" and crit[0]["threshold"] == "575.57.08"


def test_newer_kernel_with_its_module_is_reboot_pending(tmp_path):
    tree = clean_box(tmp_path).kernel(NEWEST).dkms("nvidia", "575.57.08", NEWEST)
    fact = run(tree)[0]
    assert fact["status"] == "ok"
    assert fact["verdict"] == "reboot_pending" and fact["verdict_link"] == "kernel"
    assert NEWEST in fact["verdict_reason"]


def test_toolkit_newer_than_driver(tmp_path):
    """Driver 515.76: a CUDA 12.4 toolkit cannot run (other major), 11.8 only via minor version compatibility."""
    tree = Tree(tmp_path).running(RUNNING).kernel(RUNNING)
    tree.write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-515.76.txt")).nvml("515.76")
    tree.write("usr/local/cuda-12.4/version.json", '{"cuda": {"version": "12.4.1"}}')
    tree.write("usr/local/cuda-11.8/version.txt", "CUDA Version 11.8.89\n")
    fact = run(tree)[0]
    by_toolkit = dict((c["toolkit"], c) for c in checks_named(fact, "toolkit_newer_than_driver"))
    assert by_toolkit["/usr/local/cuda-12.4"]["status"] == "crit"
    assert by_toolkit["/usr/local/cuda-12.4"]["threshold"] == "550.54.15"
    assert by_toolkit["/usr/local/cuda-11.8"]["status"] == "warn"
    assert "PTX" in by_toolkit["/usr/local/cuda-11.8"]["message"]
    assert fact["verdict"] == "broken" and fact["verdict_link"] == "images_and_wheels"
    assert fact["nvidia"]["cuda_driver_version"] == "11.7"


def test_torch_cu126_on_a_550_driver(tmp_path):
    """The wheel runs through minor version compatibility only (SASS yes, PTX JIT no): a warning."""
    tree = Tree(tmp_path).running(RUNNING).kernel(RUNNING)
    tree.write("sys/module/nvidia/version", "550.54.14\n").mkdir("sys/module/nvidia").nvml("550.54.14")
    tree.venv("/opt/venvs/train", torch_version="2.6.0+cu126", cuda="12.6",
              wheels=[("nvidia_cuda_runtime_cu12-12.6.77", fixture("nvidia_cuda_runtime_cu12-12.6.77.METADATA"))])
    tree.venv("/opt/venvs/old", torch_version="2.1.2+cu118", cuda="11.8")
    tree.venv("/opt/venvs/rocm", torch_version="2.5.1+rocm6.2", hip="6.2.41133-dd7f95766")
    fact, warnings = run(tree, python_envs=["/opt/venvs/train", "/opt/venvs/old", "/opt/venvs/rocm", "/opt/venvs/missing"])
    envs = dict((e["prefix"], e) for e in fact["python_envs"])
    train = envs["/opt/venvs/train"]
    assert train["torch_version"] == "2.6.0+cu126" and train["torch_cuda"] == "12.6" and train["torch_hip"] is None
    assert {"name": "nvidia-cuda-runtime-cu12", "version": "12.6.77"} in train["wheels"]
    assert {"name": "torch", "version": "2.6.0+cu126"} in train["wheels"]
    assert train["cuda_runtime_wheel"] == "12.6"
    assert envs["/opt/venvs/rocm"]["torch_hip"] == "6.2.41133-dd7f95766" and envs["/opt/venvs/rocm"]["torch_cuda"] is None
    assert envs["/opt/venvs/missing"]["present"] is False
    assert any("/opt/venvs/missing does not exist" in w for w in warnings)
    wheel = dict((c["env"], c) for c in checks_named(fact, "wheel_cuda_newer_than_driver"))
    assert wheel["/opt/venvs/train"]["status"] == "warn" and wheel["/opt/venvs/train"]["threshold"] == "560.28.03"
    assert "PTX" in wheel["/opt/venvs/train"]["message"] and "cu124" in wheel["/opt/venvs/train"]["message"]
    assert wheel["/opt/venvs/old"]["status"] == "ok"
    assert "/opt/venvs/rocm" not in wheel
    assert fact["verdict"] == "ok" and fact["status"] == "warn"


def test_torch_cu126_on_an_11x_driver_is_broken(tmp_path):
    tree = Tree(tmp_path).write("sys/module/nvidia/version", "515.76\n")
    tree.venv("/venv", torch_version="2.6.0+cu126", cuda="12.6")
    fact = run(tree, python_envs=["/venv"])[0]
    check = checks_named(fact, "wheel_cuda_newer_than_driver")[0]
    assert check["status"] == "crit" and "insufficient" in check["message"]
    assert fact["verdict"] == "broken"


def test_rocm_userspace_dkms_mismatch(tmp_path):
    tree = Tree(tmp_path).running(RUNNING).kernel(RUNNING)
    tree.write("opt/rocm/.info/version", "6.3.1-48\n")
    tree.write("opt/rocm/bin/.hipVersion", "# Auto-generated by cmake\nHIP_PACKAGING_VERSION_PATCH=41134-65d174c3e\n"
               "HIP_VERSION_MAJOR=6\nHIP_VERSION_MINOR=3\nHIP_VERSION_PATCH=41134-65d174c3e\n")
    tree.dpkg(("amdgpu-dkms", "1:6.3.6.60000-1697589.22.04", True), ("rocm-core", "6.3.1.60301-48~22.04", True))
    tree.dkms("amdgpu", "6.3.6-1697589.22.04", RUNNING)
    tree.write("sys/module/amdgpu/version", "6.3.6\n")
    for node, version in ((0, 0), (1, 90010), (2, 110501)):
        tree.write("sys/class/kfd/kfd/topology/nodes/%d/properties" % node,
                   "cpu_cores_count 0\nsimd_count 440\ngfx_target_version %d\nvendor_id 4098\n" % version)
    fact = run(tree)[0]
    rocm = fact["rocm"]
    assert rocm["version"] == "6.3.1-48" and rocm["release"] == "6.3" and rocm["amdgpu_dkms_release"] == "6.0"
    assert rocm["amdgpu_dkms_version"] == "1:6.3.6.60000-1697589.22.04"
    assert rocm["amdgpu_kernel_module_version"] == "6.3.6" and rocm["hip_version"] == "6.3.41134"
    assert rocm["gfx_targets"] == ["gfx1151", "gfx90a"]
    check = checks_named(fact, "rocm_userspace_dkms_mismatch")[0]
    assert check["status"] == "warn" and "amdgpu-dkms" in check["message"]
    assert checks_named(fact, "dkms_missing_for_kernel")[0]["status"] == "ok"
    assert fact["nvidia"]["installed"] is False


def test_packages_not_held_and_nouveau(tmp_path):
    tree = clean_box(tmp_path)
    tree.dpkg(("nvidia-driver-575", "575.57.08-0ubuntu1", False), ("nvidia-dkms-575", "575.57.08-0ubuntu1", True),
              ("cuda-toolkit-12-9", "12.9.1-1", False))
    tree.proc_modules("nouveau", "nvidia")
    fact = run(tree)[0]
    held = checks_named(fact, "driver_packages_not_held")[0]
    assert held["status"] == "warn" and held["value"] == ["cuda-toolkit-12-9", "nvidia-driver-575"]
    assert fact["held_packages"] == ["nvidia-dkms-575"]
    assert checks_named(fact, "nouveau_loaded_with_nvidia")[0]["status"] == "crit"
    assert fact["verdict"] == "broken" and fact["verdict_link"] == "kernel_module"


def test_debian_driver_packages_and_cuda_libraries_must_be_held_too(tmp_path):
    """One list of the GPU stack's packages (_tools/gpu_packages.HOLD, the one driver_pin holds): Debian 12's
    driver names and the CUDA libraries count, Ubuntu's per-kernel modules and cuda-keyring do not."""
    tree = Tree(tmp_path).dpkg(("nvidia-driver", "535.183.01-1~deb12u1", False), ("libcuda1", "535.183.01-1~deb12u1", False),
                               ("nvidia-kernel-dkms", "535.183.01-1~deb12u1", True), ("libnccl2", "2.21.5-1+cuda12.4", False),
                               ("linux-modules-nvidia-535-6.8.0-45-generic", "6.8.0-45.45", False),
                               ("cuda-keyring", "1.1-1", False))
    fact = run(tree)[0]
    held = checks_named(fact, "driver_packages_not_held")[0]
    assert held["status"] == "warn" and held["value"] == ["libcuda1", "libnccl2", "nvidia-driver"]
    assert "libnccl2" in held["message"] and "nvidia-kernel-dkms" not in held["message"]
    assert [p["name"] for p in fact["nvidia"]["packages"]] == [
        "libcuda1", "linux-modules-nvidia-535-6.8.0-45-generic", "nvidia-driver", "nvidia-kernel-dkms"]
    assert "nvidia-driver-*" in fact["hold_patterns"] and "libnccl*" in fact["hold_patterns"]


def test_secure_boot_with_an_unsigned_module(tmp_path):
    tree = clean_box(tmp_path)
    tree.write("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0c6e2d0a", b"\x06\x00\x00\x00\x01", binary=True)
    tree.write("lib/modules/%s/updates/dkms/nvidia.ko.xz" % RUNNING, lzma.compress(b"\x7fELF unsigned"), binary=True)
    fact = run(tree)[0]
    assert fact["kernel"]["secure_boot"] == "enabled"
    check = checks_named(fact, "secure_boot_unsigned_module")[0]
    assert check["status"] == "crit" and "mokutil" in check["message"]
    # a signed one is fine
    tree.write("lib/modules/%s/updates/dkms/nvidia.ko.xz" % RUNNING,
               lzma.compress(b"\x7fELF signed" + b"sig" + b"~Module signature appended~\n"), binary=True)
    fact = run(tree)[0]
    assert checks_named(fact, "secure_boot_unsigned_module")[0]["status"] == "ok"


def test_garbled_nvidia_version_is_warned_and_skipped(tmp_path):
    tree = Tree(tmp_path).write("proc/driver/nvidia/version", "NVRM: garbage here\n").nvml("550.54.14")
    tree.write("sys/module/nvidia/version", "not-a-version\n")
    fact, warnings = run(tree)
    assert fact["nvidia"]["kernel_module_version"] is None and fact["nvidia"]["userspace_version"] == "550.54.14"
    assert any("/proc/driver/nvidia/version not understood" in w for w in warnings)
    assert any("/sys/module/nvidia/version not understood" in w for w in warnings)


def test_old_driver_outside_the_data(tmp_path):
    tree = Tree(tmp_path).write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-440.95.01.txt"))
    fact = run(tree)[0]
    assert fact["nvidia"]["kernel_module_version"] == "440.95.01"
    assert fact["nvidia"]["cuda_driver_version"] == "unknown"


def test_empty_root_reports_nulls_and_warns_about_packages(tmp_path):
    fact, warnings = run(Tree(tmp_path))
    assert fact["nvidia"]["packages"] is None and fact["held_packages"] is None and fact["dkms"] is None
    assert fact["nvidia"]["installed"] is False and fact["rocm"]["installed"] is False
    assert fact["kernel"]["running_release"] is None and fact["kernel"]["secure_boot"] == "unknown"
    assert any("no /var/lib/dpkg/status" in w for w in warnings)
    # issue 18: the packages could not be read, so whether they are held is unknown, never ok
    held = checks_named(fact, "driver_packages_not_held")
    assert [c["status"] for c in fact["checks"]] == ["unknown"] and len(held) == 1
    assert held[0]["message"].startswith("could not look: the installed packages could not be read (no /var/lib/dpkg/status")
    assert "Debian/Ubuntu host where dpkg-query works" in held[0]["message"]
    assert fact["status"] == "unknown" and fact["verdict"] == "ok"
    assert fact["verdict_reason"] == "every link that could be read agrees; not read: driver_packages_not_held (see their checks)"


def test_unreadable_file_is_a_warning(tmp_path):
    """An I/O error other than "absent" (here: a directory where a file belongs) is a warning, not a traceback."""
    tree = Tree(tmp_path).mkdir("proc/driver/nvidia/version")
    fact, warnings = run(tree)
    assert fact["nvidia"]["kernel_module_version"] is None
    assert any("could not read /proc/driver/nvidia/version" in w for w in warnings)


def test_container_toolkit_configs(tmp_path):
    tree = Tree(tmp_path)
    tree.write("etc/docker/daemon.json", "{not json")
    tree.write("etc/containerd/conf.d/99-nvidia.toml",
               '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes."nvidia"]\n  runtime_type = "io.containerd.runc.v2"\n')
    tree.write("etc/cdi/nvidia.yaml", "cdiVersion: 0.5.0\n")
    tree.dpkg(("nvidia-container-toolkit", "1.17.8-1", True))
    fact, warnings = run(tree)
    toolkit = fact["container_toolkit"]
    assert toolkit["version"] == "1.17.8" and toolkit["containerd_nvidia_runtime"] is True and toolkit["cdi_spec"] is True
    assert toolkit["docker_nvidia_runtime"] is None
    assert any("daemon.json is not valid JSON" in w for w in warnings)


# ---------------------------------------------------------------- live path (commands replayed)

def stand_ins(tmp_path, *names):
    """Executable stand-ins so find_tool accepts the paths; Replay answers for them by name."""
    directory = tmp_path / "stand-ins"
    directory.mkdir(exist_ok=True)
    tools = {}
    for name in names:
        path = directory / name
        path.write_text("#!/bin/sh\nexit 99\n")
        path.chmod(0o755)
        tools[name] = str(path)
    return tools


class Replay:
    """run_command double replaying saved outputs per program (the hardware-facing ones: nvidia-smi)."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, argv, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
        self.calls.append(argv)
        for key, answer in self.answers.items():
            if key in " ".join(argv):
                return answer
        return 127, "", "not found"


def test_live_probe_of_nvml_and_containers(tmp_path, monkeypatch):
    """Host NVML answers (real nvidia-smi -L capture), one container lost its GPU, one image needs CUDA 12.8."""
    monkeypatch.setattr(collect.os.path, "realpath", lambda p: "/" if p == str(tmp_path) else os.path.abspath(p))
    tree = Tree(tmp_path).write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-open-575.57.08.txt"))
    tree.nvml("575.57.08")
    inspect = """[
      {"Id": "aaaaaaaaaaaa0000", "Name": "/trainer", "Config": {"Image": "nvcr.io/nvidia/pytorch:25.01-py3",
        "Env": ["NVIDIA_REQUIRE_CUDA=cuda>=12.8 brand=tesla,driver>=470,driver<471", "CUDA_VERSION=12.8.0"]},
       "HostConfig": {"DeviceRequests": [{"Driver": "", "Count": -1, "Capabilities": [["gpu"]]}]}},
      {"Id": "bbbbbbbbbbbb0000", "Name": "/future", "Config": {"Image": "cuda:13.0.2-base",
        "Env": ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_REQUIRE_CUDA=cuda>=13.0"]}, "HostConfig": {}},
      {"Id": "cccccccccccc0000", "Name": "/web", "Config": {"Image": "nginx", "Env": ["PATH=/usr/bin"]},
       "HostConfig": {"DeviceRequests": null}}
    ]"""
    replay = Replay({
        "docker exec aaaaaaaaaaaa": (255, "Failed to initialize NVML: Unknown Error\n", ""),
        "docker exec bbbbbbbbbbbb": (0, fixture("list-gpus-8x-h100-mig.txt"), ""),
        "docker ps": (0, "aaaaaaaaaaaa0000\nbbbbbbbbbbbb0000\ncccccccccccc0000\n", ""),
        "docker inspect": (0, inspect, ""),
        "nvidia-smi -L": (0, fixture("list-gpus-8x-h100-mig.txt"), ""),
    })
    tools = stand_ins(tmp_path, "docker", "nvidia-smi", "dkms", "dpkg-query")
    replay.answers["dkms status"] = (0, "nvidia/575.57.08: added\n", "")
    replay.answers["dpkg-query -W"] = (0, "nvidia-driver-575\t575.57.08-0ubuntu1\thold ok installed\n", "")
    fact, warnings = gather(tmp_path, replay, probe_containers=True, tools=tools)
    assert fact["live"] is True and fact["sources"] == {"packages": "dpkg-query", "dkms": "dkms status", "commands": "run"}
    assert fact["nvidia"]["nvml_ok"] is True
    containers = dict((c["name"], c) for c in fact["container_toolkit"]["containers"])
    assert sorted(containers) == ["future", "trainer"]
    assert containers["trainer"]["nvml_ok"] is False and containers["trainer"]["required_cuda"] == "12.8"
    lost = checks_named(fact, "container_lost_gpu")
    assert [(c["container"], c["status"]) for c in lost] == [("trainer", "crit"), ("future", "ok")]
    assert "recreate" in lost[0]["message"]
    images = dict((c["container"], c) for c in checks_named(fact, "image_cuda_newer_than_driver"))
    assert images["trainer"]["status"] == "ok" and images["future"]["status"] == "crit"
    assert fact["verdict"] == "broken" and fact["verdict_link"] == "container_toolkit"
    assert fact["dkms"][0]["status"] == "added"


def test_live_host_nvml_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(collect.os.path, "realpath", lambda p: "/" if p == str(tmp_path) else os.path.abspath(p))
    tree = Tree(tmp_path).nvml("550.54.14").proc_modules("ext4")
    replay = Replay({"-L": (9, fixture("nvidia-smi-wsl2-failed-to-communicate.txt"), "")})
    tools = stand_ins(tmp_path, "nvidia-smi")
    tools.update({"dkms": "/nonexistent/dkms", "dpkg-query": "/nonexistent/dpkg-query"})
    fact, warnings = gather(tmp_path, replay, tools=tools)
    assert fact["nvidia"]["nvml_ok"] is False
    assert checks_named(fact, "nvml_init")[0]["status"] == "crit"
    assert checks_named(fact, "nvidia_module_not_loaded")[0]["status"] == "crit"
    assert any("package facts not reported" in w for w in warnings)
    assert fact["verdict"] == "broken"


def test_summary_section():
    fact = {"verdict": "reboot_pending", "verdict_reason": "realign by reboot (kernel_module): kernel module 515.76, userspace 515.105.01",
            "nvidia": {"installed": True, "kernel_module_version": "515.76", "cuda_driver_version": "11.7"},
            "cuda_toolkits": [{"version": "11.8.89"}], "rocm": {"installed": False}}
    assert present.summary_lines(fact) == [
        "driver stack: REBOOT_PENDING: nvidia 515.76 (CUDA 11.7); toolkits 11.8.89",
        "driver stack realign by reboot (kernel_module): kernel module 515.76, userspace 515.105.01"]
    assert present.summary_lines({"verdict": "ok"}) == ["driver stack: OK: no GPU driver found"]


@pytest.mark.parametrize("value, target", [("90010", "gfx90a"), ("90402", "gfx942"), ("100300", "gfx1030"),
                                           ("110501", "gfx1151"), ("0", None), ("x", None)])
def test_gfx_target(value, target):
    assert parse.gfx_target(value) == target


def test_copy_of_fixture_tree_is_independent(tmp_path):
    """Building a tree twice from the same samples gives the same facts (no state kept between runs)."""
    first = run(clean_box(tmp_path / "a"))[0]
    second = run(clean_box(tmp_path / "b"))[0]
    for fact in (first, second):
        fact.pop("root")
    assert first == second
    shutil.rmtree(str(tmp_path / "a"))


def test_nvml_failing_from_a_mismatch_is_still_reboot_pending(tmp_path, monkeypatch):
    """'Driver/library version mismatch' makes NVML fail too; the reboot realigns both."""
    monkeypatch.setattr(collect.os.path, "realpath", lambda p: "/" if p == str(tmp_path) else os.path.abspath(p))
    tree = Tree(tmp_path).write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-515.76.txt"))
    tree.nvml("515.105.01").proc_modules("nvidia")
    replay = Replay({"-L": (18, "Failed to initialize NVML: Driver/library version mismatch\n", "")})
    tools = stand_ins(tmp_path, "nvidia-smi")
    tools.update({"dkms": "/nonexistent/dkms", "dpkg-query": "/nonexistent/dpkg-query"})
    fact = gather(tmp_path, replay, tools=tools)[0]
    assert checks_named(fact, "nvml_init")[0]["status"] == "crit"
    assert fact["verdict"] == "reboot_pending" and fact["verdict_link"] == "kernel_module"


def test_toolkit_config_packages_are_not_toolkits(tmp_path):
    tree = Tree(tmp_path).dpkg(("cuda-toolkit-12-4", "12.4.1-1", True), ("cuda-toolkit-12-4-config-common", "12.4.127-1", False),
                               ("cuda-toolkit-12-config-common", "12.9.79-1", False))
    fact = run(tree)[0]
    assert [t["package"] for t in fact["cuda_toolkits"]] == ["cuda-toolkit-12-4"]
    assert fact["unheld_driver_packages"] == []


def test_wheel_fix_when_the_driver_cuda_is_unknown(tmp_path):
    tree = Tree(tmp_path).write("sys/module/nvidia/version", "440.95.01\n")
    tree.venv("/venv", torch_version="2.6.0+cu126", cuda="12.6")
    check = checks_named(run(tree, python_envs=["/venv"])[0], "wheel_cuda_newer_than_driver")[0]
    assert check["status"] == "crit" and check["message"].endswith("install a wheel built for an older CUDA")


@pytest.mark.parametrize("sample, kernels, running, missing", [
    # the real Fedora 28 listing: every installed kernel has nvidia 396.45
    ("dkms-status-legacy-comma-format-fedora28.txt",
     ["4.17.11-200.fc28.x86_64", "4.17.12-200.fc28.x86_64", "4.17.14-202.fc28.x86_64"], "4.17.14-202.fc28.x86_64", []),
    # a newer kernel installed since: the listing has no build for it
    ("dkms-status-legacy-comma-format-fedora28.txt",
     ["4.17.14-202.fc28.x86_64", "4.18.5-200.fc28.x86_64"], "4.17.14-202.fc28.x86_64", ["4.18.5-200.fc28.x86_64"]),
    # the real slash-format listing: nvidia/390.157 is only 'added', built for no kernel
    ("dkms-status-slash-format-added-built-installed.txt", ["6.4.1-zen1-1-zen"], "6.4.1-zen1-1-zen", ["6.4.1-zen1-1-zen"]),
])
def test_live_dkms_status_samples_in_the_chain(tmp_path, monkeypatch, sample, kernels, running, missing):
    monkeypatch.setattr(collect.os.path, "realpath", lambda p: "/" if p == str(tmp_path) else os.path.abspath(p))
    tree = Tree(tmp_path).running(running)
    for release in kernels:
        tree.kernel(release)
    replay = Replay({"dkms status": (0, fixture(sample), "")})
    tools = stand_ins(tmp_path, "dkms")
    tools.update({"dpkg-query": "/nonexistent/dpkg-query", "nvidia-smi": "/nonexistent/nvidia-smi"})
    fact, warnings = gather(tmp_path, replay, tools=tools)
    assert fact["sources"]["dkms"] == "dkms status"
    crit = sorted(c["kernel"] for c in checks_named(fact, "dkms_missing_for_kernel") if c["status"] == "crit")
    assert crit == missing
    assert fact["verdict"] == ("broken" if missing else "ok")


def test_live_dkms_error_sample_is_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(collect.os.path, "realpath", lambda p: "/" if p == str(tmp_path) else os.path.abspath(p))
    replay = Replay({"dkms status": (1, "", fixture("dkms-status-error-missing-dkms-conf.txt"))})
    tools = stand_ins(tmp_path, "dkms")
    tools.update({"dpkg-query": "/nonexistent/dpkg-query", "nvidia-smi": "/nonexistent/nvidia-smi"})
    fact, warnings = gather(tmp_path, replay, tools=tools)
    assert fact["dkms"] == []
    assert any(w.startswith("dkms status reported: Error! Could not locate dkms.conf file.") for w in warnings)


def test_userspace_driver_found_through_ld_so_conf_as_on_a_real_h200(tmp_path):
    """Seen on a lent H200: libnvidia-ml.so.580.159.04 lives in /usr/local/nvidia/lib64, named only by
    /etc/ld.so.conf.d; without reading the linker configuration the userspace version was null. The
    image's /etc/ld.so.conf is the stock Debian/Ubuntu one, including /etc/ld.so.conf.d/*.conf (its
    ldconfig -p, tests/unit/fixtures/device_h200/ldconfig-p.txt, lists /usr/local/nvidia/lib64)."""
    tree = Tree(tmp_path).running(RUNNING).kernel(RUNNING)
    tree.write("etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n\n")
    tree.write("proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  "
               "Release Build  (nixbld@)  \nGCC version:  gcc version 15.3.0 (GCC) \n")
    tree.write("usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04", "")
    tree.write("etc/ld.so.conf.d/000_cuda.conf", "/usr/local/cuda/targets/x86_64-linux/lib\n")
    tree.write("etc/ld.so.conf.d/nvidia.conf", "# driver mounted by the runtime\n/usr/local/nvidia/lib64\n/usr/local/nvidia/lib\n")
    fact = run(tree)[0]
    assert fact["nvidia"]["userspace_version"] == "580.159.04"
    assert fact["nvidia"]["kernel_module_version"] == "580.159.04"
    assert checks_named(fact, "driver_library_mismatch")[0]["status"] == "ok"


def test_userspace_driver_named_only_by_an_included_file_with_a_library_type(tmp_path):
    """Regression (issue 17: the second, wrong ld.so.conf reader): the directories are the ones ldconfig
    scans, so a file included from outside /etc/ld.so.conf.d counts, an '=libc6' type is not part of the
    directory, and a file in /etc/ld.so.conf.d that no include names does not count."""
    tree = Tree(tmp_path).running(RUNNING).kernel(RUNNING)
    tree.write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-open-575.57.08.txt"))
    tree.write("etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\ninclude /opt/vendor/ld.so.conf\n")
    tree.write("opt/vendor/ld.so.conf", "/opt/vendor/nvidia/lib64=libc6  # the vendor's driver\n")
    tree.write("opt/vendor/nvidia/lib64/libnvidia-ml.so.575.57.08", "")
    tree.write("etc/ld.so.conf.d/old-driver.conf.dpkg-old", "/opt/old-driver/lib64\n")
    tree.write("opt/old-driver/lib64/libnvidia-ml.so.550.54.14", "")
    fact, warnings = run(tree)
    assert fact["nvidia"]["userspace_version"] == "575.57.08"
    assert fact["nvidia"]["userspace_source"] == "libnvidia-ml.so.575.57.08"
    assert not any("several NVIDIA userspace libraries" in w for w in warnings)
    assert checks_named(fact, "driver_library_mismatch")[0]["status"] == "ok"


# ---------------------------------------------------------------- issue 18: what could not be read is unknown, never ok

def live(monkeypatch, tmp_path):
    monkeypatch.setattr(collect.os.path, "realpath", lambda p: "/" if p == str(tmp_path) else os.path.abspath(p))


DPKG_575 = "nvidia-driver-575\t575.57.08-0ubuntu1\thold ok installed\nnvidia-dkms-575\t575.57.08-0ubuntu1\thold ok installed\n"


def test_unreadable_dkms_state_is_unknown_per_module_and_kernel(tmp_path, monkeypatch):
    """A DKMS driver package is installed, but neither 'dkms status' nor /var/lib/dkms can be read."""
    live(monkeypatch, tmp_path)
    tree = Tree(tmp_path).running(RUNNING).kernel(RUNNING).kernel(NEWEST)
    tree.write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-open-575.57.08.txt")).nvml("575.57.08")
    tree.proc_modules("nvidia")
    replay = Replay({"dpkg-query -W": (0, DPKG_575, ""), "-L": (0, fixture("list-gpus-8x-h100-mig.txt"), "")})
    tools = stand_ins(tmp_path, "dpkg-query", "nvidia-smi")
    tools["dkms"] = "/nonexistent/dkms"
    fact, warnings = gather(tmp_path, replay, tools=tools)
    dkms_checks = checks_named(fact, "dkms_missing_for_kernel")
    assert [(c["status"], c["subject"]) for c in dkms_checks] == [
        ("unknown", {"module": "nvidia", "kernel": RUNNING}), ("unknown", {"module": "nvidia", "kernel": NEWEST})]
    assert "the DKMS state could not be read (dkms not found and no /var/lib/dkms)" in dkms_checks[0]["message"]
    assert "apt-get install dkms" in dkms_checks[0]["message"]
    assert fact["status"] == "unknown" and fact["verdict"] == "reboot_pending"  # the newer kernel still asks for one


def test_nvidia_smi_missing_on_a_driver_host_is_unknown_not_skipped(tmp_path, monkeypatch):
    live(monkeypatch, tmp_path)
    tree = Tree(tmp_path).write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-open-575.57.08.txt"))
    tree.nvml("575.57.08").proc_modules("nvidia")
    replay = Replay({"dpkg-query -W": (0, DPKG_575, "")})
    tools = stand_ins(tmp_path, "dpkg-query")
    tools.update({"dkms": "/nonexistent/dkms", "nvidia-smi": "/nonexistent/nvidia-smi"})
    fact = gather(tmp_path, replay, tools=tools)[0]
    nvml = checks_named(fact, "nvml_init")[0]
    assert nvml["status"] == "unknown" and "NVML was not asked on the host (nvidia-smi not found)" in nvml["message"]
    assert "nvidia-utils" in nvml["message"]
    assert fact["verdict"] == "ok" and "not read: dkms_missing_for_kernel, nvml_init" in fact["verdict_reason"]


def test_a_driver_version_that_cannot_be_read_is_unknown(tmp_path, monkeypatch):
    """The kernel module is loaded (real /proc sample) but no libnvidia-ml and no package name its version."""
    live(monkeypatch, tmp_path)
    tree = Tree(tmp_path).write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-515.76.txt"))
    tree.proc_modules("nvidia")
    tools = {"dkms": "/nonexistent/dkms", "nvidia-smi": "/nonexistent/nvidia-smi", "dpkg-query": "/nonexistent/dpkg-query"}
    fact = gather(tmp_path, Replay({}), tools=tools)[0]
    mismatch = checks_named(fact, "driver_library_mismatch")[0]
    assert mismatch["status"] == "unknown"
    assert "the userspace driver version could not be read (the kernel module is 515.76)" in mismatch["message"]


def test_secure_boot_unreadable_module_or_state_is_unknown(tmp_path, monkeypatch):
    tree = clean_box(tmp_path)
    tree.write("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0c6e2d0a", b"\x06\x00\x00\x00\x01", binary=True)
    tree.write("lib/modules/%s/updates/dkms/nvidia.ko.zst" % RUNNING, b"(\xb5/\xfd zstd frame", binary=True)
    check = checks_named(run(tree)[0], "secure_boot_unsigned_module")[0]
    assert check["status"] == "unknown" and check["subject"] == {"module": "nvidia", "kernel": RUNNING}
    assert "(/lib/modules/%s/updates/dkms/nvidia.ko.zst) cannot be read" % RUNNING in check["message"]
    os.remove(os.path.join(tree.root, "lib/modules/%s/updates/dkms/nvidia.ko.zst" % RUNNING))
    assert "was not found under /lib/modules" in checks_named(run(tree)[0], "secure_boot_unsigned_module")[0]["message"]
    # on the live host, a Secure Boot state that cannot be read at all
    live(monkeypatch, tmp_path)
    os.remove(os.path.join(tree.root, "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0c6e2d0a"))
    tools = {"dkms": "/nonexistent/dkms", "nvidia-smi": "/nonexistent/nvidia-smi", "dpkg-query": "/nonexistent/dpkg-query"}
    check = checks_named(gather(tmp_path, Replay({}), tools=tools)[0], "secure_boot_unsigned_module")[0]
    assert check["status"] == "unknown" and "mokutil --sb-state" in check["message"]


def test_containers_that_cannot_be_probed_are_unknown(tmp_path, monkeypatch):
    live(monkeypatch, tmp_path)
    tree = Tree(tmp_path).write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-open-575.57.08.txt"))
    tree.nvml("575.57.08")
    tools = stand_ins(tmp_path, "nvidia-smi")
    tools.update({"dkms": "/nonexistent/dkms", "dpkg-query": "/nonexistent/dpkg-query", "docker": "/nonexistent/docker"})
    replay = Replay({"nvidia-smi -L": (0, fixture("list-gpus-8x-h100-mig.txt"), "")})
    fact = gather(tmp_path, replay, tools=tools, probe_containers=True)[0]
    lost = checks_named(fact, "container_lost_gpu")
    assert [(c["status"], c["subject"]) for c in lost] == [("unknown", {})]
    assert "the running containers could not be listed (docker not found)" in lost[0]["message"]
    # a container without nvidia-smi: what docker exec prints when the program is not in the image
    tools = stand_ins(tmp_path, "nvidia-smi", "docker")
    tools.update({"dkms": "/nonexistent/dkms", "dpkg-query": "/nonexistent/dpkg-query"})
    inspect = ('[{"Id": "aaaaaaaaaaaa0000", "Name": "/server", "Config": {"Image": "vllm/vllm-openai:v0.8.5", '
               '"Env": ["NVIDIA_VISIBLE_DEVICES=all"]}, "HostConfig": {}}]')
    replay = Replay({
        "docker exec": (127, "", 'OCI runtime exec failed: exec failed: unable to start container process: exec: '
                                 '"nvidia-smi": executable file not found in $PATH: unknown\n'),
        "docker ps": (0, "aaaaaaaaaaaa0000\n", ""), "docker inspect": (0, inspect, ""),
        "nvidia-smi -L": (0, fixture("list-gpus-8x-h100-mig.txt"), "")})
    fact = gather(tmp_path, replay, tools=tools, probe_containers=True)[0]
    lost = checks_named(fact, "container_lost_gpu")
    assert [(c["status"], c["subject"]) for c in lost] == [("unknown", {"container": "server"})]
    assert "NVML was not asked inside container server (nvidia-smi is not available" in lost[0]["message"]
    assert "NVIDIA_DRIVER_CAPABILITIES" in lost[0]["message"]


def test_versions_beyond_the_compatibility_data_are_unknown_not_ok(tmp_path):
    """A CUDA release the data does not have (13.3 is out but its minimum driver is not confirmed) cannot be judged."""
    tree = Tree(tmp_path).write("sys/module/nvidia/version", "595.58.03\n").nvml("595.58.03")
    tree.write("usr/local/cuda-13.3/version.json", '{"cuda": {"version": "13.3.0"}}')
    tree.venv("/venv", torch_version="2.12.0+cu133", cuda="13.3")
    fact = run(tree, python_envs=["/venv", "/not-a-venv"])[0]
    toolkit = checks_named(fact, "toolkit_newer_than_driver")[0]
    assert toolkit["status"] == "unknown" and toolkit["value"] == "13.3"
    assert "compatibility not known (CUDA 13.3 is not in the compatibility data" in toolkit["message"]
    assert "ends at CUDA 13.2.2" in toolkit["message"]
    wheels = dict((c["env"], c) for c in checks_named(fact, "wheel_cuda_newer_than_driver"))
    assert wheels["/venv"]["status"] == "unknown"
    assert wheels["/not-a-venv"]["status"] == "unknown" and "python env /not-a-venv does not exist" in wheels["/not-a-venv"]["message"]
    assert fact["status"] == "unknown" and fact["verdict"] == "ok"


def test_rocm_releases_outside_amds_matrix_are_unknown(tmp_path):
    tree = Tree(tmp_path).write("opt/rocm/.info/version", "7.0.1-12\n")
    tree.dpkg(("amdgpu-dkms", "1:6.14.14.70001-2187269.24.04", True), ("rocm-core", "7.0.1.70001-12~24.04", True))
    check = checks_named(run(tree)[0], "rocm_userspace_dkms_mismatch")[0]
    assert check["status"] == "unknown" and "7.0" in check["message"] and "support matrix" in check["message"]


@pytest.mark.parametrize("value", [0, -3])
def test_command_timeout_below_one_second_is_refused_naming_the_option(value):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
    with pytest.raises(AreaError, match=r"^driver_stack: command_timeout_s must be at least 1, not %s$" % value):
        AREA.validate({"command_timeout_s": value})
    assert AREA.validate({"command_timeout_s": 1})["command_timeout_s"] == 1


def test_dkms_results_of_two_kernels_are_two_subjects_and_two_alerts(tmp_path):
    """issue 17: checks that differ by module/kernel collapsed into one alert key (the first won)."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import subject_text
    from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._alerts import alert_key
    tree = Tree(tmp_path).running(RUNNING).kernel(RUNNING).kernel(NEWEST)
    tree.write("proc/driver/nvidia/version", fixture("proc-driver-nvidia-version-open-575.57.08.txt")).nvml("575.57.08")
    tree.dkms("nvidia", "570.133.07", RUNNING).dkms("nvidia", "570.133.07", NEWEST)
    crit = [c for c in checks_named(run(tree)[0], "dkms_missing_for_kernel") if c["status"] == "crit"]
    keys = [alert_key("driver_stack", c["check"], subject_text(c["subject"])) for c in crit]
    assert keys == ["driver_stack/dkms_missing_for_kernel/kernel=%s,module=nvidia" % RUNNING,
                    "driver_stack/dkms_missing_for_kernel/kernel=%s,module=nvidia" % NEWEST]
