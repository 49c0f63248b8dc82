# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LLM probe: streamed requests to an Ollama or OpenAI-compatible endpoint, with deadlines.

``probe(options)`` runs the warm-up and measured requests (at most ``concurrency`` at once),
reads the runner's provenance (version, model digest) and returns the result dict of
``gpufleet.maintenance.llm_probe``. HTTP goes through the standard library's ``http.client`` so
that every socket read has a timeout and a watchdog closes the connection at the request's hard
deadline (a server that accepts and then sends nothing, or drips bytes, cannot hold the probe).
No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import re
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import http.client as http_client
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported by this module
    http_client = None
    urlsplit = None

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import level_check, make_check, worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._llm_stats import summarize
from ansible_collections.gpufleet.maintenance.plugins.module_utils._llm_stream import (
    StreamAccount, StreamError, parse_ndjson_line, parse_sse_line, visible_text)

SCHEMA_VERSION = 1
DEFAULT_THRESHOLDS = dict(ttft_warn_s=5.0, ttft_crit_s=10.0)
MAX_ERROR_BODY = 2000
MAX_LINE = 1 << 20


class ProbeError(Exception):
    """A request that failed; ``kind`` names the fault, the message carries the server's text."""

    def __init__(self, kind, message, status=None):
        Exception.__init__(self, message)
        self.kind = kind
        self.status = status


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Endpoint:
    """Base URL of a runner; ``request()`` streams one HTTP request under a hard deadline."""

    def __init__(self, url, headers=None, validate_certs=True):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("endpoint must be an http:// or https:// URL, not %r" % url)
        self.url = url.rstrip("/")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base = parts.path.rstrip("/")
        self.headers = dict(headers or {})
        self.validate_certs = validate_certs

    def _connection(self, timeout):
        if self.scheme == "https":
            context = ssl.create_default_context()
            if not self.validate_certs:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            return http_client.HTTPSConnection(self.host, self.port, timeout=timeout, context=context)
        return http_client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, timeout=10.0, on_line=None, on_start=None):
        """Send a request; return ``(status, headers, text)`` or stream lines to ``on_line(line, now)``.

        ``on_start(now)`` is called just before the request is sent (the client's time zero).
        Raises ``ProbeError`` (kinds ``refused``, ``connect``, ``timeout``, ``http``, ``cut``,
        ``malformed``, ``server``) and never blocks past ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        conn = self._connection(timeout)
        expired = threading.Event()

        def kill():
            expired.set()
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        watchdog = threading.Timer(timeout, kill)
        watchdog.daemon = True
        watchdog.start()
        headers = {"Accept": "application/json, text/event-stream, application/x-ndjson",
                   "User-Agent": "gpufleet.maintenance llm_probe"}
        headers.update(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            try:
                if on_start is not None:
                    on_start(time.monotonic())
                conn.request(method, self.base + path, body=payload, headers=headers)
                self._set_timeout(conn, deadline)
                resp = conn.getresponse()
            except ConnectionRefusedError as exc:
                raise ProbeError("refused", "connection refused (%s)" % exc)
            status = resp.status
            if status >= 400 or on_line is None:
                text = self._read_bounded(conn, resp, deadline)
                if status >= 400:
                    raise ProbeError("http", "HTTP %s %s: %s" % (status, resp.reason, _server_text(text)), status)
                return status, dict((k.lower(), v) for k, v in resp.getheaders()), text
            while True:
                self._set_timeout(conn, deadline)
                raw = resp.readline(MAX_LINE)
                now = time.monotonic()
                if not raw:
                    break
                if now > deadline:
                    raise socket.timeout("deadline")
                on_line(raw.decode("utf-8", "replace"), now)
            if expired.is_set():
                raise socket.timeout("deadline")
            return status, dict((k.lower(), v) for k, v in resp.getheaders()), ""
        except ProbeError:
            raise
        except StreamError as exc:
            raise ProbeError("malformed", str(exc))
        except (socket.timeout, TimeoutError) as exc:
            raise ProbeError("timeout", "no complete answer within %.1f s (%s)" % (timeout, exc or "timed out"))
        except (http_client.IncompleteRead, ConnectionResetError, BrokenPipeError,
                http_client.RemoteDisconnected) as exc:
            if expired.is_set():
                raise ProbeError("timeout", "no complete answer within %.1f s" % timeout)
            raise ProbeError("cut", "the server closed the stream early (%s: %s)" % (type(exc).__name__, exc))
        except (http_client.HTTPException, OSError, ValueError) as exc:
            if expired.is_set():
                raise ProbeError("timeout", "no complete answer within %.1f s" % timeout)
            raise ProbeError("connect", "%s: %s" % (type(exc).__name__, exc))
        finally:
            watchdog.cancel()
            conn.close()

    @staticmethod
    def _set_timeout(conn, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("deadline")
        if conn.sock is not None:
            conn.sock.settimeout(remaining)

    def _read_bounded(self, conn, resp, deadline):
        chunks = []
        size = 0
        while size < (1 << 22):
            self._set_timeout(conn, deadline)
            block = resp.read(65536)
            if not block:
                break
            chunks.append(block)
            size += len(block)
        return b"".join(chunks).decode("utf-8", "replace")


def _server_text(text):
    """The runner's own error text (``{"error": ...}`` bodies unwrapped), shortened."""
    text = (text or "").strip()
    try:
        data = json.loads(text)
        if isinstance(data, dict) and data.get("error"):
            err = data["error"]
            text = err.get("message", json.dumps(err)) if isinstance(err, dict) else str(err)
    except ValueError:
        pass
    return text[:MAX_ERROR_BODY] or "(empty body)"


def _get_json(endpoint, path, timeout):
    try:
        status, headers, text = endpoint.request("GET", path, timeout=timeout)
        return json.loads(text), headers
    except (ProbeError, ValueError):
        return None, None


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
        data, _headers = _get_json(endpoint, "/api/version", meta_timeout)
        if isinstance(data, dict) and data.get("version"):
            info.update(runner="ollama", runner_version=str(data["version"]))
        data, _headers = _get_json(endpoint, "/api/tags", meta_timeout)
        for entry in (data or {}).get("models") or [] if isinstance(data, dict) else []:
            names = (entry.get("name"), entry.get("model"))
            if model in names or (":" not in model and model + ":latest" in names):
                info["model_digest"] = entry.get("digest")
                info["model_details"] = entry.get("details")
        return info
    data, headers = _get_json(endpoint, "/v1/models", meta_timeout)
    for entry in (data or {}).get("data") or [] if isinstance(data, dict) else []:
        if isinstance(entry, dict) and entry.get("id") == model:
            meta = entry.get("meta")
            info["model_digest"] = model
            if isinstance(meta, dict) and meta:
                info["model_digest"] = "%s@%s" % (model, _short_hash(meta))
                info["model_details"] = meta
    props, _headers = _get_json(endpoint, "/props", meta_timeout)
    if isinstance(props, dict) and ("build_info" in props or "default_generation_settings" in props):
        info.update(runner="llama.cpp", runner_version=props.get("build_info"))
        return info
    version, _headers = _get_json(endpoint, "/version", meta_timeout)
    if isinstance(version, dict) and version.get("version"):
        info.update(runner="vllm", runner_version=str(version["version"]))
        return info
    server = (headers or {}).get("server")
    if server:
        match = re.match(r"^([^/\s]+)(?:/(\S+))?", server)
        info.update(runner=match.group(1), runner_version=match.group(2))
    return info


def _short_hash(data):
    import hashlib
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()[:12]


def ollama_vram_bytes(endpoint, model, timeout):
    """VRAM the loaded model holds (Ollama ``/api/ps`` ``size_vram``), ``None`` when not reported."""
    data, _headers = _get_json(endpoint, "/api/ps", min(timeout, 5.0))
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
            return "/api/chat", dict(model=model, messages=prompt["messages"], stream=True, options=opts), parse_ndjson_line
        return "/api/generate", dict(model=model, prompt=prompt["prompt"], stream=True, options=opts), parse_ndjson_line
    body = dict(model=model, stream=True, max_tokens=max_tokens, stream_options=dict(include_usage=True))
    if temperature is not None:
        body["temperature"] = temperature
    if seed is not None:
        body["seed"] = seed
    if prompt.get("messages"):
        body["messages"] = prompt["messages"]
        return "/v1/chat/completions", body, parse_sse_line
    body["prompt"] = prompt["prompt"]
    return "/v1/completions", body, parse_sse_line


def one_request(endpoint, api, model, prompt, options):
    """Stream one request; return its figures plus ``ok``, ``error``, ``error_kind``."""
    path, body, parser = build_request(api, model, prompt, options)
    started = time.monotonic()
    account = StreamAccount(started)

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


def _expect_ok(expect, text):
    if not expect:
        return None
    answer = visible_text(text)
    if expect in answer:
        return True
    try:
        return re.search(expect, answer, re.S) is not None
    except re.error:
        return False


def fault_message(kind, error, endpoint, model, api):
    """The operator's message for a failed request: what happened, in the runner's words, and the fix."""
    if kind == "refused":
        return "runner down at %s: %s: check its logs, restart it" % (endpoint, error)
    if kind == "http" and "404" in error.split(":")[0]:
        pull = "ollama pull %s" % model if api == "ollama" else "load it in the server (-m / --alias)"
        return "model %s not found at %s (not pulled?): %s: %s, or fix the model name" % (model, endpoint, error, pull)
    if kind == "http" and re.match(r"HTTP 5\d\d", error):
        return "runner error at %s: %s: check the runner's logs (out of memory, model failed to load)" % (endpoint, error)
    if kind == "http":
        return "request refused by %s: %s: check api, model and headers (API key)" % (endpoint, error)
    if kind == "timeout":
        return "%s at %s: check the runner's load, GPU offload and logs, or raise timeout_s" % (error, endpoint)
    if kind == "cut":
        return "stream cut by %s: %s: check the runner's logs for a crash or restart" % (endpoint, error)
    if kind == "malformed":
        return "unreadable stream from %s: %s: check api (ollama or openai) and any proxy in between" % (endpoint, error)
    return "request to %s failed: %s: check the runner's logs" % (endpoint, error)


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
    thresholds = dict(DEFAULT_THRESHOLDS)
    thresholds.update(dict((k, v) for k, v in (options.get("thresholds") or {}).items() if v is not None))
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
        result["checks"].append(make_check("llm_probe", "ok", busy, limit,
                                           "probe skipped: %s; measure when the GPU is idle" % result["skipped_reason"]))
        result["status"] = "ok"
        return result
    try:
        result.update(provenance(endpoint, api, model, options["timeout_s"]))
    except ProbeError as exc:
        message = fault_message(exc.kind, str(exc), endpoint.url, model, api)
        result["checks"].append(make_check("llm_endpoint", "crit", None, None, message))
        for prompt in options["prompts"]:
            result["results"].append(_empty_entry(prompt["name"], str(exc), exc.kind))
        result["status"] = "crit"
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
        entry, checks = summarize_prompt(prompt, mine, thresholds, endpoint.url, model, api)
        result["results"].append(entry)
        result["checks"].extend(checks)
    result["status"] = worst_status(result["checks"])
    _log_all(log, result, records)
    return result


def _empty_entry(name, error, kind):
    empty = summarize([])
    return dict(prompt=name, ok=False, error=error, error_kind=kind, requests=0, failed=0,
                ttft_s=empty, total_s=dict(empty), decode_tokens_per_s=dict(empty),
                prompt_tokens_per_s=dict(empty), server_decode_tokens_per_s=dict(empty),
                output_tokens=None, tokens_server_reported=None, expect_passed=None, answer=None)


def summarize_prompt(prompt, records, thresholds, endpoint, model, api):
    """One ``results`` entry and its checks from the measured requests of one prompt."""
    good = [r for r in records if r["ok"]]
    failed = [r for r in records if not r["ok"]]
    name = prompt["name"]
    entry = dict(
        prompt=name, ok=not failed and bool(good), requests=len(records), failed=len(failed),
        error=failed[0]["error"] if failed else None, error_kind=failed[0]["error_kind"] if failed else None,
        ttft_s=summarize(r["ttft_s"] for r in good),
        total_s=summarize(r["total_s"] for r in good),
        decode_tokens_per_s=summarize(r["decode_tokens_per_s"] for r in good),
        prompt_tokens_per_s=summarize(r["prompt_tokens_per_s"] for r in good),
        server_decode_tokens_per_s=summarize(r["server_decode_tokens_per_s"] for r in good),
        output_tokens=summarize([r["output_tokens"] for r in good], digits=1)["median"],
        tokens_server_reported=all(r["tokens_server_reported"] for r in good) if good else None,
        expect_passed=None,
        answer=visible_text(good[0]["text"])[:500] if good else None,
    )
    checks = []
    if failed:
        first = failed[0]
        checks.append(make_check("llm_request", "crit", len(failed), 0,
                                 "prompt %s: %d of %d request(s) failed: %s" % (
                                     name, len(failed), len(records),
                                     fault_message(first["error_kind"], first["error"], endpoint, model, api)),
                                 prompt=name))
    if good:
        checks.append(level_check("llm_ttft", entry["ttft_s"]["median"], thresholds.get("ttft_warn_s"),
                                  thresholds.get("ttft_crit_s"), unit=" s",
                                  what="time to first token of prompt %s (median)" % name,
                                  fix="check GPU offload (model spilled to CPU?), other GPU users and the runner's logs",
                                  prompt=name))
    expect = prompt.get("expect")
    if expect and good:
        passes = [_expect_ok(expect, r["text"]) for r in good]
        entry["expect_passed"] = all(passes)
        entry["expect_pass_rate"] = round(sum(1 for p in passes if p) / float(len(passes)), 3)
        if entry["expect_passed"]:
            checks.append(make_check("llm_expect", "ok", entry["expect_pass_rate"], 1.0,
                                     "prompt %s: every answer matches %r" % (name, expect), prompt=name))
        else:
            checks.append(make_check("llm_expect", "crit", entry["expect_pass_rate"], 1.0,
                                     "prompt %s: answer does not match %r (got %r): the model may be corrupted or "
                                     "swapped; re-pull it and compare its digest" % (name, expect, (entry["answer"] or "")[:80]),
                                     prompt=name))
    return entry, checks


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
