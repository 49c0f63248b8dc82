# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark area's I/O: the LLM probe, streamed requests to an Ollama or OpenAI-compatible endpoint.

``probe(options)`` runs the warm-up and measured requests (at most ``concurrency`` at once),
reads the runner's provenance (version, model digest) and returns the result dict of
``gpufleet.maintenance.llm_probe``, judged by ``checks.py``. HTTP goes through ``_tools/llm_http.py``
(hard deadlines on every request). No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import checks, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.llm_http import Endpoint, ProbeError, get_json

SCHEMA_VERSION = 1


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def provenance(endpoint, api, model, timeout):
    """Runner name and version, model digest and details; ``None`` for what the server hides.

    Raises ``ProbeError`` kind ``refused`` when nothing listens (the runner is down).
    """
    info = dict(runner=None, runner_version=None, model_digest=None, model_details=None)
    meta_timeout = min(timeout, 5.0)
    # Fail fast on a runner that is down (one GET, whose error propagates).
    try:
        endpoint.request("GET", "/api/version" if api == "ollama" else "/v1/models", timeout=meta_timeout)
    except ProbeError as exc:
        if exc.kind in ("refused", "connect"):
            raise
    if api == "ollama":
        data, _headers = get_json(endpoint, "/api/version", meta_timeout)
        if isinstance(data, dict) and data.get("version"):
            info.update(runner="ollama", runner_version=str(data["version"]))
        data, _headers = get_json(endpoint, "/api/tags", meta_timeout)
        for entry in (data or {}).get("models") or [] if isinstance(data, dict) else []:
            names = (entry.get("name"), entry.get("model"))
            if model in names or (":" not in model and model + ":latest" in names):
                info["model_digest"] = entry.get("digest")
                info["model_details"] = entry.get("details")
        return info
    data, headers = get_json(endpoint, "/v1/models", meta_timeout)
    for entry in (data or {}).get("data") or [] if isinstance(data, dict) else []:
        if isinstance(entry, dict) and entry.get("id") == model:
            meta = entry.get("meta")
            info["model_digest"] = model
            if isinstance(meta, dict) and meta:
                info["model_digest"] = "%s@%s" % (model, _short_hash(meta))
                info["model_details"] = meta
    props, _headers = get_json(endpoint, "/props", meta_timeout)
    if isinstance(props, dict) and ("build_info" in props or "default_generation_settings" in props):
        info.update(runner="llama.cpp", runner_version=props.get("build_info"))
        return info
    version, _headers = get_json(endpoint, "/version", meta_timeout)
    if isinstance(version, dict) and version.get("version"):
        info.update(runner="vllm", runner_version=str(version["version"]))
        return info
    server = (headers or {}).get("server")
    if server:
        match = re.match(r"^([^/\s]+)(?:/(\S+))?", server)
        info.update(runner=match.group(1), runner_version=match.group(2))
    return info


def _short_hash(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()[:12]


def ollama_vram_bytes(endpoint, model, timeout):
    """VRAM the loaded model holds (Ollama ``/api/ps`` ``size_vram``), ``None`` when not reported."""
    data, _headers = get_json(endpoint, "/api/ps", min(timeout, 5.0))
    for entry in (data or {}).get("models") or [] if isinstance(data, dict) else []:
        names = (entry.get("name"), entry.get("model"))
        if model in names or (":" not in model and model + ":latest" in names):
            return entry.get("size_vram")
    return None


def build_request(api, model, prompt, options):
    """(path, body, line parser) of one streamed request for a prompt entry."""
    max_tokens = prompt.get("max_tokens") or options.get("max_tokens") or 128
    temperature = options.get("temperature")
    seed = options.get("seed")
    if api == "ollama":
        opts = dict(num_predict=max_tokens)
        if temperature is not None:
            opts["temperature"] = temperature
        if seed is not None:
            opts["seed"] = seed
        if prompt.get("messages"):
            return "/api/chat", dict(model=model, messages=prompt["messages"], stream=True, options=opts), parse.parse_ndjson_line
        return "/api/generate", dict(model=model, prompt=prompt["prompt"], stream=True, options=opts), parse.parse_ndjson_line
    body = dict(model=model, stream=True, max_tokens=max_tokens, stream_options=dict(include_usage=True))
    if temperature is not None:
        body["temperature"] = temperature
    if seed is not None:
        body["seed"] = seed
    if prompt.get("messages"):
        body["messages"] = prompt["messages"]
        return "/v1/chat/completions", body, parse.parse_sse_line
    body["prompt"] = prompt["prompt"]
    return "/v1/completions", body, parse.parse_sse_line


def one_request(endpoint, api, model, prompt, options):
    """Stream one request; return its figures plus ``ok``, ``error``, ``error_kind``."""
    path, body, parser = build_request(api, model, prompt, options)
    started = time.monotonic()
    account = parse.StreamAccount(started)

    def on_line(line, now):
        account.feed(parser(line), now)

    def on_start(now):
        account.started = now

    error = None
    kind = None
    status = None
    try:
        endpoint.request("POST", path, body=body, timeout=options["timeout_s"], on_line=on_line, on_start=on_start)
        if account.error:
            kind, error = "server", "the runner reported an error in the stream: %s" % account.error
        elif not account.done:
            kind, error = "cut", "the stream ended without its final chunk after %d token(s)" % account.chunks
        elif account.first_token_at is None:
            kind, error = "empty", "the runner answered with no tokens"
    except ProbeError as exc:
        kind, error, status = exc.kind, str(exc), exc.status
        if kind == "timeout" and account.first_token_at is None:
            error = "no first token within timeout_s=%s s (slow or hung runner): %s" % (options["timeout_s"], exc)
        elif kind in ("cut", "timeout"):
            error = "%s, after %d token(s)" % (exc, account.chunks)
    figures = account.finish(time.monotonic())
    figures.update(ok=error is None, error=error, error_kind=kind, http_status=status)
    return figures


class _Gate:
    """Counts requests in flight; records the most seen at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def __enter__(self):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc):
        with self.lock:
            self.now -= 1


def probe(options, log=None, host=None):
    """Run the probe; ``options`` are the module options (see llm_probe's DOCUMENTATION).

    ``log(record)`` receives one dict per request (the JSON lines of ``log_path``).
    """
    api = options["api"]
    model = options["model"]
    thresholds = checks.thresholds_of(options.get("thresholds"))
    endpoint = Endpoint(options["endpoint"], options.get("headers"), options.get("validate_certs", True))
    context = dict(options.get("context") or {})
    result = dict(schema_version=SCHEMA_VERSION, host=context.pop("host", None) or host or socket.gethostname(),
                  endpoint=endpoint.url, api=api, model=model, runner=None, runner_version=None,
                  model_digest=None, model_details=None, context=context, results=[], checks=[],
                  concurrency=options["concurrency"], max_in_flight=0, throughput_tokens_per_s=None,
                  vram_bytes=None, measured=True, skipped_reason=None, thresholds=thresholds)
    busy = options.get("gpu_busy_pct")
    limit = options.get("skip_if_gpu_busy_pct")
    if busy is not None and limit is not None and busy > limit:
        result.update(measured=False, skipped_reason="GPU busy %.0f %% (over skip_if_gpu_busy_pct %.0f %%)" % (busy, limit))
        result["checks"].append(checks.skipped(busy, limit))
        result["status"] = worst_status(result["checks"])
        return result
    try:
        result.update(provenance(endpoint, api, model, options["timeout_s"]))
    except ProbeError as exc:
        result["checks"].append(checks.endpoint_down(exc.kind, str(exc), endpoint.url, model, api))
        for prompt in options["prompts"]:
            result["results"].append(parse.empty_entry(prompt["name"], model, str(exc), exc.kind))
        result["status"] = worst_status(result["checks"])
        _log_all(log, result, [dict(prompt=p["name"], repeat=0, warmup=False, ok=False, error=str(exc),
                                    total_s=0.0, ttft_s=None, output_tokens=0) for p in options["prompts"]])
        return result

    records = []
    prompts = options["prompts"]
    for prompt in prompts:  # warm-up: loads the model, fills caches; not measured
        for index in range(options.get("warmup") or 0):
            figures = one_request(endpoint, api, model, prompt, options)
            records.append(dict(figures, prompt=prompt["name"], repeat=index, warmup=True))
    gate = _Gate()

    def measured(job):
        prompt, index = job
        with gate:
            figures = one_request(endpoint, api, model, prompt, options)
        return dict(figures, prompt=prompt["name"], repeat=index, warmup=False)

    jobs = [(prompt, index) for prompt in prompts for index in range(options["repeats"])]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=options["concurrency"]) as pool:
        done = list(pool.map(measured, jobs))
    wall = time.monotonic() - started
    records.extend(done)
    result["max_in_flight"] = gate.most
    tokens = sum(r["output_tokens"] or 0 for r in done if r["ok"])
    result["throughput_tokens_per_s"] = round(tokens / wall, 2) if wall > 0 and tokens else None
    if api == "ollama":
        result["vram_bytes"] = ollama_vram_bytes(endpoint, model, options["timeout_s"])

    for prompt in prompts:
        mine = [r for r in done if r["prompt"] == prompt["name"]]
        entry = parse.prompt_entry(prompt, model, mine)
        result["results"].append(entry)
        result["checks"].extend(checks.prompt_checks(prompt, entry, mine, thresholds, endpoint.url, api))
    result["status"] = worst_status(result["checks"])
    _log_all(log, result, records)
    return result


def _log_all(log, result, records):
    if log is None:
        return
    for record in records:
        log(dict(
            ts=_now_iso(), host=result["host"], endpoint=result["endpoint"], model=result["model"],
            runner=result["runner"], runner_version=result["runner_version"], prompt=record["prompt"],
            repeat=record.get("repeat"), warmup=record.get("warmup", False), ok=record["ok"],
            duration_s=None if record.get("total_s") is None else round(record["total_s"], 4),
            ttft_s=None if record.get("ttft_s") is None else round(record["ttft_s"], 4),
            output_tokens=record.get("output_tokens"), failure=record.get("error"),
        ))


def run(options, check_mode=False, host=None):
    """``probe()`` plus the JSON-lines log: one line per request appended to ``log_path``.

    Returns ``(result, warnings)``. In check mode the probe runs (it changes nothing on the
    runner) but the log is not written. A log that cannot be written is a warning, not a failure.
    """
    warnings = []
    lines = []
    result = probe(options, log=lines.append, host=host)
    path = options.get("log_path")
    result["log_lines"] = len(lines)
    if path and not check_mode:
        try:
            with open(path, "a") as handle:
                for line in lines:
                    handle.write(json.dumps(line, sort_keys=True) + "\n")
        except (IOError, OSError) as exc:
            warnings.append("could not append to log_path %s: %s" % (path, exc))
    return result, warnings
