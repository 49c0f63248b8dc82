"""wsl: parsers on real captures, and AREA.gather on built WSL trees with gcc-built libcuda stand-ins.

Gathering runs the real tools (ldconfig -p -C, the dpkg status file read by _tools/dpkg, the replaying
nvidia-smi stand-in) and calls cuInit through ctypes in a real child process, through the runner.
"""

import copy
import functools
import os
import subprocess
import sys

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import AREA, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import parse as _wsl
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import dpkg as _dpkg
from testlib import wsl_tree
from testlib.wsl_tree import fixture, make_tree, run_command


def read(name):
    with open(fixture(name)) as handle:
        return handle.read()


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    return str(tmp_path_factory.mktemp("libcuda-standins"))


def gather(root, environ=None, python=sys.executable, **options):
    """AREA.gather with the options given, this interpreter for the cuInit child, no WSL_DISTRO_NAME."""
    options.setdefault("cuda_init_timeout_s", 10)
    area = copy.copy(AREA)
    area.collect = functools.partial(collect.collect, environ={} if environ is None else environ, python=python)
    return area.gather(run_command, AREA.validate(dict(options, root=str(root))))


def by_check(fact):
    return {c["check"]: c for c in fact["checks"]}


# --- parsers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, is_wsl, version, release", [
    ("proc-version-wsl2-5.4.72-oe-user.txt", True, 2, "5.4.72-microsoft-standard-WSL2"),
    ("proc-version-wsl1-4.4.0-19041.txt", True, 1, "4.4.0-19041-Microsoft"),
    ("proc-version-linux-6.18.44-this-ci-machine.txt", False, None, "6.18.44-fc-v657"),
])
def test_parse_proc_version_captures(name, is_wsl, version, release):
    assert _wsl.parse_proc_version(read(name)) == {"is_wsl": is_wsl, "wsl_version": version, "kernel_release": release}


@pytest.mark.parametrize("text, expected", [
    # The first WSL2 kernels (before the -WSL2 suffix) were 4.19.x-microsoft-standard.
    ("Linux version 4.19.128-microsoft-standard (oe-user@oe-host) (gcc version 8.2.0 (GCC)) #1 SMP",
     {"is_wsl": True, "wsl_version": 2, "kernel_release": "4.19.128-microsoft-standard"}),
    ("", {"is_wsl": False, "wsl_version": None, "kernel_release": None}),
    (None, {"is_wsl": False, "wsl_version": None, "kernel_release": None}),
    ("garbage", {"is_wsl": False, "wsl_version": None, "kernel_release": None}),
])
def test_parse_proc_version_edges(text, expected):
    assert _wsl.parse_proc_version(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("[boot]\nsystemd=true\n", True),
    ("[boot]\n# comment\nsystemd = false  ; trailing\n", False),
    ("[Boot]\nSystemd=TRUE\n[automount]\nenabled=true\n", True),
    ("[automount]\nenabled=true\n", None),
    ("[boot]\nsystemd=maybe\n", None),
    ("systemd=true\n", None),          # outside a section: ignored, as WSL does
    ("", None),
    ("[boot\nsystemd=true", None),     # broken header: no section
])
def test_wsl_conf_systemd(text, expected):
    assert _wsl.systemd_enabled(_wsl.parse_wsl_conf(text)) is expected


def test_driver_packages_from_a_dpkg_database_dpkg_itself_reads(tmp_path):
    wsl_tree.dpkg_status(str(tmp_path), [
        ("libnvidia-compute-550", "550.54.14-0ubuntu1", "install ok installed"),
        ("nvidia-utils-550", "550.54.14-0ubuntu1", "hold ok installed"),
        ("nvidia-driver-535", "535.161.07-0ubuntu1", "deinstall ok config-files"),
        ("nvidia-container-toolkit", "1.14.6-1", "install ok installed"),
        ("cuda-toolkit-12-4", "12.4.1-1", "install ok installed"),
        ("libcuda1", "535.161.08-1", "install ok installed"),
    ])
    # the real dpkg accepts the database the tests build, and agrees with the shared reader
    proc = subprocess.run(["dpkg-query", "--admindir=%s/var/lib/dpkg" % tmp_path, "-W", "-f=${Package} ${db:Status-Abbrev}\n"],
                          capture_output=True, text=True, check=True)
    assert "nvidia-utils-550 hi" in [line.strip() for line in proc.stdout.splitlines()]
    with open("%s/var/lib/dpkg/status" % tmp_path) as handle:
        packages, problems = _dpkg.parse_status_file(handle.read())
    assert problems == []
    assert {p["name"]: (p["installed"], p["held"]) for p in packages}["nvidia-driver-535"] == (False, False)
    assert _wsl.linux_driver_packages(packages) == [
        {"name": "libcuda1", "version": "535.161.08-1", "held": False},
        {"name": "libnvidia-compute-550", "version": "550.54.14-0ubuntu1", "held": False},
        {"name": "nvidia-utils-550", "version": "550.54.14-0ubuntu1", "held": True},
    ]
    assert _wsl.linux_driver_packages(packages, ["nvidia-utils-*"]) == [
        {"name": "nvidia-utils-550", "version": "550.54.14-0ubuntu1", "held": True}]


def test_driver_packages_multiarch_once_and_not_installed_left_out():
    packages = [_dpkg.make_package("libcuda1:amd64", "535.1", "install ok installed"),
                _dpkg.make_package("libcuda1:i386", "535.1", "install ok installed"),
                _dpkg.make_package("libnvidia-compute-535", "535.1", "install ok not-installed")]
    assert _wsl.linux_driver_packages(packages) == [{"name": "libcuda1", "version": "535.1", "held": False}]


@pytest.mark.parametrize("name, rc, ok, driver, smi, cuda", [
    ("nvidia-smi-wsl2-rtx4070-linux555.52.01-win555.99-truncated.txt", 0, True, "555.99", "555.52.01", "12.5"),
    ("nvidia-smi-wsl2-docker-quadro-rtx4000-linux525.60.07-win527.27-truncated.txt", 0, True, "527.27", "525.60.07", "12.0"),
    ("nvidia-smi-q-wsl2-gtx1650ti-driver510.06-truncated.txt", 0, True, "510.06", None, "11.6"),
    ("nvidia-smi-wsl2-failed-to-communicate.txt", 9, False, None, None, None),
])
def test_parse_nvidia_smi_captures(name, rc, ok, driver, smi, cuda):
    parsed = _wsl.parse_nvidia_smi(read(name), rc)
    assert (parsed["ok"], parsed["driver_version"], parsed["nvidia_smi_version"], parsed["cuda_version"]) == (ok, driver, smi, cuda)
    if not ok:
        assert parsed["error"].startswith("NVIDIA-SMI has failed because it couldn't communicate")


def test_parse_nvidia_smi_empty_output():
    parsed = _wsl.parse_nvidia_smi("", 127)
    assert parsed["ok"] is False and parsed["error"] == "exit status 127 and no driver version"


@pytest.mark.parametrize("rc, stdout, outcome, name, needle", [
    (0, '{"result": 0, "driver_api_version": 12050}\n', "returned", "CUDA_SUCCESS", "CUDA_SUCCESS (0)"),
    (0, '{"result": 35, "driver_api_version": null}\n', "returned", "CUDA_ERROR_INSUFFICIENT_DRIVER", "(35)"),
    (0, '{"result": 4242}\n', "returned", "CUresult 4242", "CUresult 4242"),
    (0, '{"load_error": "x.so: cannot open shared object file"}\n', "load_failed", None, "cannot open"),
    (-11, "", "crashed", None, "SIGSEGV"),
    (139, "", "crashed", None, "SIGSEGV"),
    (-6, "", "crashed", None, "SIGABRT"),
    (1, "Traceback...\n", "error", None, "exited 1 without a result: Traceback"),
])
def test_interpret_cuinit(rc, stdout, outcome, name, needle):
    fact = _wsl.interpret_cuinit(rc, stdout, "", "/usr/lib/wsl/lib/libcuda.so.1")
    assert fact["outcome"] == outcome and fact["name"] == name
    assert needle in fact["message"]


def test_curesult_names_match_cuda_h():
    assert _wsl.curesult_name(0) == "CUDA_SUCCESS"
    assert _wsl.curesult_name(100) == "CUDA_ERROR_NO_DEVICE"
    assert _wsl.curesult_name(35) == "CUDA_ERROR_INSUFFICIENT_DRIVER"
    assert _wsl.curesult_name(304) == "CUDA_ERROR_OPERATING_SYSTEM"
    assert _wsl.curesult_name(3) == "CUDA_ERROR_NOT_INITIALIZED"


def test_snapshot_changes():
    before = {"driver_version": "555.99", "kernel_release": "5.15.153.1-microsoft-standard-WSL2"}
    assert _wsl.snapshot_changes(None, before) == []
    assert _wsl.snapshot_changes(before, dict(before)) == []
    assert _wsl.snapshot_changes(before, dict(before, driver_version=None)) == []
    assert _wsl.snapshot_changes(before, dict(before, driver_version="560.70")) == [
        {"key": "driver_version", "before": "555.99", "after": "560.70"}]
    assert _wsl.parse_snapshot("not json") is None
    assert _wsl.parse_snapshot("[1]") is None
    assert _wsl.parse_snapshot('{"driver_version": "1"}') == {"driver_version": "1"}


# --- gather on built trees -----------------------------------------------------------------------

def test_gather_on_an_ordinary_kernel_does_nothing(tmp_path):
    wsl_tree.place(str(tmp_path), "/proc/version", fixture("proc-version-linux-6.18.44-this-ci-machine.txt"))
    fact, warnings = gather(tmp_path)
    assert fact["is_wsl"] is False and fact["cuda_init"] is None and fact["nvidia_smi_path"] is None
    assert [c["check"] for c in fact["checks"]] == ["wsl"] and fact["status"] == "ok"
    assert "not a WSL host (kernel 6.18.44-fc-v657)" in fact["checks"][0]["message"]
    assert warnings == []


def test_only_on_wsl_an_ordinary_kernel_reports_nothing(tmp_path):
    """The daily's setting: a host that is not WSL gets no fact (None: not reported), no check, no warning."""
    wsl_tree.place(str(tmp_path), "/proc/version", fixture("proc-version-linux-6.18.44-this-ci-machine.txt"))
    assert gather(tmp_path, only_on_wsl=True) == (None, [])


def test_only_on_wsl_an_unreadable_kernel_string_is_still_unknown(tmp_path):
    fact, warnings = gather(tmp_path, only_on_wsl=True)
    assert fact["status"] == "unknown" and [c["check"] for c in fact["checks"]] == ["wsl"]
    assert warnings and "could not read /proc/version" in warnings[0]


def test_only_on_wsl_a_wsl_host_is_looked_at_in_full(tmp_path, libs):
    root = make_tree(tmp_path, libs, wsl_variant="insufficient_driver")
    fact, _warnings = gather(root, only_on_wsl=True)
    assert fact["is_wsl"] is True and fact["cuda_init"]["name"] == "CUDA_ERROR_INSUFFICIENT_DRIVER"
    assert by_check(fact)["nvidia_smi_ok_cuda_broken"]["status"] == "crit"


def test_gather_unreadable_proc_version_is_unknown(tmp_path):
    """issue 18: a kernel string that could not be read says nothing about WSL: unknown, never "not a WSL host"."""
    fact, warnings = gather(tmp_path)
    assert fact["is_wsl"] is False and fact["status"] == "unknown"
    assert warnings and "could not read /proc/version" in warnings[0]
    check = by_check(fact)["wsl"]
    assert check["status"] == "unknown" and check["message"].startswith("could not look: the kernel string could not be read")
    assert "proc_version_path" in check["message"]


def test_gather_wsl1_warns(tmp_path, libs):
    root = make_tree(tmp_path, libs, proc_version="proc-version-wsl1-4.4.0-19041.txt", wsl_lib_dir=False, ldconfig=False)
    fact, _warnings = gather(root)
    assert fact["wsl_version"] == 1
    checks = by_check(fact)
    assert checks["wsl1"]["status"] == "warn" and "wsl --set-version" in checks["wsl1"]["message"]
    assert fact["status"] == "warn"


def test_gather_healthy_wsl2(tmp_path, libs):
    root = make_tree(tmp_path, libs)
    fact, warnings = gather(root)
    assert warnings == []
    assert fact["is_wsl"] and fact["wsl_version"] == 2
    assert fact["kernel_release"] == "5.4.72-microsoft-standard-WSL2"
    assert fact["systemd_enabled"] is True and fact["dxg_present"] is False
    assert fact["wsl_libraries"] == ["libcuda.so", "libcuda.so.1", "libdxcore.so", "libnvidia-ml.so.1"]
    assert fact["libcuda_path"] == "/usr/lib/wsl/lib/libcuda.so.1"
    assert fact["libcuda_source"] == "ld.so.cache" and fact["libcuda_resolves_to_wsl"] is True
    assert fact["ld_search_dirs"][:2] == ["/usr/lib/wsl/lib", "/usr/local/lib"]
    assert fact["nvidia_smi_ok"] is True and fact["driver_version"] == "555.99"
    assert fact["nvidia_smi_version"] == "555.52.01" and fact["cuda_version"] == "12.5"
    cuda = fact["cuda_init"]
    assert (cuda["outcome"], cuda["result"], cuda["name"]) == ("returned", 0, "CUDA_SUCCESS")
    assert cuda["driver_api_version"] == 12050  # the stand-in answered through ctypes
    assert cuda["library"] == os.path.join(root, "usr/lib/wsl/lib/libcuda.so.1")
    assert fact["linux_nvidia_driver_packages"] == []
    assert {c["check"]: c["status"] for c in fact["checks"]} == {
        "wsl_lib_dir": "ok", "linux_driver_inside_wsl": "ok", "libcuda_shadowed": "ok",
        "nvidia_smi": "ok", "cuda_init": "ok"}
    assert fact["status"] == "ok"
    assert fact["snapshot"] == {"driver_version": "555.99", "kernel_release": "5.4.72-microsoft-standard-WSL2",
                                "nvidia_smi_version": "555.52.01"}


def test_gather_shadowed_libcuda_and_linux_driver(tmp_path, libs):
    root = make_tree(tmp_path, libs, linux_variant="insufficient_driver",
                     packages=[("libnvidia-compute-550", "550.54.14-0ubuntu1", "install ok installed")])
    fact, _warnings = gather(root)
    checks = by_check(fact)
    assert fact["libcuda_path"] == "/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1"
    assert fact["libcuda_resolves_to_wsl"] is False
    assert fact["libcuda_candidates"] == ["/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1",
                                          "/usr/lib/wsl/lib/libcuda.so.1"]
    assert checks["libcuda_shadowed"]["status"] == "crit"
    assert checks["libcuda_shadowed"]["value"] == "/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1"
    assert "put /usr/lib/wsl/lib first" in checks["libcuda_shadowed"]["message"]
    assert checks["linux_driver_inside_wsl"]["status"] == "crit"
    assert checks["linux_driver_inside_wsl"]["value"] == ["libnvidia-compute-550"]
    # The guide's failure: nvidia-smi answers, the shadowing libcuda refuses to initialise.
    broken = checks["nvidia_smi_ok_cuda_broken"]
    assert broken["status"] == "crit" and broken["value"] == "CUDA_ERROR_INSUFFICIENT_DRIVER"
    assert "wsl --update" in broken["message"] and "remove Linux NVIDIA driver packages" in broken["message"]
    assert "cuda_init" not in checks
    assert fact["status"] == "crit"


def test_gather_shadowing_from_conf_order_without_a_cache(tmp_path, libs):
    root = make_tree(tmp_path, libs, linux_variant="insufficient_driver", ldconfig=False)
    fact, _warnings = gather(root)
    assert fact["libcuda_source"] == "ld.so.conf"
    assert fact["libcuda_path"] == "/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1"
    assert by_check(fact)["libcuda_shadowed"]["status"] == "crit"


def test_gather_linux_lib_after_wsl_is_not_shadowing(tmp_path, libs):
    root = make_tree(tmp_path, libs, linux_variant="insufficient_driver", linux_dir="/usr/lib/x86_64-linux-gnu",
                     linux_conf_first=False)
    fact, _warnings = gather(root)
    assert fact["libcuda_path"] == "/usr/lib/wsl/lib/libcuda.so.1"
    assert fact["libcuda_candidates"][-1] == "/usr/lib/x86_64-linux-gnu/libcuda.so.1"
    assert by_check(fact)["libcuda_shadowed"]["status"] == "ok"


def test_gather_held_driver_package_is_a_warning(tmp_path, libs):
    root = make_tree(tmp_path, libs, packages=[("nvidia-utils-550", "550.54.14-0ubuntu1", "hold ok installed")])
    fact, _warnings = gather(root)
    check = by_check(fact)["linux_driver_inside_wsl"]
    assert check["status"] == "warn" and "held" in check["message"]
    assert fact["linux_nvidia_driver_packages"] == [{"name": "nvidia-utils-550", "version": "550.54.14-0ubuntu1", "held": True}]


@pytest.mark.parametrize("variant, name", [
    ("no_device", "CUDA_ERROR_NO_DEVICE"),
    ("insufficient_driver", "CUDA_ERROR_INSUFFICIENT_DRIVER"),
    ("operating_system", "CUDA_ERROR_OPERATING_SYSTEM"),
])
def test_gather_nvidia_smi_ok_cuda_broken(tmp_path, libs, variant, name):
    root = make_tree(tmp_path, libs, wsl_variant=variant)
    fact, _warnings = gather(root)
    assert fact["cuda_init"]["name"] == name and fact["cuda_init"]["outcome"] == "returned"
    check = by_check(fact)["nvidia_smi_ok_cuda_broken"]
    assert check["status"] == "crit" and check["value"] == name
    assert by_check(fact)["libcuda_shadowed"]["status"] == "ok"
    assert fact["status"] == "crit"


def test_gather_no_gpu_passed_through(tmp_path, libs):
    root = make_tree(tmp_path, libs, wsl_lib_dir=False)
    fact, warnings = gather(root)
    checks = by_check(fact)
    assert fact["wsl_lib_dir_present"] is False and fact["libcuda_path"] is None
    assert checks["wsl_lib_dir"]["status"] == "warn" and "wsl --update" in checks["wsl_lib_dir"]["message"]
    assert checks["libcuda_shadowed"]["status"] == "warn" and "no libcuda.so.1" in checks["libcuda_shadowed"]["message"]
    assert checks["nvidia_smi"]["status"] == "warn"
    assert fact["cuda_init"] is None and "cuda_init" not in checks
    assert fact["status"] == "warn"


def test_gather_nvidia_smi_failed_to_communicate(tmp_path, libs):
    root = make_tree(tmp_path, libs, wsl_variant="no_device",
                     nvidia_smi=("nvidia-smi-wsl2-failed-to-communicate.txt", 9))
    fact, _warnings = gather(root)
    checks = by_check(fact)
    assert fact["nvidia_smi_ok"] is False
    assert "couldn't communicate with the NVIDIA driver" in checks["nvidia_smi"]["message"]
    assert checks["cuda_init"]["status"] == "warn" and checks["cuda_init"]["value"] == "CUDA_ERROR_NO_DEVICE"
    assert "nvidia_smi_ok_cuda_broken" not in checks
    assert fact["status"] == "warn"


def test_gather_cuinit_crash_is_a_verdict(tmp_path, libs):
    root = make_tree(tmp_path, libs, wsl_variant="crash")
    fact, _warnings = gather(root)
    assert fact["cuda_init"]["outcome"] == "crashed" and "SIGSEGV" in fact["cuda_init"]["message"]
    check = by_check(fact)["nvidia_smi_ok_cuda_broken"]
    assert check["status"] == "crit" and check["value"] == "crashed"


def test_gather_cuinit_hang_is_killed(tmp_path, libs):
    root = make_tree(tmp_path, libs, wsl_variant="hang")
    # The probe never returns by itself: that gather returns at all, with "timeout", is the kill working
    # (no wall-clock bound here: speed is measured in tests/bench, not asserted in pytest).
    fact, _warnings = gather(root, cuda_init_timeout_s=2)
    assert fact["cuda_init"]["outcome"] == "timeout"
    assert "did not return within 2 s" in fact["cuda_init"]["message"]
    assert by_check(fact)["nvidia_smi_ok_cuda_broken"]["value"] == "timeout"


def test_gather_library_without_cuinit(tmp_path, libs):
    root = make_tree(tmp_path, libs, wsl_variant="no_cuinit")
    fact, _warnings = gather(root)
    assert fact["cuda_init"]["outcome"] == "load_failed"
    assert "no cuInit symbol" in fact["cuda_init"]["message"]


def test_gather_snapshot_change_alerts(tmp_path, libs):
    root = make_tree(tmp_path, libs)
    wsl_tree.write(root, "/var/lib/gpufleet/wsl_guard.json",
                   '{"driver_version": "552.22", "kernel_release": "5.4.72-microsoft-standard-WSL2"}')
    fact, _warnings = gather(root, state_file="/var/lib/gpufleet/wsl_guard.json")
    check = by_check(fact)["wsl_host_changed"]
    assert check["status"] == "warn" and check["value"] == ["driver_version"]
    assert "driver version 552.22 -> 555.99" in check["message"]
    assert fact["previous_snapshot"]["driver_version"] == "552.22"
    fact, _warnings = gather(root, state_file="/var/lib/gpufleet/absent.json")
    assert "wsl_host_changed" not in by_check(fact) and fact["previous_snapshot"] is None


def test_gather_explicit_nvidia_smi_that_is_missing(tmp_path, libs):
    root = make_tree(tmp_path, libs)
    fact, warnings = gather(root, nvidia_smi_path=str(tmp_path / "nope"))
    assert fact["nvidia_smi_path"] is None and by_check(fact)["nvidia_smi"]["status"] == "warn"
    assert any("is not an executable file" in w for w in warnings)


def test_gather_reads_the_distro_name_from_the_environment(tmp_path, libs):
    root = make_tree(tmp_path, libs, wsl_conf=None)
    fact, _warnings = gather(root, environ={"WSL_DISTRO_NAME": "Ubuntu-22.04"})
    assert fact["distro_name"] == "Ubuntu-22.04" and fact["systemd_enabled"] is None


def test_the_role_pins_what_the_fact_reports(tmp_path):
    """One list (_tools/gpu_packages.NVIDIA_DRIVER): the fact shows the patterns in force, and wsl_guard has no
    list of its own (empty default, the module's list) and writes the fact's patterns into its APT pin."""
    import yaml
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import gpu_packages
    role = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "..", "roles", "wsl_guard")
    with open(os.path.join(role, "defaults", "main.yml")) as handle:
        assert yaml.safe_load(handle)["wsl_guard_driver_package_patterns"] == []
    with open(os.path.join(role, "templates", "apt-preferences.j2")) as handle:
        assert "Package: {{ ansible_facts.gpufleet_wsl.driver_package_patterns | join(' ') }}" in handle.read()
    fact, _warnings = gather(tmp_path)
    assert fact["driver_package_patterns"] == list(gpu_packages.NVIDIA_DRIVER)
    assert gather(tmp_path, driver_package_patterns=["nvidia-utils-*"])[0]["driver_package_patterns"] == ["nvidia-utils-*"]


def test_summary_section_and_summary_lines(tmp_path, libs):
    from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._summary import summary_lines
    root = make_tree(tmp_path, libs, linux_variant="insufficient_driver",
                     packages=[("libnvidia-compute-550", "550.54.14-0ubuntu1", "hold ok installed")])
    fact, _warnings = gather(root)
    lines = summary_lines({"gpufleet_wsl": fact})
    assert lines[0] == "status: CRIT"
    assert lines[1] == ("wsl: WSL2 kernel 5.4.72-microsoft-standard-WSL2, host driver 555.99, libcuda "
                        "/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1 (NOT the host copy), "
                        "cuInit CUDA_ERROR_INSUFFICIENT_DRIVER")
    assert lines[2] == "wsl: Linux NVIDIA driver packages inside WSL: libnvidia-compute-550 (held)"
    assert any(line.startswith("CRIT libcuda_shadowed: the dynamic linker loads") for line in lines)
    assert present.summary_lines({"is_wsl": False}) == ["wsl: not a WSL host"]
    assert present.summary_lines({"is_wsl": True, "wsl_version": 1, "kernel_release": "4.4.0-19041-Microsoft"}) == [
        "wsl: WSL1 (kernel 4.4.0-19041-Microsoft), no GPU access"]


# --- issue 18: what could not be read is unknown, never ok -----------------------------------------

def test_gather_without_a_dpkg_database_is_unknown_not_clean(tmp_path, libs):
    """A WSL distribution that is not Debian-based (no dpkg database): the driver packages were not looked at."""
    root = make_tree(tmp_path, libs)
    os.remove(os.path.join(root, "var/lib/dpkg/status"))
    fact, _warnings = gather(root)
    check = by_check(fact)["linux_driver_inside_wsl"]
    assert check["status"] == "unknown" and "no /var/lib/dpkg/status below" in check["message"]
    assert fact["linux_nvidia_driver_packages"] == [] and fact["status"] == "unknown"


def test_gather_cuinit_probe_that_cannot_run_is_unknown(tmp_path, libs):
    root = make_tree(tmp_path, libs)
    fact, _warnings = gather(root, python=str(tmp_path / "no-such-python"))
    assert fact["cuda_init"]["outcome"] == "error"
    checks = by_check(fact)
    assert checks["cuda_init"]["status"] == "unknown" and "the cuInit probe gave no answer" in checks["cuda_init"]["message"]
    assert "nvidia_smi_ok_cuda_broken" not in checks  # nothing is known about CUDA: no verdict either way


def test_gather_snapshot_that_cannot_be_read_is_unknown(tmp_path, libs):
    root = make_tree(tmp_path, libs)
    wsl_tree.write(root, "/var/lib/gpufleet/wsl_guard.json", "{truncated by a full disk")
    fact, _warnings = gather(root, state_file="/var/lib/gpufleet/wsl_guard.json")
    check = by_check(fact)["wsl_host_changed"]
    assert check["status"] == "unknown" and "/var/lib/gpufleet/wsl_guard.json is not a JSON object" in check["message"]
    assert "run wsl_guard again" in check["message"]


@pytest.mark.parametrize("value", [0, -5])
def test_cuda_init_timeout_below_one_second_is_refused_naming_the_option(value):
    with pytest.raises(AreaError, match=r"^wsl: cuda_init_timeout_s must be at least 1, not %s$" % value):
        AREA.validate({"cuda_init_timeout_s": value})


def test_a_mac_is_not_wsl_and_reports_nothing_unreadable():
    # macOS has no /proc/version: the daily's only_on_wsl reports nothing there, not "could not look"
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import checks as wsl_checks
    assert collect.collect(None, AREA.validate({"only_on_wsl": True}), system="Darwin") == (None, [])
    data, warnings = collect.collect(None, AREA.validate({}), system="Darwin")
    assert warnings == [] and data["is_wsl"] is False and data["_unread"] == {}
    assert [(c["check"], c["status"]) for c in wsl_checks.evaluate(data, AREA.validate({}))] == [("wsl", "ok")]
