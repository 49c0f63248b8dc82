"""Cadence filters: table tests, errors as AnsibleFilterError."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.filter import cadence as f


def test_filters_are_registered():
    assert set(f.FilterModule().filters()) == {"area_facts", "tls_fact", "fleet_facts", "step_failures",
                                               "cadence_sections", "smart_previous"}


@pytest.mark.parametrize("args, message", [
    (("x",), "list of get_certificate loop results"),
    (([1],), "list of get_certificate loop results"),
    (([], "a", 7), "warn_days.*unable to convert to float"),
    (([], 5, 7), r"crit_days \(7.0\) must not be above warn_days \(5.0\)"),
])
def test_tls_fact_errors(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        f.tls_fact(*args)


def test_tls_fact_none_is_empty():
    assert f.tls_fact(None)["endpoints"] == []


def test_fleet_facts_filters_names():
    hostvars = {"a": {"ansible_facts": {"gpufleet_host": {"status": "ok"}, "gpufleet_gpu": {"status": "warn"}, "distribution": "Debian",
                                        "gpufleet_bad": "not a dict"}},
                "b": {"gpufleet_tls": {"status": "crit"}, "gpufleet_thresholds_host": {"disk_used_warn_pct": 80}}}
    assert f.fleet_facts(["a", "b"], hostvars) == {"a": {"gpufleet_host": {"status": "ok"}, "gpufleet_gpu": {"status": "warn"}}, "b": {}}
    # set_fact facts are host variables: taken only when named (group vars are dicts too).
    assert f.fleet_facts(["b"], hostvars, ["gpufleet_tls"]) == {"b": {"gpufleet_tls": {"status": "crit"}}}
    assert f.fleet_facts(["a"], hostvars, ["gpufleet_host"]) == {"a": {"gpufleet_host": {"status": "ok"}}}
    with pytest.raises(AnsibleFilterError, match="list of host names"):
        f.fleet_facts("a", hostvars)
    with pytest.raises(AnsibleFilterError, match="no host variables"):
        f.fleet_facts(["zz"], hostvars)


@pytest.mark.parametrize("args, message", [
    (({}, "hourly"), "cadence must be one of"),
    (("x", "daily"), "expects the history answer"),
    (({}, "daily", None, "x"), "options must be a dict"),
])
def test_cadence_sections_errors(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        f.cadence_sections(*args)


def test_cadence_sections_weekly():
    assert f.cadence_sections({"maxima": {}}, "weekly")[0]["title"] == "Temperature maxima of the week"


def test_area_facts_maps_areas_through_the_registry_and_names_the_known_ones():
    assert f.area_facts(["host", "gpu", "llm", "tls"]) == ["gpufleet_host", "gpufleet_gpu", "gpufleet_benchmark", "gpufleet_tls"]
    with pytest.raises(AnsibleFilterError, match="unknown area 'toaster' .known: .*host"):
        f.area_facts(["toaster"])
    with pytest.raises(AnsibleFilterError, match="list of area names"):
        f.area_facts("host")


def test_step_failures_collects_the_rescued_steps_of_the_play_hosts():
    hostvars = {"a": {"fleet_report_step_failure": "Gather the health facts of this host: boom"}, "b": {}}
    assert f.step_failures(["a", "b"], hostvars) == {"a": "Gather the health facts of this host: boom"}
    with pytest.raises(AnsibleFilterError, match="list of host names"):
        f.step_failures("a", hostvars)
    with pytest.raises(AnsibleFilterError, match="no host variables for 'c'"):
        f.step_failures(["c"], hostvars)


def test_smart_previous_rejects_what_is_not_one_hosts_readings():
    with pytest.raises(AnsibleFilterError, match="history.last"):
        f.smart_previous(["smart.devices.media_errors"])
    got = f.smart_previous({"smart.devices.media_errors": {"device=/dev/sda": [100.0, 3.0]}, "other": {}})
    assert got == {"collected_epoch_s": 100.0, "devices": [{"name": "/dev/sda", "from_history": True, "media_errors": 3,
                                                            "collected_epoch_s": 100.0}]}
