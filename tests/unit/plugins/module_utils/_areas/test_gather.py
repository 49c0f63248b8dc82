"""_areas.gather: health_facts' areas validated before any I/O, then gathered in one run."""

import os
import subprocess
import sys

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gather import gather_areas, validate
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from testlib import pci_tree, proxmox_host


def run_command(args, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
    proc = subprocess.run(args, input=data, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_validate_fills_defaults_converts_types_and_refuses_unknown_keys_and_areas():
    options = validate(["host", "gpu"], {"host": {"paths": ["/srv"]}, "gpu": {"source": None, "timeout": "7"}})
    assert options["host"]["paths"] == ["/srv"]
    assert options["host"]["thresholds"] == {"disk_used_warn_pct": 80, "disk_used_crit_pct": 85,
                                             "memory_available_warn_pct": 10, "memory_available_crit_pct": 5}
    assert options["gpu"]["source"] == "auto"  # None means "the default"
    assert options["gpu"]["timeout"] == 7
    with pytest.raises(AreaError, match="gpu: .*colour"):
        validate(["gpu"], {"gpu": {"colour": "green"}})
    with pytest.raises(AreaError, match="unknown area.s. toaster"):
        validate(["host", "toaster"], {})


def test_validate_names_every_bad_area_before_anything_is_gathered():
    with pytest.raises(AreaError) as info:
        validate(["host", "docker"], {"host": {"thresholds": {"disk_used_warn_pct": 90, "disk_used_crit_pct": 80}},
                                      "docker": {"timeout": "soon"}})
    message = str(info.value)
    assert "host: thresholds: disk_used_crit_pct (80.0) must not be below disk_used_warn_pct (90.0)" in message
    assert "docker: " in message and "timeout" in message


def test_gather_areas_sets_one_fact_per_area_in_one_run():
    facts, warnings, errors, seconds = gather_areas(run_command, ["host", "gpu", "driver_stack"],
                                                    {"host": {"paths": ["/"]}, "gpu": {"source": "none"}})
    assert errors == []
    assert sorted(facts) == ["gpufleet_driver_stack", "gpufleet_gpu", "gpufleet_host"]
    assert facts["gpufleet_host"]["disks"][0]["path"] == "/"
    assert facts["gpufleet_gpu"]["nvidia"]["present"] is False
    assert set(seconds) == {"host", "gpu", "driver_stack"}


def test_an_area_failing_while_gathering_is_an_error_and_the_others_still_report(monkeypatch):
    # Unknown thresholds are refused before anything is gathered ...
    with pytest.raises(AreaError, match=r"gpu: unknown threshold\(s\) hotness"):
        gather_areas(run_command, ["host", "gpu"], {"gpu": {"source": "none", "thresholds": {"hotness": 1}}})

    # ... and an area whose collector fails (here: made to) costs that area only.
    def collect_fails(_run_command, _params):
        raise AreaError("gpu: could not gather: the collector failed")

    monkeypatch.setattr(registry.area("gpu"), "collect", collect_fails)
    facts, _warnings, errors, _seconds = gather_areas(run_command, ["host", "gpu"], {"gpu": {"source": "none"}})
    assert errors == ["gpu: could not gather: the collector failed"]
    assert list(facts) == ["gpufleet_host"]


def test_the_daily_wsl_area_on_a_host_that_is_not_wsl_sets_null_and_runs_nothing(fixture_path):
    # The daily's wsl area (only_on_wsl): a kernel string that is not WSL's (this machine's, captured)
    # gives gpufleet_wsl None ("not reported", replacing a cached fact) without running any command.
    calls = []

    def recording(args, **kwargs):
        calls.append(args)
        return run_command(args, **kwargs)

    facts, warnings, errors, seconds = gather_areas(recording, ["wsl"], {"wsl": {
        "only_on_wsl": True, "proc_version_path": fixture_path("proc", "proc-version-linux-6.18.44-this-ci-machine.txt")}})
    assert (facts, warnings, errors, calls) == ({"gpufleet_wsl": None}, [], [], [])
    assert set(seconds) == {"wsl"}


# --- platform gates (only_on_wsl / only_on_macos / only_on_proxmox) ------------------------------

AREAS_PACKAGE = registry.__name__.rsplit(".", 1)[0]


def _loaded(name):
    """The modules of the area ``name`` (its package, checks, collect, parse, present) that are imported."""
    prefix = "%s.%s" % (AREAS_PACKAGE, name)
    return sorted(module for module in sys.modules if module == prefix or module.startswith(prefix + "."))


def _forget(monkeypatch, names):
    """Un-import the areas ``names`` for one test (monkeypatch puts them back afterwards)."""
    package = sys.modules[AREAS_PACKAGE]
    for name in names:
        for module in _loaded(name):
            monkeypatch.delitem(sys.modules, module)
        monkeypatch.delitem(registry._LOADED, name, raising=False)
        if hasattr(package, name):
            monkeypatch.delattr(package, name)
        assert _loaded(name) == []


def _linux_kernel_root(tmp_path, fixture_path):
    """A tree whose /proc/version is this CI machine's (captured): "Linux version 6.18.44-fc-v657", no Microsoft."""
    root = tmp_path / "linux"
    (root / "proc").mkdir(parents=True)
    (root / "proc" / "version").write_text(open(fixture_path("proc", "proc-version-linux-6.18.44-this-ci-machine.txt")).read())
    return str(root)


def _dell_root(tmp_path):
    """A bare-metal host's tree: DMI says Dell (DERIVED: the vendor strings of a PowerEdge), no /etc/pve."""
    root = tmp_path / "dell"
    dmi = root / "sys" / "class" / "dmi" / "id"
    dmi.mkdir(parents=True)
    (dmi / "sys_vendor").write_text("Dell Inc.\n")
    (dmi / "product_name").write_text("PowerEdge R740\n")
    return str(root)


def test_platform_areas_on_a_host_of_another_platform_are_neither_imported_nor_validated(tmp_path, fixture_path, monkeypatch):
    # The daily's three platform areas on a Linux host that is not WSL (its kernel string), not macOS
    # (its uname(2) says Linux: this machine's does, and it is patched so on any machine) and neither a
    # Proxmox node nor a guest (DMI Dell, no /etc/pve).
    # Their other options are out of range on purpose: a gated-off area's options are not checked.
    monkeypatch.setattr(os, "uname", lambda: ("Linux", "box1", "6.1.0-18-amd64", "#1 SMP", "x86_64"))
    calls = []

    def recording(args, **kwargs):
        calls.append(args)
        return run_command(args, **kwargs)

    areas = ["wsl", "macos", "proxmox"]
    options = {"wsl": {"only_on_wsl": True, "root": _linux_kernel_root(tmp_path, fixture_path), "cuda_init_timeout_s": 0},
               "macos": {"only_on_macos": True, "check_updates": False, "command_timeout_s": 0},
               "proxmox": {"only_on_proxmox": True, "root": _dell_root(tmp_path), "timeout": 0}}
    _forget(monkeypatch, areas)

    facts, warnings, errors, seconds = gather_areas(recording, areas, options)
    assert (facts, warnings, errors, calls) == (
        {"gpufleet_wsl": None, "gpufleet_macos": None, "gpufleet_proxmox": None}, [], [], [])
    # each area's time is the gate's (how long is the bench's to measure, not a test's)
    assert set(seconds) == set(areas) and all(isinstance(s, float) and s >= 0 for s in seconds.values())
    # health_upkeep's way: validate first, then gather with what it gave
    validated = validate(areas, options)
    assert [type(validated[name]).__name__ for name in areas] == ["GatedOff"] * 3
    assert gather_areas(recording, areas, options, validated=validated)[:3] == (facts, [], [])

    assert [(name, _loaded(name)) for name in areas] == [(name, []) for name in areas]
    assert not set(areas) & set(registry._LOADED)
    assert all("%s.%s_gate" % (AREAS_PACKAGE, name) in sys.modules for name in areas)


def test_where_a_gate_cannot_tell_or_the_host_may_be_that_platform_the_area_is_imported_and_runs(tmp_path, fixture_path):
    # wsl: no /proc/version under root: the kernel string cannot be read, so the area runs and says unknown.
    unreadable = str(tmp_path / "empty")
    facts, warnings, errors, _seconds = gather_areas(run_command, ["wsl"], {"wsl": {"only_on_wsl": True, "root": unreadable}})
    assert errors == [] and facts["gpufleet_wsl"]["status"] == "unknown"
    assert [c["check"] for c in facts["gpufleet_wsl"]["checks"]] == ["wsl"]
    assert warnings and "could not read /proc/version" in warnings[0]
    # ... so its options are checked as always
    with pytest.raises(AreaError, match="wsl: cuda_init_timeout_s must be at least 1, not 0"):
        validate(["wsl"], {"wsl": {"only_on_wsl": True, "root": unreadable, "cuda_init_timeout_s": 0}})

    # proxmox: a QEMU guest (its captured DMI strings) may have a GPU: the gate lets it through and the
    # area decides after checking its options: its bus (this project's own VM: virtio devices, no GPU)
    # has none and none is expected, so nothing is reported.
    guest = proxmox_host.guest_tree(tmp_path / "guest", pci_tree.from_listing(proxmox_host.read("sysfs_pci", "debian12-vm-no-gpu.txt")),
                                    proxmox_host.dmi(proxmox_host.read("proxmox", "dmi-qemu-guest.txt")))
    options = {"proxmox": {"only_on_proxmox": True, "root": str(guest)}}
    with pytest.raises(AreaError, match="proxmox: timeout must be at least 1"):
        validate(["proxmox"], {"proxmox": dict(options["proxmox"], timeout=0)})
    assert gather_areas(run_command, ["proxmox"], options)[:3] == ({"gpufleet_proxmox": None}, [], [])

    # only_on_wsl given as a string is not the gate's boolean: the area is validated (and so refuses
    # the bad timeout) and decides itself.
    linux = _linux_kernel_root(tmp_path, fixture_path)
    with pytest.raises(AreaError, match="wsl: cuda_init_timeout_s must be at least 1, not 0"):
        validate(["wsl"], {"wsl": {"only_on_wsl": "yes", "root": linux, "cuda_init_timeout_s": 0}})
    assert gather_areas(run_command, ["wsl"], {"wsl": {"only_on_wsl": "yes", "root": linux}})[:3] == (
        {"gpufleet_wsl": None}, [], [])


def test_without_only_on_the_area_reports_on_a_host_of_another_platform(tmp_path, fixture_path):
    # The gate is asked only for only_on_*: without it a Linux kernel's host gets wsl's "not a WSL host".
    facts, _warnings, errors, _seconds = gather_areas(run_command, ["wsl"], {"wsl": {"root": _linux_kernel_root(tmp_path, fixture_path)}})
    assert errors == [] and facts["gpufleet_wsl"]["is_wsl"] is False and facts["gpufleet_wsl"]["status"] == "ok"
