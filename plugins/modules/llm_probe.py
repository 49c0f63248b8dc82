#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: llm_probe
short_description: Time to first token and tokens/s of an Ollama or OpenAI-compatible LLM endpoint
version_added: 0.1.0
description:
  - Sends each prompt O(repeats) times (after O(warmup) unmeasured requests) to the endpoint as a
    streamed request and measures it the way a client feels it, with a monotonic clock; time to
    first token (first non-empty content or thinking chunk), total time, output tokens
    (server-reported when the server says, else counted chunks), decode tokens/s after the first
    token, and prompt tokens/s.
  - Per prompt it returns the median, p95, min and max over the repeats, whether the answers match
    O(prompts[].expect), and checks (C(llm_request), C(llm_ttft), C(llm_expect), C(llm_endpoint)).
  - Reads the provenance of the figures; runner and version (Ollama C(/api/version), llama.cpp
    C(/props), vLLM C(/version), the C(Server) header), model digest (Ollama C(/api/tags), OpenAI
    C(/v1/models) id plus a hash of its metadata).
  - Faults (connection refused, model not found, 5xx, a stream cut short, malformed chunks, a
    server that accepts and sends nothing, no first token within O(timeout_s)) give a C(crit)
    check with the runner's own error text; no request runs longer than O(timeout_s).
  - Never more than O(concurrency) requests are in flight at once.
author:
  - gpufleet maintainers (@gpufleet)
attributes:
  check_mode:
    support: full
    description: Can run in check mode.
    details: The probe runs in check mode (it changes nothing on the runner); O(log_path) is not written.
  diff_mode:
    support: none
    description: Changes nothing on the host, so there is nothing to diff.
options:
  endpoint:
    description: Base URL of the runner, for example V(http://127.0.0.1:11434) (Ollama) or V(http://127.0.0.1:8080) (llama.cpp, vLLM).
    type: str
    required: true
  api:
    description:
      - V(ollama) uses C(/api/generate) (O(prompts[].prompt)) and C(/api/chat) (O(prompts[].messages)) with NDJSON streaming.
      - V(openai) uses C(/v1/completions) and C(/v1/chat/completions) with SSE streaming and C(stream_options.include_usage).
    type: str
    choices: [ollama, openai]
    default: ollama
  model:
    description: Model name as the runner knows it (C(gemma3:1b), the llama-server alias...).
    type: str
    required: true
  prompts:
    description: The prompts to send; each is measured separately.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the prompt in results, checks and baselines.
        type: str
        required: true
      prompt:
        description: Raw prompt text (completion endpoints). Exactly one of O(prompts[].prompt) and O(prompts[].messages).
        type: str
      messages:
        description: Chat messages (C(role), C(content)) for the chat endpoints.
        type: list
        elements: dict
      max_tokens:
        description: Most tokens to generate for this prompt.
        type: int
        default: 128
      expect:
        description:
          - Substring or regular expression the answer must contain (reasoning in C(<think>) tags is
            ignored). A mismatch is a C(crit) C(llm_expect) check; a corrupted model fails the probe.
        type: str
  repeats:
    description: Measured requests per prompt.
    type: int
    default: 3
  warmup:
    description: Unmeasured requests per prompt sent first (they load the model).
    type: int
    default: 1
  timeout_s:
    description: Hard limit of one request, connection to last chunk, in seconds.
    type: float
    default: 60
  concurrency:
    description: Requests in flight at once; above 1 the result carries a throughput figure.
    type: int
    default: 1
  temperature:
    description: Sampling temperature sent with every request (V(0) for comparable runs); omitted when null.
    type: float
  seed:
    description: Sampling seed sent with every request; omitted when null.
    type: int
  headers:
    description: Extra HTTP headers, for example C(Authorization) with an API key. Never logged.
    type: dict
    default: {}
  validate_certs:
    description: Verify the TLS certificate of an https endpoint.
    type: bool
    default: true
  gpu_busy_pct:
    description: Current GPU utilisation in percent (from the GPU facts), compared with O(skip_if_gpu_busy_pct).
    type: float
  skip_if_gpu_busy_pct:
    description: Skip the measurement (an C(unknown) C(llm_probe) check says why) when O(gpu_busy_pct) is above this.
    type: float
  thresholds:
    description: Time to first token thresholds (median per prompt).
    type: dict
    default: {}
    suboptions:
      ttft_warn_s:
        description: Median time to first token that gives a warning.
        type: float
        default: 5
      ttft_crit_s:
        description: Median time to first token that is critical.
        type: float
        default: 10
  context:
    description:
      - Provenance added to the result, for example the key C(host) (the inventory name; default
        the host name), C(gpu) and C(driver) from the GPU facts.
    type: dict
    default: {}
  log_path:
    description: File on the host to which one JSON line per request is appended (host, model, runner version, duration, failure).
    type: path
seealso:
  - name: The benchmark role and baselines
    description: docs/benchmark.md in this collection.
    link: https://example.invalid/gpufleet/maintenance/docs/benchmark.md
"""

EXAMPLES = r"""
- name: Health probe of the local Ollama
  gpufleet.maintenance.llm_probe:
    endpoint: http://127.0.0.1:11434
    model: gemma3:1b
    prompts:
      - name: hello
        prompt: Say hello.
        max_tokens: 16
    repeats: 1
  register: probe

- name: llama.cpp server with an API key, three repeats, two streams at once
  gpufleet.maintenance.llm_probe:
    endpoint: https://llm.example.internal:8443
    api: openai
    model: qwen2.5-7b-instruct
    headers:
      Authorization: "Bearer {{ vault_llm_key }}"
    temperature: 0
    seed: 42
    concurrency: 2
    prompts:
      - name: classify
        messages:
          - role: user
            content: "Classify this ticket as billing, bug or question: 'I was charged twice.'"
        expect: "(?i)billing"
    log_path: /var/log/gpufleet/llm_probe.jsonl
"""

RETURN = r"""
schema_version:
  description: Version of this result's layout.
  returned: always
  type: int
  sample: 1
host:
  description: The host the figures belong to (key C(host) of O(context), or the host name).
  returned: always
  type: str
  sample: gpu-ws-01
endpoint:
  description: The endpoint probed.
  returned: always
  type: str
  sample: http://127.0.0.1:11434
model:
  description: The model probed.
  returned: always
  type: str
  sample: gemma3:1b
runner:
  description: Runner name (C(ollama), C(llama.cpp), C(vllm), or the C(Server) header's product); null when unknown.
  returned: always
  type: str
  sample: ollama
runner_version:
  description: Runner version or build; null when the runner does not say.
  returned: always
  type: str
  sample: 0.12.6
model_digest:
  description: Model digest (Ollama) or model id plus a hash of its metadata (OpenAI-compatible); null when unknown.
  returned: always
  type: str
  sample: sha256:8648f39daa8fbf5b18c7b4e6a8fb4990c692751d49917417b8842ca5758e7ffc
results:
  description: One entry per prompt; C(ttft_s), C(total_s), C(decode_tokens_per_s), C(prompt_tokens_per_s) are C({median, p95, min, max}).
  returned: always
  type: list
  elements: dict
  sample:
    - prompt: hello
      model: gemma3:1b
      ok: true
      error: null
      requests: 3
      failed: 0
      ttft_s: {median: 0.052, p95: 0.061, min: 0.049, max: 0.062}
      total_s: {median: 0.31, p95: 0.33, min: 0.30, max: 0.33}
      decode_tokens_per_s: {median: 70.2, p95: 71.0, min: 69.1, max: 71.1}
      prompt_tokens_per_s: {median: 480.0, p95: 500.0, min: 470.0, max: 502.0}
      output_tokens: 16
      tokens_server_reported: true
      expect_passed: null
throughput_tokens_per_s:
  description: Output tokens of all measured requests over the wall time they took (with O(concurrency) streams).
  returned: always
  type: float
  sample: 131.5
max_in_flight:
  description: Most requests that were in flight at once (never above O(concurrency)).
  returned: always
  type: int
  sample: 2
vram_bytes:
  description: VRAM the loaded model holds (Ollama C(/api/ps)); null when not reported.
  returned: always
  type: int
  sample: 1800000000
measured:
  description: False when the probe did not measure because the GPU was busy (see C(skipped_reason)).
  returned: always
  type: bool
  sample: true
skipped_reason:
  description: Why the probe did not measure; null when it did.
  returned: always
  type: str
  sample: null
checks:
  description:
    - Health checks (C(llm_endpoint), C(llm_request), C(llm_ttft), C(llm_expect), C(llm_probe)); a prompt's
      checks have the subject C({model, prompt}). C(llm_probe) is C(unknown) when the probe skipped (GPU busy).
    - In the C(gpufleet_benchmark) fact the benchmark role adds the C(benchmark_regression) and
      C(benchmark_baseline) checks of M(gpufleet.maintenance.benchmark_baseline).
  returned: always
  type: list
  elements: dict
  sample:
    - check: llm_ttft
      prompt: hello
      model: gemma3:1b
      subject: {model: gemma3:1b, prompt: hello}
      status: ok
      value: 0.052
      threshold: 5
      message: time to first token of prompt hello (median) is 0.1 s
status:
  description: The worst status of the checks.
  returned: always
  type: str
  sample: ok
log_lines:
  description: Request records produced (written to O(log_path) unless in check mode).
  returned: always
  type: int
  sample: 4
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark.collect import run
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


def main():
    module = AnsibleModule(argument_spec=AREA.argument_spec(), supports_check_mode=True)
    try:
        params = AREA.checked(module.params)
    except AreaError as exc:
        module.fail_json(msg=str(exc))
    if params["timeout_s"] <= 0:
        module.fail_json(msg="timeout_s must be above 0 (got %s)" % params["timeout_s"])
    if not params["prompts"]:
        module.fail_json(msg="prompts must name at least one prompt")
    try:
        result, warnings = run(params, check_mode=module.check_mode)
    except ValueError as exc:
        module.fail_json(msg="llm_probe: %s" % exc)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
