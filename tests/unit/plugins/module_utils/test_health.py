import subprocess

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._health import AreaError, area_options, gather_areas, validate


def run_command(args, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
    proc = subprocess.run(args, input=data, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_area_options_fill_defaults_and_refuse_unknown_keys():
    assert area_options("host", {"paths": ["/srv"]}) == {"paths": ["/srv"], "thresholds": {}}
    assert area_options("gpu", {"source": None})["source"] == "auto"
    with pytest.raises(AreaError, match="gpu: unknown option.s. colour"):
        area_options("gpu", {"colour": "green"})
    with pytest.raises(AreaError, match="unknown area.s. toaster"):
        validate(["host", "toaster"], {})


def test_gather_areas_sets_one_fact_per_area_in_one_run():
    facts, warnings, errors, seconds = gather_areas(run_command, ["host", "gpu", "driver_stack"],
                                                    {"host": {"paths": ["/"]}, "gpu": {"source": "none"}})
    assert errors == []
    assert sorted(facts) == ["gpufleet_driver_stack", "gpufleet_gpu", "gpufleet_host"]
    assert facts["gpufleet_host"]["disks"][0]["path"] == "/"
    assert facts["gpufleet_gpu"]["nvidia"]["present"] is False
    assert set(seconds) == {"host", "gpu", "driver_stack"}


def test_bad_thresholds_are_an_error_and_the_other_areas_still_report():
    facts, warnings, errors, seconds = gather_areas(
        run_command, ["host", "gpu"], {"host": {"thresholds": {"disk_used_warn_pct": 90, "disk_used_crit_pct": 80}},
                                       "gpu": {"source": "none", "thresholds": {"hotness": 1}}})
    assert len(errors) == 2
    assert "disk_used_crit_pct (80) must not be below disk_used_warn_pct (90)" in errors[0]
    assert errors[1].startswith("gpu: thresholds:") and "hotness" in errors[1]
    assert facts == {}
