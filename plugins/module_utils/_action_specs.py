# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the controller-side action plugins, as argument specs (data only).

An action plugin validates its task's arguments with one of these, and its documentation stub in
``plugins/modules/`` declares the same one, so ``ansible-doc`` and ``ansible-test`` see exactly the
options the plugin takes (one copy, no drift). The plugins' code is in ``plugins/plugin_utils/``;
only these specs live here, because a module file can import nothing else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

CADENCES = ("daily", "weekly", "monthly", "quarterly", "annual", "adhoc")
REPORT_FORMATS = ("html", "json", "md")

# gpufleet.maintenance.history
HISTORY = dict(
    path=dict(type="path"),
    cadence=dict(type="str", required=True, choices=list(CADENCES)),
    hosts=dict(type="dict", default={}),
    failed_hosts=dict(type="dict", default={}),
    record=dict(type="bool", default=True),
    trend_metrics=dict(type="list", elements="str", default=[]),
    trend_days=dict(type="int", default=90),
    maxima_metric_like=dict(type="str", default="%temperature\\_c"),
    maxima_days=dict(type="int", default=0),
    incidents_days=dict(type="int", default=0),
    energy_metric_like=dict(type="str", default="%power\\_draw\\_w"),
    energy_days=dict(type="int", default=0),
    energy_price_per_kwh=dict(type="float", default=0.0),
    last_metric_like=dict(type="list", elements="str", default=[]),
    timeout_s=dict(type="float", default=5.0),
    now=dict(type="float"),
)


# gpufleet.maintenance.fleet_report
FLEET_REPORT = dict(
    cadence=dict(type="str", required=True),
    hosts=dict(type="dict", default={}),
    failed_hosts=dict(type="dict", default={}),
    history=dict(type="dict", default={}),
    charts=dict(type="list", elements="dict", default=[]),
    sections=dict(type="list", elements="dict", default=[]),
    dest=dict(type="path", default="reports"),
    formats=dict(type="list", elements="str", default=list(REPORT_FORMATS), choices=list(REPORT_FORMATS)),
    now=dict(type="float"),
)


# gpufleet.maintenance.alerts
ALERTS = dict(
    targets=dict(type="list", elements="dict", default=[], no_log=True),
    cadence=dict(type="str", required=True),
    hosts=dict(type="dict", default={}),
    failed_hosts=dict(type="dict", default={}),
    history_path=dict(type="path"),
    repeat_hours=dict(type="float", default=24),
    report=dict(type="str"),
    timeout_s=dict(type="float", default=10),
    now=dict(type="float"),
)


# gpufleet.maintenance.cadence_report: the end of every cadence in one pass (history, report, alerts)
CADENCE_REPORT = dict(
    cadence=dict(type="str", required=True, choices=list(CADENCES)),
    hosts=dict(type="dict", default={}),
    failed_hosts=dict(type="dict", default={}),
    step_failures=dict(type="dict", default={}),
    history_path=dict(type="path"),
    record=dict(type="bool", default=True),
    trend_metrics=dict(type="list", elements="str", default=[]),
    trend_days=dict(type="int", default=90),
    maxima_days=dict(type="int", default=0),
    incidents_days=dict(type="int", default=0),
    energy_days=dict(type="int", default=0),
    trend_checks=dict(type="list", elements="str", default=[]),
    trend_check_days=dict(type="int", default=90),
    trend_thresholds=dict(type="dict", default={}),
    charts=dict(type="list", elements="dict", default=[]),
    section_options=dict(type="dict", default={}),
    dest=dict(type="path", default="reports"),
    formats=dict(type="list", elements="str", default=list(REPORT_FORMATS), choices=list(REPORT_FORMATS)),
    alert_targets=dict(type="list", elements="dict", default=[], no_log=True),
    alert_repeat_hours=dict(type="float", default=24),
    timeout_s=dict(type="float", default=10),
    now=dict(type="float"),
    check_role_arguments=dict(type="path"),
)


# gpufleet.maintenance.benchmark_report: the gpufleet_benchmark fact, shaped on the controller
BENCHMARK_REPORT = dict(
    mode=dict(type="str", choices=["health", "suite", "compare", "gate"], required=True),
    probe=dict(type="dict"),
    baseline=dict(type="dict"),
    candidates=dict(type="list", elements="dict"),
)

# gpufleet.maintenance.triage
TRIAGE = dict(
    gpu=dict(type="dict"),
    driver_stack=dict(type="dict"),
    maintenance=dict(type="dict"),
    models=dict(type="dict"),
    models_error=dict(type="str"),
    probe=dict(type="dict"),
    runner=dict(type="dict"),
    fix=dict(type="bool", default=False),
    settings=dict(type="dict", default={}, options=dict(
        ttft_crit_s=dict(type="float", default=10.0),
        vram_high_pct=dict(type="float", default=95.0),
        gpu_busy_pct=dict(type="float", default=95.0),
        low_tokens_per_s=dict(type="float", default=10.0, no_log=False),  # a decode rate, not a secret
        runner_unit=dict(type="str", default=""),
        runner_container=dict(type="str", default=""),
        endpoint=dict(type="str", default=""),
        model=dict(type="str", default=""),
    )),
)
