"""driver_stack_facts through the real Ansible, on real dpkg databases (built with dpkg-deb + dpkg -i)."""

import os
import subprocess

import pytest

from testlib import hardware
from testlib.ansible_run import run_module, run_playbook
from testlib.fake_debs import UBUNTU_DRIVER_STACK, DpkgRoot, build_deb

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import dpkg as _dpkg

pytestmark = pytest.mark.integration
MODULE = "gpufleet.maintenance.driver_stack_facts"


@pytest.fixture
def dpkg_root(tmp_path):
    """A root tree whose dpkg database holds the Ubuntu-style driver packages, one of them held."""
    root = DpkgRoot(tmp_path / "root")
    debs = [build_deb(str(tmp_path), name, version, depends, files) for name, version, depends, files in UBUNTU_DRIVER_STACK]
    root.install(*debs)
    root.hold("nvidia-driver-535")
    return root


def test_packages_and_held_flags_from_a_real_dpkg_database(dpkg_root):
    result = run_module(MODULE, {"root": dpkg_root.root})
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_driver_stack"]
    assert fact["sources"]["packages"] == "/var/lib/dpkg/status" and fact["live"] is False
    packages = dict((p["name"], p) for p in fact["nvidia"]["packages"])
    assert sorted(packages) == ["libnvidia-compute-535", "nvidia-dkms-535", "nvidia-driver-535"]
    assert packages["nvidia-driver-535"]["held"] is True
    assert packages["nvidia-dkms-535"]["held"] is False
    assert packages["libnvidia-compute-535"]["upstream_version"] == "535.183.01"
    assert fact["held_packages"] == ["nvidia-driver-535"]
    assert fact["unheld_driver_packages"] == ["cuda-toolkit-12-4", "libnvidia-compute-535", "nvidia-dkms-535"]
    assert fact["nvidia"]["userspace_version"] == "535.183.01"
    assert fact["nvidia"]["userspace_source"] == "libnvidia-ml.so.535.183.01"
    assert fact["cuda_toolkits"] == [{"version": "12.4.1", "path": "/usr/local/cuda-12.4", "package": "cuda-toolkit-12-4",
                                      "source": "version file"}]
    toolkit = [c for c in fact["checks"] if c["check"] == "toolkit_newer_than_driver"][0]
    assert toolkit["status"] == "warn"   # 12.4.1 needs 550.54.15; 535 runs it by minor version compatibility
    assert [c["status"] for c in fact["checks"] if c["check"] == "driver_packages_not_held"] == ["warn"]
    assert fact["verdict"] == "ok" and fact["status"] == "warn"


def test_dpkg_query_and_the_status_file_agree(dpkg_root):
    """The two sources of _dpkg read the same database the same way (real dpkg-query)."""
    queried, warnings = _dpkg.parse_query(dpkg_root.query(_dpkg.QUERY_FORMAT))
    assert warnings == []
    with open(os.path.join(dpkg_root.admindir, "status")) as handle:
        from_file = _dpkg.parse_status_file(handle.read())[0]

    def strip(packages):
        return sorted((p["name"], p["version"], p["held"], p["installed"]) for p in packages)

    assert strip(queried) == strip(from_file) and len(queried) == 4


# Debian package name patterns of GPU drivers and their stacks (NVIDIA's and AMD's repositories).
_DRIVER_PACKAGES = ["nvidia-*", "libnvidia-*", "cuda-drivers*", "rocm*", "amdgpu*", "hip-runtime-*"]


def _no_gpu_driver_here():
    """A CI machine: no GPU driver package installed, no NVIDIA kernel module, no reboot pending.

    Read here with dpkg-query and /proc, independently of the module. A machine with a GPU driver
    is skipped as hardware: the expected verdict there depends on its own driver stack.
    """
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n"] + _DRIVER_PACKAGES,
                          capture_output=True, text=True, check=False)
    installed = [line.split()[0] for line in proc.stdout.splitlines() if line.split()[1:] and line.split()[1].startswith("i")]
    if installed or os.path.exists("/proc/driver/nvidia"):
        hardware.skip_without("a machine without a GPU driver", "this one has %s" % (installed or "/proc/driver/nvidia"))
    assert not os.path.exists("/var/run/reboot-required"), "a reboot is pending on this machine"


def test_live_host_uses_dpkg_query_and_matches_apt_mark(tmp_path):
    _no_gpu_driver_here()
    result = run_module(MODULE, {})
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_driver_stack"]
    assert fact["live"] is True and fact["sources"]["packages"] == "dpkg-query" and fact["sources"]["commands"] == "run"
    held = subprocess.run(["apt-mark", "showhold"], capture_output=True, text=True, check=True).stdout.split()
    assert sorted(fact["held_packages"]) == sorted(p.split(":")[0] for p in held)
    assert fact["kernel"]["running_release"] == os.uname().release
    # No driver, nothing to break and nothing waiting for a reboot: every readable link agrees.
    assert fact["nvidia"]["installed"] is False and fact["rocm"]["installed"] is False
    assert fact["nvidia"]["packages"] == [] and fact["rocm"]["packages"] == []
    assert fact["kernel"]["reboot_required"] is False
    assert fact["verdict"] == "ok" and fact["verdict_reason"] == "every link that could be read agrees"


def test_check_mode_reads_the_same(dpkg_root):
    normal = run_module(MODULE, {"root": dpkg_root.root})
    checked = run_module(MODULE, {"root": dpkg_root.root}, check=True)
    assert checked["changed"] is False
    assert checked["ansible_facts"] == normal["ansible_facts"]


def test_an_unreadable_dkms_state_is_unknown_through_ansible(dpkg_root):
    """issue 18: nvidia-dkms-535 is installed (real dpkg database) but the tree has no /var/lib/dkms: the DKMS
    link of each kernel is unknown, with the reason and the fix, and the fact's status says so."""
    os.makedirs(os.path.join(dpkg_root.root, "lib", "modules", "6.8.0-45-generic", "kernel"))
    result = run_module(MODULE, {"root": dpkg_root.root})
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_driver_stack"]
    dkms = [c for c in fact["checks"] if c["check"] == "dkms_missing_for_kernel"]
    assert [(c["status"], c["subject"]) for c in dkms] == [("unknown", {"module": "nvidia", "kernel": "6.8.0-45-generic"})]
    assert "no /var/lib/dkms below %s" % dpkg_root.root in dkms[0]["message"] and "apt-get install dkms" in dkms[0]["message"]
    assert "not read: dkms_missing_for_kernel" in fact["verdict_reason"]


@pytest.mark.parametrize("module, args, msg", [
    (MODULE, {"command_timeout_s": 0}, "gathering driver_stack facts: driver_stack: command_timeout_s must be at least 1, not 0"),
    ("gpufleet.maintenance.health_facts", {"areas": ["driver_stack"], "driver_stack": {"command_timeout_s": -1}},
     "gathering health facts: driver_stack: command_timeout_s must be at least 1, not -1"),
])
def test_a_timeout_below_one_second_fails_naming_the_option(module, args, msg):
    result = run_module(module, args)
    assert result["failed"] is True and result["msg"] == msg


def test_a_root_that_does_not_exist_fails_clearly(tmp_path):
    result = run_module(MODULE, {"root": str(tmp_path / "missing")})
    assert result["failed"] is True
    assert result["msg"] == "gathering driver_stack facts: root %s does not exist or is not a directory" % (tmp_path / "missing")


def test_daily_summary_has_a_driver_stack_section():
    _no_gpu_driver_here()
    proc = run_playbook("playbooks/daily.yml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "driver stack: OK" in proc.stdout, proc.stdout[-3000:]
    assert "driver stack: REBOOT_PENDING" not in proc.stdout and "driver stack: BROKEN" not in proc.stdout


def test_live_container_probe_through_a_real_engine(tmp_path):
    """probe_containers on this machine with the real docker CLI (ps, inspect, exec) against a private
    dockerd. The hardware boundary stays a stand-in: nvidia-smi on the host (a real `nvidia-smi -L`
    capture, so NVML "answers") and inside the containers (the same capture, or the real failure of a
    container that lost its GPU, "Failed to initialize NVML: Unknown Error")."""
    from testlib.docker_lab import Dockerd

    _no_gpu_driver_here()
    fixtures = os.path.join(os.path.dirname(__file__), "..", "unit", "fixtures", "nvidia_smi")
    with open(os.path.join(fixtures, "list-gpus-8x-h100-mig.txt")) as handle:
        listing = handle.read()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "nvidia-smi").write_text("#!/bin/sh\n# nvidia-smi stand-in: replays a real capture\ncat <<'EOF'\n%sEOF\n" % listing)
    (bindir / "nvidia-smi").chmod(0o755)
    lost = tmp_path / "nvidia-smi-lost"
    lost.write_text("#!/bin/sh\necho 'Failed to initialize NVML: Unknown Error'\nexit 255\n")
    lost.chmod(0o755)
    with Dockerd() as engine:
        engine.make_image("gpf16/cuda-app:1", "a CUDA application")
        for name, env in (("gpf16-trainer", ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_REQUIRE_CUDA=cuda>=12.8"]),
                          ("gpf16-server", ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=13.0"]),
                          ("gpf16-web", ["PATH=/bin"])):
            args = ["run", "-d", "--network", "none", "--name", name]
            for entry in env:
                args += ["-e", entry]
            engine.docker(*(args + ["gpf16/cuda-app:1"]))
        engine.docker("cp", str(lost), "gpf16-trainer:/bin/nvidia-smi")
        engine.docker("cp", str(bindir / "nvidia-smi"), "gpf16-server:/bin/nvidia-smi")
        env = {"DOCKER_HOST": engine.host, "PATH": "%s:%s" % (bindir, os.environ["PATH"])}
        result = run_module(MODULE, {"probe_containers": True}, env=env)
        ids = dict((n, engine.inspect(n, kind="container")[0]["Id"][:12]) for n in ("gpf16-trainer", "gpf16-server"))
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_driver_stack"]
    assert fact["nvidia"]["nvml_ok"] is True  # the host's nvidia-smi -L answered
    containers = dict((c["name"], c) for c in fact["container_toolkit"]["containers"])
    assert sorted(containers) == ["gpf16-server", "gpf16-trainer"]  # the web container requests no GPU
    assert containers["gpf16-trainer"]["id"] == ids["gpf16-trainer"] and containers["gpf16-trainer"]["required_cuda"] == "12.8"
    assert containers["gpf16-trainer"]["nvml_ok"] is False and "Unknown Error" in containers["gpf16-trainer"]["nvml_message"]
    assert containers["gpf16-server"]["nvml_ok"] is True and containers["gpf16-server"]["required_cuda"] == "13.0"
    lost_checks = dict((c["container"], c["status"]) for c in fact["checks"] if c["check"] == "container_lost_gpu")
    assert lost_checks == {"gpf16-trainer": "crit", "gpf16-server": "ok"}
    assert fact["verdict"] == "broken" and fact["verdict_link"] == "container_toolkit"
