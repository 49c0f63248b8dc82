"""The benchmark area's stream parsing (parse.py) against the real Ollama NDJSON and OpenAI SSE captures in fixtures/llm_stream/."""

import json

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark.parse import (
    StreamAccount, StreamError, parse_ndjson_line, parse_sse_line, visible_text)


def json_block(path, which=0):
    """Lines of the ``which``-th fenced json block of a demo page, one compact object per line."""
    text = open(path).read()
    block = text.split("```json\n")[which + 1].split("```")[0]
    decoder = json.JSONDecoder()
    objects, pos = [], 0
    while True:
        while pos < len(block) and block[pos].isspace():
            pos += 1
        if pos >= len(block):
            return [json.dumps(o) for o in objects]
        obj, pos = decoder.raw_decode(block, pos)
        objects.append(obj)


def replay(lines, parser, step=0.01):
    account = StreamAccount(0.0)
    for i, line in enumerate(lines):
        account.feed(parser(line), 0.1 + i * step)
    return account


def test_ollama_gemma3_ndjson(fixture_path):
    lines = json_block(fixture_path("llm_stream", "ollama-generate-ndjson-gemma3-1b-demo.md"))
    account = replay(lines, parse_ndjson_line)
    figures = account.finish(2.0)
    assert account.done and account.done_reason == "stop"
    assert figures["output_tokens"] == 43 and figures["tokens_server_reported"] is True
    assert figures["tokens_counted"] == sum(1 for line in lines if json.loads(line)["response"])
    assert figures["prompt_tokens"] == 17
    assert figures["prompt_tokens_per_s"] == pytest.approx(17 / 0.138877584)
    assert figures["server_decode_tokens_per_s"] == pytest.approx(43 / 0.623658375)
    assert figures["ttft_s"] == pytest.approx(0.1)
    assert figures["text"].startswith("A fluffy rabbit with twitching whiskers")


def test_ollama_thinking_field_counts_as_first_token(fixture_path):
    lines = json_block(fixture_path("llm_stream", "ollama-generate-gptoss-120b-thinking-field-pretty-demo.md"))
    events = [parse_ndjson_line(line) for line in lines]
    first_thinking = next(i for i, e in enumerate(events) if e["thinking"])
    first_content = next(i for i, e in enumerate(events) if e["content"])
    assert first_thinking < first_content
    account = replay(lines, parse_ndjson_line)
    assert account.finish(9.0)["ttft_s"] == pytest.approx(0.1 + first_thinking * 0.01)
    assert "We need to" in "".join(account.thinking)
    assert account.done


def test_ollama_think_tags_are_not_the_answer(fixture_path):
    lines = json_block(fixture_path("llm_stream", "ollama-generate-ndjson-qwen3-1.7b-think-tags-demo.md"))
    account = replay(lines, parse_ndjson_line)
    text = "".join(account.text)
    assert text.startswith("<think>") and "</think>" in text
    answer = visible_text(text)
    assert "<think>" not in answer and answer and len(answer) < len(text)


def test_ollama_chat_and_error_lines():
    event = parse_ndjson_line('{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}')
    assert event["content"] == "Hi" and not event["done"]
    event = parse_ndjson_line('{"error":"model \'x\' not found"}')
    assert event["error"] == "model 'x' not found" and event["done"]
    assert parse_ndjson_line("   \n") is None


@pytest.mark.parametrize("line", ['{"response": "x", "done', '[1, 2]', '{"response": 5, "done": false}'])
def test_ollama_malformed_chunks(line):
    with pytest.raises(StreamError, match="malformed NDJSON chunk"):
        parse_ndjson_line(line)


def test_openai_sse_text_stop(fixture_path):
    lines = open(fixture_path("llm_stream", "openai-chat-sse-gpt4o-text-stop.txt")).read().splitlines()
    account = replay(lines, parse_sse_line)
    figures = account.finish(1.0)
    assert account.done and account.done_reason == "stop"
    assert figures["output_tokens"] == 14 and figures["prompt_tokens"] == 79
    assert figures["text"].startswith('{"city":"San Francisco"')
    # the role-only first chunk (content "") is not the first token
    first = next(i for i, line in enumerate(lines) if parse_sse_line(line) and parse_sse_line(line)["content"])
    assert figures["ttft_s"] == pytest.approx(0.1 + first * 0.01)


def test_openai_sse_finish_length_and_tool_calls(fixture_path):
    lines = open(fixture_path("llm_stream", "openai-chat-sse-gpt4o-finish-length.txt")).read().splitlines()
    account = replay(lines, parse_sse_line)
    assert account.done_reason == "length" and account.done
    lines = open(fixture_path("llm_stream", "openai-chat-sse-gpt4o-tool-calls.txt")).read().splitlines()
    account = replay(lines, parse_sse_line)
    assert account.chunks > 0 and account.done
    assert account.finish(1.0)["tokens_server_reported"] is True


def test_openai_sse_multichoice_measures_choice_zero(fixture_path):
    lines = open(fixture_path("llm_stream", "openai-chat-sse-gpt4o-n3-multichoice.txt")).read().splitlines()
    account = replay(lines, parse_sse_line)
    zero = [parse_sse_line(line) for line in lines]
    assert account.chunks == sum(1 for e in zero if e and e["content"])
    raw = [json.loads(line[5:]) for line in lines if line.startswith("data: {")]
    expected = "".join(c["delta"].get("content") or "" for r in raw for c in r["choices"] if c["index"] == 0)
    assert "".join(account.text) == expected


def test_sse_llama_cpp_timings_and_done():
    line = ('data: {"choices":[{"finish_reason":"length","index":0,"delta":{}}],"object":"chat.completion.chunk",'
            '"usage":{"completion_tokens":16,"prompt_tokens":9},"timings":{"prompt_n":9,"prompt_ms":3.0,'
            '"predicted_n":16,"predicted_ms":80.0}}')
    event = parse_sse_line(line)
    assert event["usage"] == {"output_tokens": 16, "prompt_tokens": 9, "prompt_s": 0.003, "decode_s": 0.08}
    assert parse_sse_line("data: [DONE]")["done"] is True
    assert parse_sse_line(": keep-alive") is None and parse_sse_line("event: message") is None
    assert parse_sse_line('data: {"error":{"message":"boom","code":500}}')["error"] == "boom"


@pytest.mark.parametrize("line", ['data: {"choices": [tru', "garbage without a field", "data: 42"])
def test_sse_malformed(line):
    with pytest.raises(StreamError, match="malformed SSE"):
        parse_sse_line(line)


def test_counted_tokens_when_server_reports_none():
    account = StreamAccount(10.0)
    for i in range(5):
        account.feed(dict(content="w", thinking="", done=False, usage={}, error=None, done_reason=None), 10.5 + i * 0.1)
    figures = account.finish(11.0)
    assert figures["output_tokens"] == 5 and figures["tokens_server_reported"] is False
    assert figures["ttft_s"] == pytest.approx(0.5)
    assert figures["decode_tokens_per_s"] == pytest.approx(4 / 0.4)
    assert figures["prompt_tokens_per_s"] is None
