#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: benchmark_baseline
short_description: Compare an llm_probe result with its stored baseline and keep the baseline
version_added: 0.1.0
description:
  - Looks up the baseline row of a M(gpufleet.maintenance.llm_probe) result, keyed by host,
    endpoint, model, model digest, runner and runner version, and returns C(benchmark_regression)
    checks; C(warn)/C(crit) when the median time to first token rose, or the median decode
    tokens/s fell, by more than O(warn_pct)/O(crit_pct).
  - No row for the key (a new host, model digest or runner version) starts a new row from this
    result; the newest row of the same host, endpoint and model with other versions is compared
    side by side, so a slower release shows as a regression.
  - An existing row is replaced only with O(update=true).
  - The rows live in a JSON file (O(path), normally under the inventory directory), changed under
    a lock and replaced atomically; a file that is not valid JSON is reported, never overwritten.
    Run it on the controller (C(delegate_to=localhost)).
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Can run in check mode.
    details: Compares and returns the plan; the file is not written.
  diff_mode:
    support: full
    description: Returns a diff.
    details: The stored row before and after.
options:
  path:
    description: The baseline JSON file.
    type: path
    required: true
  result:
    description: The registered result of M(gpufleet.maintenance.llm_probe).
    type: dict
    required: true
  update:
    description: Replace the existing row of this key with this result.
    type: bool
    default: false
  warn_pct:
    description: Regression, in percent of the baseline, that gives a warning.
    type: float
    default: 15
  crit_pct:
    description: Regression, in percent of the baseline, that is critical.
    type: float
    default: 30
  ttft_floor_s:
    description: A time to first token rise counts only when it is also above this many seconds.
    type: float
    default: 0.05
  key_fields:
    description:
      - Result fields that key a row. The default keys by deployment; the benchmark role's gate
        mode uses V([host, endpoint]) so a model switch is compared with what ran before.
    type: list
    elements: str
    default: [host, endpoint, model, model_digest, runner, runner_version]
seealso:
  - module: gpufleet.maintenance.llm_probe
  - name: The benchmark role and baselines
    description: docs/benchmark.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/benchmark.md
"""

EXAMPLES = r"""
- name: Compare the suite with the baseline of this host
  gpufleet.maintenance.benchmark_baseline:
    path: "{{ inventory_dir }}/benchmark_baselines.json"
    result: "{{ probe }}"
    warn_pct: 15
    crit_pct: 30
  delegate_to: localhost
  register: baseline
"""

RETURN = r"""
action:
  description: C(created) (new row), C(updated), C(kept), or C(none) (no successful prompt to store).
  returned: always
  type: str
  sample: kept
comparison:
  description: One row per prompt and metric; baseline, current, how much worse in percent, status.
  returned: always
  type: list
  elements: dict
  sample:
    - {prompt: classify_ticket, metric: decode_tokens_per_s, baseline: 70.1, current: 41.0, worse_pct: 41.5, status: crit}
lines:
  description: The comparison as text lines (prompt, metric, baseline, current, change, status).
  returned: always
  type: list
  elements: str
baseline:
  description: The stored row this result was compared with when its key had one, else null.
  returned: always
  type: dict
previous:
  description: For a new key, the newest row of the same host, endpoint and model with other versions (old versus new), else null.
  returned: always
  type: dict
current:
  description: The row made from this result.
  returned: always
  type: dict
checks:
  description: C(benchmark_regression) per prompt compared, C(benchmark_baseline) when a row starts.
  returned: always
  type: list
  elements: dict
status:
  description: The worst status of the checks.
  returned: always
  type: str
  sample: ok
"""

import datetime
import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark.baseline import (
    KEY_FIELDS, BaselineStoreError, JsonFileStore, compare, side_by_side)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            result=dict(type="dict", required=True),
            update=dict(type="bool", default=False),
            warn_pct=dict(type="float", default=15),
            crit_pct=dict(type="float", default=30),
            ttft_floor_s=dict(type="float", default=0.05),
            key_fields=dict(type="list", elements="str", default=list(KEY_FIELDS), no_log=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["crit_pct"] < p["warn_pct"]:
        module.fail_json(msg="crit_pct (%s) must not be below warn_pct (%s)" % (p["crit_pct"], p["warn_pct"]))
    store = JsonFileStore(p["path"])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    outcome = {}

    def mutate(rows):
        outcome.update(compare(rows, p["result"], p["warn_pct"], p["crit_pct"], p["update"],
                               tuple(p["key_fields"]), now, p["ttft_floor_s"]))
        return rows if module.check_mode else outcome["rows"]

    try:
        if module.check_mode:
            mutate(store.read())
        else:
            store.update(mutate)
    except BaselineStoreError as exc:
        module.fail_json(msg="benchmark baseline: %s" % exc)
    changed = outcome["action"] in ("created", "updated")
    before = outcome["baseline"]
    result = dict(
        changed=changed, path=p["path"], action=outcome["action"], comparison=outcome["comparison"],
        lines=side_by_side(outcome["comparison"]), baseline=before, previous=outcome["previous"],
        current=outcome["current"], checks=outcome["checks"], status=outcome["status"],
    )
    if module._diff:
        result["diff"] = dict(before=json.dumps(before, indent=2, sort_keys=True) + "\n" if before else "",
                              after=json.dumps(outcome["current"] if changed else before, indent=2, sort_keys=True) + "\n",
                              before_header="%s (stored row)" % p["path"], after_header="%s (row after this run)" % p["path"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
