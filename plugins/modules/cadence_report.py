#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cadence_report
short_description: The end of a cadence run in one pass - history, report and alerts
version_added: 0.2.0
description:
  - Runs on the controller (action plugin), once per play. In one pass over one history database
    connection it records the run in the controller-side SQLite history (as M(gpufleet.maintenance.history)
    does), reads the trends, maxima, incidents and energy the cadence asks for, builds the cadence's report
    sections, writes the fleet report (as M(gpufleet.maintenance.fleet_report) does) and decides and posts the
    alerts (as M(gpufleet.maintenance.alerts) does) from the report's own list of problems.
  - The role P(gpufleet.maintenance.fleet_report#role) calls it at the end of every cadence playbook.
  - Nothing stops the rest. A damaged history database is moved aside to C(<path>.damaged-<time>), a new one
    is started and a C(crit) controller problem says so; a locked one gives a C(warn) problem and the report
    is still written. A report that cannot be written fails the task, but only after the alerts went out.
    One alert target that fails (a refused connection, an HTTP error, a URL that cannot be parsed) does not stop
    the others, and its error is shown without the URL or any secret.
  - Two runs that start in the same second write distinct report files (C(daily-<time>.html),
    C(daily-<time>-2.html)), never one over the other.
  - In check mode nothing is recorded or sent; the report is written with C(check_mode=true) in it.
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Records nothing and sends nothing in check mode; the report says it was a check run.
  diff_mode:
    support: none
    description: Writes new report files only; there is nothing to diff.
  action:
    support: full
    description: Runs on the controller through its action plugin.
  delegation:
    support: none
    description: Always runs on the controller.
    details: Always runs on the controller.
options:
  cadence:
    description: The cadence of the run.
    type: str
    required: true
    choices: [daily, weekly, monthly, quarterly, annual, adhoc]
  hosts:
    description: Host name to its C(gpufleet_*) facts of this run (the filter P(gpufleet.maintenance.fleet_facts#filter)).
    type: dict
    default: {}
  failed_hosts:
    description: Host name to the reason it did not finish the run (unreachable); it has no facts in the report.
    type: dict
    default: {}
  step_failures:
    description:
      - Host name to C(<task> - <message>) of the step that failed on it (the cadence playbooks rescue their steps
        and keep this). The host keeps the facts gathered before the failure and gets a C(crit) problem
        C(run/step_failed) with the task and its message, distinct from C(run/reachable).
    type: dict
    default: {}
  history_path:
    description: The history database. Default C(.cache/gpufleet/history.db) beside the inventory.
    type: path
  record:
    description: Record this run; C(false) only reads.
    type: bool
    default: true
  trend_metrics:
    description: SQL LIKE patterns of the metrics whose trends the report shows (charts and sections).
    type: list
    elements: str
    default: []
  trend_days:
    description: Days of history the trends cover.
    type: int
    default: 90
  trend_checks:
    description:
      - Trend checks judged from the history after this run is recorded, as checks of the area C(trends)
        (fact C(gpufleet_trends)) in the report, the alerts and the history's checks.
      - C(memory_junction) (level and sustained rise), C(tbw) (days to rated TBW at the write rate of the
        window), C(disk_fill) (days until a filesystem is full), C(ttft) and C(tokens_per_s) (drift against
        the oldest third of the window), C(request_volume) (the front door's requests per hour of this run against
        the median of the earlier runs). C(unknown) while the window holds fewer runs than C(min_points).
    type: list
    elements: str
    default: []
  trend_check_days:
    description: Days of history the trend checks look at.
    type: int
    default: 90
  trend_thresholds:
    description:
      - Thresholds over the defaults (C(min_points) 3, C(junction_warn_c) 92, C(junction_crit_c) none,
        C(junction_rise_warn_per_30d) 3, C(tbw_warn_days) 180, C(tbw_crit_days) 30, C(disk_fill_warn_days) 30,
        C(disk_fill_crit_days) 7, C(ttft_warn_ratio) 2, C(ttft_crit_ratio) 5, C(tokens_warn_ratio) 0.7,
        C(tokens_crit_ratio) 0.5, C(volume_warn_ratio) 3, C(volume_crit_ratio) 10, C(volume_drop_warn_ratio) 0.25).
        An unknown key fails the task.
    type: dict
    default: {}
  maxima_days:
    description: Days of the temperature maxima section (weekly); C(0) leaves it out.
    type: int
    default: 0
  incidents_days:
    description: Days of the incidents section (annual); C(0) leaves it out.
    type: int
    default: 0
  energy_days:
    description: Days of the energy section (monthly); C(0) leaves it out.
    type: int
    default: 0
  charts:
    description: Charts of the report, C({title, metric_like, unit, limit}).
    type: list
    elements: dict
    default: []
  section_options:
    description:
      - Options of the cadence's sections (C(energy_price_per_kwh), C(currency), C(trend_rising_warn_per_30d),
        C(physical_checklist), C(past_it_crit_runs), C(newest_versions)).
    type: dict
    default: {}
  dest:
    description: Directory of the report files, relative to the working directory unless absolute.
    type: path
    default: reports
  formats:
    description: Report formats to write.
    type: list
    elements: str
    choices: [html, json, md]
    default: [html, json, md]
  alert_targets:
    description:
      - Alert targets, C({name, type, url, headers}) for C(webhook)/C(slack) and C({name, type=email, to, host, port,
        username, password, secure, sender}) for C(email). Never logged.
    type: list
    elements: dict
    default: []
  alert_repeat_hours:
    description: A check that stays C(crit) is alerted again after this many hours.
    type: float
    default: 24
  timeout_s:
    description: Seconds to wait for the history lock and for each webhook.
    type: float
    default: 10
  now:
    description:
      - The time of the run (Unix seconds). Unset, the variable C(gpufleet_now), else the environment variable
        C(GPUFLEET_NOW), else the controller's clock (one clock for history, report, trends and alerts).
    type: float
  check_role_arguments:
    description:
      - A role's C(meta/argument_specs.yml). Before anything else (before the history, the report and the alerts,
        and before this task's own options), the options of its C(main) entry point are checked against the task's
        variables as M(ansible.builtin.validate_argument_spec) checks them without
        O(ansible.builtin.validate_argument_spec#module:provided_arguments) - each option that is a variable is
        templated and validated by Ansible's argument spec validator.
      - An error fails the task with C(Validation of arguments failed:) and the errors, each naming its variable,
        and nothing is recorded, written or sent. The check runs in check mode too. Where the task is C(no_log) the
        message is also shown as a warning (a C(no_log) result hides it).
      - A role imported with C(rolespec_validate=false) has its arguments checked this way once per play without a
        task of its own; P(gpufleet.maintenance.fleet_report#role) passes its own
        C({{ role_path }}/meta/argument_specs.yml).
      - A spec file that cannot be read, or that has no C(argument_specs.main), fails the task and says so.
      - Unset, nothing is checked.
    type: path
seealso:
  - module: gpufleet.maintenance.history
  - module: gpufleet.maintenance.fleet_report
  - module: gpufleet.maintenance.alerts
"""

EXAMPLES = r"""
- name: End the daily run - history, report, alerts
  gpufleet.maintenance.cadence_report:
    cadence: daily
    hosts: "{{ ansible_play_hosts | gpufleet.maintenance.fleet_facts(hostvars, ['gpufleet_host', 'gpufleet_gpu']) }}"
    charts:
      - {title: Disk use, metric_like: 'host.disks.used\_pct', unit: '%', limit: 100}
    trend_metrics: ['host.disks.used\_pct']
    alert_targets: "{{ gpufleet_alert_webhooks }}"
  run_once: true

# In a role imported with rolespec_validate: false: its arguments checked once per play, first
- name: Check the role's arguments, then record the run, write the report and decide the alerts
  gpufleet.maintenance.cadence_report:
    check_role_arguments: "{{ role_path }}/meta/argument_specs.yml"
    cadence: "{{ fleet_report_cadence }}"
    hosts: "{{ ansible_play_hosts | gpufleet.maintenance.fleet_facts(hostvars, ['gpufleet_host']) }}"
  run_once: true
"""

RETURN = r"""
history:
  description: The history's answer (C(path), C(run_id), C(recorded), C(error), C(moved_aside), C(trends), C(maxima)...).
  returned: always
  type: dict
trends:
  description: The C(gpufleet_trends) fact of each host that has trend checks, by host name (each with C(status) and C(checks)).
  returned: always
  type: dict
summaries:
  description:
    - Each host's health summary, by host name, as the P(gpufleet.maintenance.summary#role) role prints it (a status
      headline, each area's lines, then the checks that are not C(ok), worst first), trend checks included.
    - The role P(gpufleet.maintenance.fleet_report#role) prints them in one task (one pass on the controller, not a
      task per host).
  returned: always
  type: dict
  sample:
    gpu1:
      - "status: WARN"
      - "host gpu1: kernel 6.8.0-45-generic, up 12d 3h 4m, load 0.42"
      - "disk /: 82.0% used (167.7 GiB free of 931.5 GiB) on /"
      - "WARN disk_used: disk use of / (/) is 82 % (warning at 80 %): free space (docker_hygiene, old models, logs) or
        grow the filesystem"
statuses:
  description:
    - Each reached host's worst status (C(ok), C(unknown), C(warn) or C(crit)), by host name, over the same facts as
      its summary (trend checks included, a failed step not; the role fails such a host for its step).
    - The role P(gpufleet.maintenance.fleet_report#role) fails the hosts whose status reaches its C(fleet_report_fail_on)
      from it, without summarising each host again.
  returned: always
  type: dict
  sample: {gpu1: warn, gpu2: ok}
files:
  description: Format to the path of the report file written.
  returned: always
  type: dict
  sample: {html: /srv/gpufleet/reports/daily-20261203T030000Z.html}
report_error:
  description: Why the report could not be written, or null.
  returned: always
  type: str
status:
  description: The worst status of the run (C(ok), C(unknown), C(warn) or C(crit)).
  returned: always
  type: str
counts:
  description: Hosts per status.
  returned: always
  type: dict
problems:
  description: Every check that is not C(ok), worst first, as in the report.
  returned: always
  type: list
  elements: dict
charts:
  description: Number of charts drawn.
  returned: always
  type: int
alerts:
  description: The alerts decided (new, changed, still crit, resolved).
  returned: always
  type: list
  elements: dict
sent:
  description: The outcome of each webhook/Slack post (C(name), C(ok), C(status), C(error)), secrets removed.
  returned: always
  type: list
  elements: dict
emails:
  description: Mail subjects and bodies for the email targets (the role sends them with community.general.mail).
  returned: always
  type: list
  elements: dict
alert_error:
  description: A problem with the alert state or the targets, or null.
  returned: always
  type: str
argument_errors:
  description: The errors of the check of O(check_role_arguments), as M(ansible.builtin.validate_argument_spec) returns them.
  returned: when O(check_role_arguments) finds an error
  type: list
  elements: str
  sample:
    - "value of fleet_report_fail_on must be one of: none, unknown, warn, crit, got: sometimes"
argument_spec_data:
  description: The options of the C(main) entry point that were checked (O(check_role_arguments)).
  returned: when O(check_role_arguments) finds an error
  type: dict
validate_args_context:
  description: What was checked, C(type=role), C(name) (the role's directory name), C(argument_spec_name=main), C(path).
  returned: when O(check_role_arguments) fails
  type: dict
  sample: {type: role, name: fleet_report, argument_spec_name: main, path: /srv/collections/gpufleet/maintenance/roles/fleet_report}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import CADENCE_REPORT as ARGUMENT_SPEC


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="gpufleet.maintenance.cadence_report runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
