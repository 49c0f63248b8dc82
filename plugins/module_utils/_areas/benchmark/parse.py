# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark area's pure side: streamed LLM responses (Ollama NDJSON, OpenAI-compatible SSE),
token accounting, the statistics of repeated requests and the ``results`` entry of one prompt.

``parse_ndjson_line`` / ``parse_sse_line`` turn one line of a stream into an event dict::

    {content, thinking, done, usage, error, done_reason}

``StreamAccount`` collects the events of one request with the monotonic times they arrived and
``finish()`` returns the figures of that request (time to first token, decode tokens/s, ...);
:func:`summarize` gives the median/p95/min/max of repeated figures and :func:`prompt_entry` one
``results`` entry of the probe. Pure functions, no I/O, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.llm_http import StreamError

_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.S)


def _event(content="", thinking="", done=False, usage=None, error=None, done_reason=None):
    return dict(content=content or "", thinking=thinking or "", done=done, usage=usage or {},
                error=error, done_reason=done_reason)


def _decode(text, what):
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StreamError("malformed %s chunk (%s): %r" % (what, exc, text[:120]))
    if not isinstance(data, dict):
        raise StreamError("malformed %s chunk (not a JSON object): %r" % (what, text[:120]))
    return data


def _ns_to_s(value):
    return None if value is None else value / 1e9


def ollama_usage(data):
    """Server-reported token counts and durations of an Ollama final ``done`` chunk (seconds)."""
    usage = {}
    if isinstance(data.get("eval_count"), int):
        usage["output_tokens"] = data["eval_count"]
    if isinstance(data.get("prompt_eval_count"), int):
        usage["prompt_tokens"] = data["prompt_eval_count"]
    for key, out in (("eval_duration", "decode_s"), ("prompt_eval_duration", "prompt_s"),
                     ("total_duration", "server_total_s"), ("load_duration", "load_s")):
        if isinstance(data.get(key), (int, float)):
            usage[out] = _ns_to_s(data[key])
    return usage


def parse_ndjson_line(line):
    """One line of an Ollama ``/api/generate`` or ``/api/chat`` stream; ``None`` for a blank line."""
    text = line.strip()
    if not text:
        return None
    data = _decode(text, "NDJSON")
    if data.get("error"):
        return _event(error=str(data["error"]), done=True)
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    content = data.get("response", message.get("content", "")) or ""
    thinking = data.get("thinking", message.get("thinking", "")) or ""
    if not isinstance(content, str) or not isinstance(thinking, str):
        raise StreamError("malformed NDJSON chunk (response is not text): %r" % text[:120])
    done = bool(data.get("done"))
    return _event(content, thinking, done, ollama_usage(data) if done else None,
                  done_reason=data.get("done_reason"))


def openai_usage(data):
    """Token counts of an OpenAI ``usage`` object and llama.cpp's ``timings`` (seconds)."""
    usage = {}
    raw = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    if isinstance(raw.get("completion_tokens"), int):
        usage["output_tokens"] = raw["completion_tokens"]
    if isinstance(raw.get("prompt_tokens"), int):
        usage["prompt_tokens"] = raw["prompt_tokens"]
    timings = data.get("timings") if isinstance(data.get("timings"), dict) else {}
    if isinstance(timings.get("prompt_ms"), (int, float)) and timings.get("prompt_n"):
        usage["prompt_s"] = timings["prompt_ms"] / 1000.0
        usage.setdefault("prompt_tokens", timings["prompt_n"])
    if isinstance(timings.get("predicted_ms"), (int, float)) and timings.get("predicted_n"):
        usage["decode_s"] = timings["predicted_ms"] / 1000.0
        usage.setdefault("output_tokens", timings["predicted_n"])
    return usage


def parse_sse_line(line):
    """One line of an OpenAI-compatible SSE stream; ``None`` for blank lines, comments, other fields."""
    text = line.rstrip("\r\n")
    if not text.strip() or text.startswith(":"):
        return None
    if not text.startswith("data:"):
        if re.match(r"^(event|id|retry):", text):
            return None
        raise StreamError("malformed SSE line (no data: field): %r" % text[:120])
    payload = text[5:].strip()
    if payload == "[DONE]":
        return _event(done=True)
    data = _decode(payload, "SSE")
    if data.get("error"):
        err = data["error"]
        return _event(error=str(err.get("message", err) if isinstance(err, dict) else err), done=True)
    content = []
    thinking = []
    reason = None
    for choice in data.get("choices") or []:
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue  # n>1: the probe measures the first choice
        delta = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
        text_part = delta.get("content", choice.get("text"))
        if isinstance(text_part, str):
            content.append(text_part)
        reasoning = delta.get("reasoning_content", delta.get("reasoning"))
        if isinstance(reasoning, str):
            thinking.append(reasoning)
        if delta.get("tool_calls"):
            for call in delta["tool_calls"]:
                args = (call.get("function") or {}).get("arguments")
                if isinstance(args, str):
                    content.append(args)
        reason = choice.get("finish_reason") or reason
    return _event("".join(content), "".join(thinking), False, openai_usage(data), done_reason=reason)


def visible_text(text):
    """The answer without ``<think>...</think>`` reasoning (what ``expect`` is matched against)."""
    return _THINK_RE.sub("", text or "").strip()


class StreamAccount:
    """Events of one streamed request with their monotonic arrival times (seconds)."""

    def __init__(self, started):
        self.started = started
        self.first_token_at = None
        self.last_token_at = None
        self.chunks = 0
        self.text = []
        self.thinking = []
        self.usage = {}
        self.done = False
        self.done_reason = None
        self.error = None

    def feed(self, event, now):
        """Record one parsed event (``None`` is ignored) that arrived at ``now``."""
        if event is None:
            return
        if event.get("error"):
            self.error = event["error"]
        produced = event.get("content") or event.get("thinking")
        if produced:
            if self.first_token_at is None:
                self.first_token_at = now
            self.last_token_at = now
            self.chunks += 1
            self.text.append(event.get("content") or "")
            self.thinking.append(event.get("thinking") or "")
        for key, value in (event.get("usage") or {}).items():
            self.usage[key] = value
        if event.get("done_reason"):
            self.done_reason = event["done_reason"]
        if event.get("done"):
            self.done = True

    def finish(self, ended):
        """Figures of the request: see ``request_figures``."""
        return request_figures(self, ended)


def request_figures(account, ended):
    """Time to first token, total time, tokens and rates of one request.

    * ``ttft_s``: first non-empty content (or thinking) chunk minus request start, client clock.
    * ``output_tokens``: server-reported (Ollama ``eval_count``, OpenAI ``usage``, llama.cpp
      ``timings``) when available, else the number of non-empty chunks (``tokens_counted``).
    * ``decode_tokens_per_s``: the chunks after the first one, each worth ``output_tokens /
      chunks`` tokens, over the time from the first to the last chunk, client clock (what a reader
      sees); with one token per chunk that is (tokens - 1) / time. ``server_decode_tokens_per_s``
      is the server's own figure.
    * ``prompt_tokens_per_s``: server-reported prompt tokens over the server's prompt time, or
      over the time to first token when the server reports no prompt time.
    """
    usage = account.usage
    counted = account.chunks
    output_tokens = usage.get("output_tokens", counted)
    ttft = None if account.first_token_at is None else account.first_token_at - account.started
    decode = None
    if account.first_token_at is not None and account.last_token_at is not None:
        span = account.last_token_at - account.first_token_at
        if span > 0 and output_tokens and counted > 1:
            # chunks after the first, each worth output_tokens / counted tokens: right when a chunk
            # carries several tokens (vLLM) or a token carries no text yet (byte tokens)
            decode = output_tokens * (counted - 1) / float(counted) / span
    server_decode = None
    if usage.get("decode_s") and usage.get("output_tokens"):
        server_decode = usage["output_tokens"] / usage["decode_s"]
    prompt_rate = None
    if usage.get("prompt_tokens"):
        if usage.get("prompt_s"):
            prompt_rate = usage["prompt_tokens"] / usage["prompt_s"]
        elif ttft:
            prompt_rate = usage["prompt_tokens"] / ttft
    text = "".join(account.text)
    return dict(
        ttft_s=ttft,
        total_s=ended - account.started,
        output_tokens=output_tokens,
        tokens_counted=counted,
        tokens_server_reported="output_tokens" in usage,
        prompt_tokens=usage.get("prompt_tokens"),
        decode_tokens_per_s=decode,
        server_decode_tokens_per_s=server_decode,
        prompt_tokens_per_s=prompt_rate,
        done_reason=account.done_reason,
        text=text,
        thinking="".join(account.thinking),
    )


def percentile(values, pct):
    """Linear-interpolated percentile (0..100) of a non-empty list of numbers."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= pct <= 100:
        raise ValueError("percentile must be within 0..100, not %r" % (pct,))
    rank = (len(ordered) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(values, digits=4):
    """``{median, p95, min, max}`` of the numbers in ``values`` (``None`` entries are ignored).

    All four are ``None`` when no value was measured.
    """
    numbers = [v for v in values or () if v is not None]
    if not numbers:
        return dict(median=None, p95=None, min=None, max=None)

    def rnd(number):
        return round(number, digits)

    return dict(median=rnd(percentile(numbers, 50)), p95=rnd(percentile(numbers, 95)),
                min=rnd(min(numbers)), max=rnd(max(numbers)))


def expect_ok(expect, text):
    """Whether the visible answer contains ``expect`` (a substring or a regular expression); None without one."""
    if not expect:
        return None
    answer = visible_text(text)
    if expect in answer:
        return True
    try:
        return re.search(expect, answer, re.S) is not None
    except re.error:
        return False


RATES = ("ttft_s", "total_s", "decode_tokens_per_s", "prompt_tokens_per_s", "server_decode_tokens_per_s")


def empty_entry(name, model, error, kind):
    """The ``results`` entry of a prompt that was never sent (the runner is down)."""
    entry = dict((figure, summarize([])) for figure in RATES)
    entry.update(prompt=name, model=model, ok=False, error=error, error_kind=kind, requests=0, failed=0,
                 output_tokens=None, tokens_server_reported=None, expect_passed=None, answer=None)
    return entry


def prompt_entry(prompt, model, records):
    """One ``results`` entry from the measured requests (``request_figures`` plus ``ok``, ``error``,
    ``error_kind``) of one prompt: the statistics of each figure and whether the answers match ``expect``."""
    good = [r for r in records if r["ok"]]
    failed = [r for r in records if not r["ok"]]
    entry = dict(
        prompt=prompt["name"], model=model, ok=not failed and bool(good), requests=len(records), failed=len(failed),
        error=failed[0]["error"] if failed else None, error_kind=failed[0]["error_kind"] if failed else None,
        output_tokens=summarize([r["output_tokens"] for r in good], digits=1)["median"],
        tokens_server_reported=all(r["tokens_server_reported"] for r in good) if good else None,
        expect_passed=None,
        answer=visible_text(good[0]["text"])[:500] if good else None,
    )
    for figure in RATES:
        entry[figure] = summarize(r[figure] for r in good)
    expect = prompt.get("expect")
    if expect and good:
        passes = [expect_ok(expect, r["text"]) for r in good]
        entry["expect_passed"] = all(passes)
        entry["expect_pass_rate"] = round(sum(1 for p in passes if p) / float(len(passes)), 3)
    return entry
