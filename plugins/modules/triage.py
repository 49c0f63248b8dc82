#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: triage
short_description: Rank the likely causes of a broken AI box from the facts a triage run gathered
version_added: 0.1.0
description:
  - Runs the guides' runbook table as rules over the results the triage role registered - the GPU, driver
    stack and maintenance facts of M(gpufleet.maintenance.health_facts), the model checksums of
    M(gpufleet.maintenance.model_manifest), the LLM probe of M(gpufleet.maintenance.llm_probe) and the
    runner's systemd unit - and returns the matched causes, most likely first, each with its evidence,
    the fix and the exact command.
  - "The rules: C(driver_library_mismatch) (NVML says Driver/library version mismatch: reboot),
    C(runner_down) (connection refused, or the unit or container stopped or failed: read its logs, restart it,
    raise its restart limit), C(corrupted_model) (a model file that no longer matches its checksum, or an answer
    that does not match the expected one: re-download, verify the checksum), C(vram_leak) (time to first
    token at or over O(settings.ttft_crit_s): restart the runner), C(context_too_long) (a GPU at or over
    O(settings.gpu_busy_pct) utilisation with decode under O(settings.low_tokens_per_s): lower the maximum
    tokens or summarise), C(oom_near_miss) (VRAM at or over O(settings.vram_high_pct), out-of-memory lines
    in the journal or the runner logs, a runner the OOM killer ended)."
  - Nothing matched is C(ok) only when every area and every rule's input was read; otherwise C(unknown),
    with what could not be looked at. It never says "all fine" about what it did not read.
  - The safe fixes (restarting the runner unit or container, nothing else) are returned as a plan in RV(triage.fixes);
    the triage role applies them only with C(triage_fix=true).
  - Runs on the controller (action plugin); nothing is sent to the host.
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Reads nothing and changes nothing; the same diagnosis in check mode.
  diff_mode:
    support: none
    description: Nothing is changed.
  action:
    support: full
    description: Runs on the controller.
options:
  gpu:
    description: The C(gpufleet_gpu) fact (omitted when the area was not gathered).
    type: dict
  driver_stack:
    description: The C(gpufleet_driver_stack) fact.
    type: dict
  maintenance:
    description: The C(gpufleet_maintenance) fact (the journal and runner logs of the last hour).
    type: dict
  models:
    description: The C(gpufleet_models) fact of M(gpufleet.maintenance.model_manifest) C(mode=verify).
    type: dict
  models_error:
    description: Why M(gpufleet.maintenance.model_manifest) could not verify the model files (its message), when it failed.
    type: str
  probe:
    description: The registered result of M(gpufleet.maintenance.llm_probe) (omitted when no endpoint was probed).
    type: dict
  runner:
    description:
      - The registered result of C(ansible.builtin.systemd_service) for the runner's unit (its C(status)) or of
        C(community.docker.docker_container_info) for its container (C(exists), C(container)), plus C(name) and
        C(kind) (C(systemd) or C(container)). A failed read is kept as it is and reported as not looked at.
    type: dict
  fix:
    description:
      - Whether the play will apply the planned fixes (C(triage_fix)); only changes the words of RV(triage.fixes.lines)
        (C(will restart), C(would restart) in check mode or when off). This plugin itself never restarts anything.
    type: bool
    default: false
  settings:
    description: Thresholds and names the rules use.
    type: dict
    default: {}
    suboptions:
      ttft_crit_s:
        description: Time to first token, in seconds, at or over which the runner counts as leaking VRAM.
        type: float
        default: 10.0
      vram_high_pct:
        description: VRAM use, in percent, at or over which a GPU is near an out-of-memory error.
        type: float
        default: 95.0
      gpu_busy_pct:
        description: GPU utilisation, in percent, that counts as "at 100 %".
        type: float
        default: 95.0
      low_tokens_per_s:
        description: Decode rate, in tokens per second, under which a busy GPU points at a too long context.
        type: float
        default: 10.0
      runner_unit:
        description: The runner's systemd unit, for the commands; V("") for none.
        type: str
        default: ""
      runner_container:
        description: The runner's Docker container, for the commands (it wins over O(settings.runner_unit)); V("") for none.
        type: str
        default: ""
      endpoint:
        description: The endpoint that was probed, for the messages; V("") when none was.
        type: str
        default: ""
      model:
        description: The model that was probed, for the commands.
        type: str
        default: ""
seealso:
  - name: Triage
    description: docs/triage.md in this collection (the runbook table as implemented).
    link: https://example.invalid/gpufleet/maintenance/docs/triage.md
"""

EXAMPLES = r"""
- name: Diagnose from what the play registered
  gpufleet.maintenance.triage:
    gpu: "{{ health.ansible_facts.gpufleet_gpu }}"
    driver_stack: "{{ health.ansible_facts.gpufleet_driver_stack }}"
    maintenance: "{{ health.ansible_facts.gpufleet_maintenance }}"
    probe: "{{ probe }}"
    settings:
      runner_unit: ollama
  register: triage
"""

RETURN = r"""
triage:
  description: The diagnosis.
  returned: always
  type: dict
  contains:
    status:
      description: C(crit) when a cause matched, C(unknown) when none did but something could not be read, else C(ok).
      type: str
      sample: crit
    causes:
      description:
        - The matched causes, most likely first, each with C(rule), C(cause), C(confidence) (0-100), C(evidence)
          (list), C(fix), C(command) and C(remedy) (C(restart) or null).
      type: list
      elements: dict
      sample:
        - rule: vram_leak
          cause: the runner leaks VRAM (time to first token over 10 s)
          matched: true
          confidence: 85
          evidence: ["time to first token 12.3 s (limit 10 s)", "GPU 0 (NVIDIA A100-SXM4-80GB) VRAM 99 % used (at or above 95 %)"]
          fix: restart the runner; if it recurs, turn on gpufleet_restart_on_vram_exhaustion
          command: systemctl restart ollama
          remedy: restart
          unread: []
    unmatched:
      description: The rules that did not match.
      type: list
      elements: str
    not_looked:
      description: The C(unknown) checks of the areas read (C(area), C(check), C(message)).
      type: list
      elements: dict
    unread:
      description: What the rules needed and could not read (no endpoint probed, no manifest, the unit not read).
      type: list
      elements: str
    lines:
      description: The diagnosis as printed.
      type: list
      elements: str
    runner:
      description:
        - The runner as read (C(kind) C(systemd) or C(container), C(name), C(read), C(reason), C(installed), C(down),
          C(text), C(restarts), C(limit_hit), C(oom_killed)).
      type: dict
    fixes:
      description: The safe fixes planned.
      type: dict
      contains:
        actions:
          description: The restarts to do (C(action=restart), C(kind) C(systemd) or C(container), C(name), C(reason)).
          type: list
          elements: dict
        skipped:
          description: Why a restart a cause asked for was not planned.
          type: list
          elements: str
        lines:
          description: What the play will do with the plan, as printed.
          type: list
          elements: str
          sample: ["would restart ollama (systemd) for vram_leak (check mode: nothing is restarted)"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import TRIAGE as ARGUMENT_SPEC


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="gpufleet.maintenance.triage runs on the controller through its action plugin")


if __name__ == "__main__":
    main()
