"""The Prometheus alert rules (roles/metrics_monitoring/files/prometheus/gpufleet.rules.yml) under
``promtool test rules``, on series taken from what the exporter really wrote for three replayed hosts
(tests/testlib/exported_metrics.py): an H200 with two NVMe drives and an LLM runner, an A100 whose
driver and kernel module disagree and whose SSD has used 75 % of its endurance, an AMD box.

Each scenario changes the values of exported series over time (a GPU heating up, a check going
unknown, a cadence that stops running) and lists every alert that must fire - and, for every other
alert of the file, that it must not.
"""

import os
import re

import pytest
import yaml

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import prom as _prom
from testlib import promtool
from testlib.ansible_run import REPO_ROOT
from testlib.exported_metrics import QLC_SERIAL
from testlib.promtool import Timeline, alert_test, metric_names, values

pytestmark = pytest.mark.integration

RULES = os.path.join(REPO_ROOT, "roles", "metrics_monitoring", "files", "prometheus", "gpufleet.rules.yml")
STATUS = {"ok": 0, "warn": 1, "crit": 2, "unknown": 3}   # the values the rules are written for
H200, A100, AMD = "gpu-h200", "gpu-a100", "gpu-amd"


def _rules():
    with open(RULES) as handle:
        return [rule for group in yaml.safe_load(handle)["groups"] for rule in group["rules"]]


def _alert_names():
    return sorted({rule["alert"] for rule in _rules() if "alert" in rule})


def _description(alertname, severity):
    """The description prose of a rule (static text, carried over as promtool compares all annotations)."""
    for rule in _rules():
        if rule.get("alert") == alertname and rule["labels"]["severity"] == severity:
            return rule["annotations"]["description"]
    raise AssertionError("no rule %s with severity %s" % (alertname, severity))


def expect(eval_time, firing):
    """alert_rule_test entries at ``eval_time``: ``firing`` maps alert names to ``(labels, severity, summary)``
    lists; every other alert of the rules file is expected not to fire."""
    tests = []
    for name in _alert_names():
        alerts = []
        for labels, severity, summary in firing.get(name, []):
            alerts.append((dict(labels, alertname=name, severity=severity),
                           {"summary": summary, "description": _description(name, severity)}))
        tests.append(alert_test(eval_time, name, alerts))
    unknown = set(firing) - set(_alert_names())
    assert not unknown, "the scenario expects alerts the rules file does not have: %s" % unknown
    return tests


def run(tmp_path, *groups, evaluation_interval="1m"):
    proc = promtool.run_tests(tmp_path, [RULES], groups, evaluation_interval=evaluation_interval)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc


def _gpu_labels(timeline, host, name, **labels):
    """Labels of an exported per-GPU gauge as the joined alerts carry them."""
    return timeline.labels(timeline.capture.one(name, host, **labels))


# ------------------------------------------------------------------------- the file itself

def test_rules_pass_promtool_check():
    proc = promtool.check_rules(RULES)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 21 rules found" in proc.stdout


def test_rules_name_only_metrics_the_exporter_writes(exported):
    for rule in _rules():
        names = metric_names(rule["expr"])
        assert names, "no metric found in %s" % rule["expr"]
        missing = names - set(exported.names)
        assert not missing, "%s names %s, which the exporter does not write (it writes %s)" % (
            rule.get("alert"), sorted(missing), exported.names)


def test_catch_all_alerts_leave_out_exactly_the_checks_with_an_alert_of_their_own():
    own, catch_all = set(), []
    for rule in _rules():
        named = set()
        for values_text in re.findall(r'check=~?"([^"]*)"', rule["expr"]):
            named.update(values_text.split("|"))
        if rule.get("alert") in ("GpufleetCheckCritical", "GpufleetCheckWarning"):
            catch_all.append(named)
        else:
            own.update(named)
    assert len(catch_all) == 2 and all(excluded == own for excluded in catch_all), (own, catch_all)


def test_status_values_the_rules_use_are_the_exporters():
    assert set(_prom.STATUS_VALUE) <= set(STATUS)
    for status, value in _prom.STATUS_VALUE.items():
        assert STATUS[status] == value, status


# ------------------------------------------------------------------------- scenarios

def test_the_real_export_alerts_on_what_its_hardware_says(exported, tmp_path):
    """Values as exported: the A100's driver mismatch and worn SSD, and every drive without a recent self-test."""
    assert exported.one("gpufleet_check_status", A100, check="driver_library_mismatch").value == STATUS["crit"]
    assert exported.one("gpufleet_ssd_wear_ratio", A100, device="/dev/nvme0").value == 0.75
    assert exported.one("gpufleet_check_status", A100, check="wear").value == STATUS["warn"]
    self_tests = exported.find("gpufleet_check_status", check="self_test")
    assert sorted(s.host for s in self_tests) == [A100, AMD, H200, H200]
    assert all(s.value == STATUS["warn"] for s in self_tests)
    timeline = Timeline(exported, 30)
    run(tmp_path, timeline.group(expect("10m", _standing_alerts(exported, timeline))))


def test_a_gpu_heating_up_warns_then_goes_critical(exported, tmp_path):
    timeline = Timeline(exported, 60)
    timeline.set(H200, "gpufleet_check_status", values((0, 10), (1, 20), (2, 30)), check="gpu_temperature")
    timeline.set(H200, "gpufleet_gpu_temperature_celsius", values((30, 10), (84, 20), (91, 30)), gpu="0")
    timeline.set(AMD, "gpufleet_check_status", values((2, 60)), check="memory_temperature")
    timeline.set(AMD, "gpufleet_gpu_memory_temperature_celsius", values((104, 60)), gpu="0")
    h200 = _gpu_labels(timeline, H200, "gpufleet_gpu_temperature_celsius", gpu="0")
    amd = _gpu_labels(timeline, AMD, "gpufleet_gpu_memory_temperature_celsius", gpu="0")
    standing = _standing_alerts(exported, timeline)
    junction = [(amd, "critical", "The memory junction of GPU 0 (Radeon Instinct MI50 32GB) on gpu-amd:9100 is at 104 °C")]
    run(tmp_path, timeline.group(
        expect("8m", dict(standing, GpufleetGpuMemoryJunctionTemperature=junction))
        + expect("25m", dict(standing, GpufleetGpuMemoryJunctionTemperature=junction, GpufleetGpuTemperature=[
            (h200, "warning", "GPU 0 (NVIDIA H200) on gpu-h200:9100 runs at 84 °C")]))
        + expect("50m", dict(standing, GpufleetGpuMemoryJunctionTemperature=junction, GpufleetGpuTemperature=[
            (h200, "critical", "GPU 0 (NVIDIA H200) on gpu-h200:9100 runs at 91 °C")]))))


def _standing_alerts(exported, timeline):
    """What the export fires on its own (see the first scenario), for scenarios that add to it."""
    mismatch = timeline.labels(exported.one("gpufleet_check_status", A100, check="driver_library_mismatch"))
    worn = timeline.labels(exported.one("gpufleet_ssd_wear_ratio", A100, device="/dev/nvme0"))
    return {
        "GpufleetDriverLibraryMismatch": [({"check": "driver_library_mismatch", "instance": mismatch["instance"], "job": "node"},
                                           "critical", "NVIDIA kernel module and user-space library differ on gpu-a100:9100")],
        "GpufleetSsdWear": [(worn, "warning", "SSD /dev/nvme0 (INTEL SSDPE2KX020T7) on gpu-a100:9100 has used 75% of its "
                                              "rated endurance")],
        "GpufleetCheckWarning": [(timeline.labels(s), "warning", "gpufleet check self_test (smart, %s) on %s is not ok"
                                  % (s.labels["subject"], timeline.labels(s)["instance"]))
                                 for s in exported.find("gpufleet_check_status", check="self_test")],
    }


def test_memory_errors_storage_ttft_and_other_checks(exported, tmp_path):
    timeline = Timeline(exported, 30)
    ecc = timeline.set(H200, "gpufleet_check_status", values((2, 30)), check="ecc_uncorrectable")
    timeline.set(H200, "gpufleet_check_status", values((1, 30)), check="tbw_projection", subject="device=/dev/nvme1")
    tbw = timeline.set(H200, "gpufleet_ssd_projected_seconds_to_rated_tbw", values((80 * 86400, 30)), serial=QLC_SERIAL)
    timeline.set(AMD, "gpufleet_check_status", values((2, 30)), check="disk_used")
    disk = timeline.set(AMD, "gpufleet_disk_used_ratio", values((0.93, 30)), path="/")
    ttft = timeline.set(H200, "gpufleet_check_status", values((2, 30)), check="llm_ttft")
    hot_drive = timeline.set(AMD, "gpufleet_check_status", values((2, 30)), area="smart", check="temperature")
    scrape = timeline.set(A100, "node_textfile_scrape_error", values((0, 5), (1, 25)))
    standing = _standing_alerts(exported, timeline)
    run(tmp_path, timeline.group(expect("25m", dict(
        standing,
        GpufleetGpuMemoryErrors=[(ecc, "critical", "GPU memory errors (ecc_uncorrectable) on gpu-h200:9100 gpu=0")],
        GpufleetSsdRatedTbwSoon=[(tbw, "warning", "SSD /dev/nvme1 (INTEL SSDPEKNW010T8) on gpu-h200:9100 reaches its rated "
                                                  "TBW in 80d 0h 0m 0s")],
        GpufleetDiskFull=[(disk, "critical", "The filesystem of / on gpu-amd:9100 is 93% full")],
        GpufleetLlmTimeToFirstToken=[(ttft, "critical", "Time to first token of the inference runner on gpu-h200:9100 "
                                                        "(model=replay:1b,prompt=answer) is above its threshold")],
        GpufleetCheckCritical=[(hot_drive, "critical", "gpufleet check temperature (smart, device=/dev/sda) on gpu-amd:9100 "
                                                       "is not ok")],
        GpufleetTextfileUnreadable=[(scrape, "warning", "node_exporter on gpu-a100:9100 cannot read a textfile-collector file")],
    ))))


def test_unknown_checks_and_areas_alert_once_each(exported, tmp_path):
    """3 is "could not look": per check, and per area only where no check of the area says why."""
    timeline = Timeline(exported, 30)
    check = timeline.set(H200, "gpufleet_check_status", values((STATUS["unknown"], 30)), check="smart_health",
                         subject="device=/dev/nvme0")
    timeline.set(H200, "gpufleet_status", values((STATUS["unknown"], 30)), area="smart")
    area = timeline.set(AMD, "gpufleet_status", values((STATUS["unknown"], 30)), area="driver_stack")
    standing = _standing_alerts(exported, timeline)
    run(tmp_path, timeline.group(expect("10m", dict(standing, GpufleetUnknown=[
        (check, "warning", "gpufleet could not look at smart (smart_health) on gpu-h200:9100"),
        (area, "warning", "gpufleet could not look at driver_stack on gpu-amd:9100"),
    ]))))


def test_a_cadence_that_stops_running_and_a_disk_heading_for_full(exported, tmp_path):
    """Five days in 5-minute steps: every host's daily run succeeds each day, except the H200's, which
    stops after the second day; the H200's root filesystem grows by 10 points a day."""
    per_day = 24 * 12
    timeline = Timeline(exported, 5 * per_day, interval="5m")
    for host in (H200, A100, AMD):
        for cadence in ("weekly", "monthly", "quarterly", "annual"):
            timeline.set(host, "gpufleet_last_success_timestamp_seconds", values((0, 5 * per_day)), cadence=cadence)
    stopped = timeline.set(H200, "gpufleet_last_success_timestamp_seconds", values((0, per_day), (86400, 4 * per_day)),
                           cadence="daily")
    for host in (A100, AMD):
        timeline.set(host, "gpufleet_last_success_timestamp_seconds",
                     values(*[(day * 86400, per_day) for day in range(5)]), cadence="daily")
    disk = timeline.set(H200, "gpufleet_disk_used_ratio", values(*[(0.5 + day / 10.0, per_day) for day in range(5)]), path="/")
    standing = _standing_alerts(exported, timeline)
    run(tmp_path, timeline.group(
        # 2 days and 10 minutes after the last daily run, not yet; at 100 h (3 d 4 h after it) it fires.
        expect("71h", dict(standing, GpufleetDiskFillsWithinAWeek=[
            (disk, "warning", "At the rate of the last three days, / on gpu-h200:9100 fills within a week")]))
        + expect("100h", dict(standing, GpufleetCadenceNotRun=[
            (stopped, "warning", "The daily gpufleet run on gpu-h200:9100 last succeeded 3d 4h 0m 0s ago")],
            GpufleetDiskFillsWithinAWeek=[
            (disk, "warning", "At the rate of the last three days, / on gpu-h200:9100 fills within a week")]))),
        evaluation_interval="5m")
