"""_areas.gather: health_facts' areas validated before any I/O, then gathered in one run."""

import subprocess

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gather import gather_areas, validate
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


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
