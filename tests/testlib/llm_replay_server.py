"""A replay LLM server with delays and faults the test controls (Ollama NDJSON and OpenAI SSE).

Run as its own process (``python llm_replay_server.py``); it binds 127.0.0.1 port 0 and prints
``PORT <n>`` on stdout. The wire format follows the captures in
tests/unit/fixtures/llm_stream/ (Ollama ``/api/generate`` NDJSON with a final ``done`` chunk and
durations in ns; OpenAI ``chat.completion.chunk`` SSE with a ``usage`` chunk and ``data: [DONE]``).

Behaviour (changeable at run time with ``POST /_control`` and a JSON body):
  first_delay_s   delay before the first token (default 0.3)
  interval_s      delay between tokens (default 0.02)
  tokens          tokens per answer (default 40)
  fault           none | 404 | 500 | cut | malformed | slowloris | drip | stream_error
  text            answer text (split in words, cycled) ; default "The answer is 42."
  slow_when       {file, content, first_delay_s}: while ``file`` holds ``content`` (stripped), the
                  first token waits ``first_delay_s`` instead - a runner that got slower under a
                  newly installed driver (the fake driver packages write their version to a file)
``GET /_stats`` returns ``{requests, in_flight, max_in_flight, sent}`` for generation requests;
``sent`` lists, per completed stream, when the server really handed the first token to the socket
after the request arrived (``ttft_s``), the last one (``last_token_s``) and the token rate it really
wrote (``tokens_per_s``): on a busy machine the writes run late, and the probe must report what
really happened. No client can see a token before the server hands it over, so a client's time to
first token is always above the server's ``ttft_s`` for the same request.
"""

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = dict(first_delay_s=0.3, interval_s=0.02, tokens=40, fault="none", text="The answer is 42.",
             model="replay:1b", digest="sha256:" + "ab" * 32, version="0.12.6", hold_s=120.0, slow_when=None)
STATS = dict(requests=0, in_flight=0, max_in_flight=0, sent=[])
LOCK = threading.Lock()


def _first_delay():
    slow = STATE.get("slow_when")
    if slow:
        try:
            with open(slow["file"]) as handle:
                if handle.read().strip() == slow["content"]:
                    return float(slow["first_delay_s"])
        except (IOError, OSError):
            pass
    return STATE["first_delay_s"]


def _words(n):
    words = STATE["text"].split(" ")
    out = []
    for i in range(n):
        word = words[i % len(words)]
        out.append(word if i == 0 else " " + word)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                return self._json(200, dict(STATS))
        if self.path == "/api/version":
            return self._json(200, {"version": STATE["version"]})
        if self.path == "/api/tags":
            return self._json(200, {"models": [{"name": STATE["model"], "model": STATE["model"], "digest": STATE["digest"],
                                                "size": 815319791, "details": {"family": "gemma3", "parameter_size": "999.89M",
                                                                               "quantization_level": "Q4_K_M"}}]})
        if self.path == "/api/ps":
            return self._json(200, {"models": [{"name": STATE["model"], "model": STATE["model"], "size_vram": 123456789}]})
        if self.path == "/v1/models":
            return self._json(200, {"object": "list", "data": [{"id": STATE["model"], "object": "model", "owned_by": "replay"}]})
        if self.path == "/version":
            return self._json(200, {"version": "0.11.0"})
        return self._json(404, {"error": "not found"})

    def do_POST(self):
        if self.path == "/_control":
            STATE.update(self._body())
            return self._json(200, STATE)
        body = self._body()
        with LOCK:
            STATS["requests"] += 1
            STATS["in_flight"] += 1
            STATS["max_in_flight"] = max(STATS["max_in_flight"], STATS["in_flight"])
        self._counted = True
        try:
            self._generate(body)
        finally:
            self._release()

    def _release(self):
        """The stream is over for the client: uncount it before its last bytes are written, so
        that a client starting its next request cannot be counted twice."""
        if getattr(self, "_counted", False):
            self._counted = False
            with LOCK:
                STATS["in_flight"] -= 1

    def _json(self, status, data):
        self._release()
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _end(self):
        self._release()
        self._chunk(b"")

    def _generate(self, body):
        received = time.monotonic()
        fault = STATE["fault"]
        ollama = self.path.startswith("/api/")
        if fault == "slowloris":
            time.sleep(STATE["hold_s"])
            return
        if fault == "404" or body.get("model") != STATE["model"]:
            if ollama:
                return self._json(404, {"error": "model '%s' not found" % body.get("model")})
            return self._json(404, {"error": {"code": 404, "message": "model '%s' not found" % body.get("model"),
                                              "type": "not_found_error"}})
        if fault == "500":
            return self._json(500, {"error": "llama runner process has terminated: CUDA error: out of memory"})
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson" if ollama else "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if fault == "drip":
            for _tick in range(int(STATE["hold_s"] * 2)):
                self._chunk(b" ")
                time.sleep(0.5)
            return
        n = body.get("max_tokens") or (body.get("options") or {}).get("num_predict") or STATE["tokens"]
        n = min(n, STATE["tokens"])
        words = _words(n)
        first_delay = _first_delay()
        written = []
        for i, word in enumerate(words):
            due = received + first_delay + i * STATE["interval_s"]
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if fault == "cut" and i == n // 2:
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            if fault == "malformed" and i == 2:
                self._chunk(b"data: {\"choices\": [tru\n\n" if not ollama else b"{\"response\": \"x\", \"done\n")
                continue
            written.append(time.monotonic())  # handed to the socket now: no client can see it earlier
            if ollama:
                line = {"model": STATE["model"], "created_at": "2025-07-30T16:08:25.541232Z", "done": False}
                if self.path == "/api/chat":
                    line["message"] = {"role": "assistant", "content": word}
                else:
                    line["response"] = word
                self._chunk(json.dumps(line).encode() + b"\n")
            else:
                chunk = {"id": "chatcmpl-replay", "object": "chat.completion.chunk", "created": 1727346169,
                         "model": STATE["model"], "choices": [{"index": 0, "delta": {"content": word},
                                                               "logprobs": None, "finish_reason": None}]}
                self._chunk(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        if len(written) > 1:
            with LOCK:
                STATS["sent"].append(dict(ttft_s=written[0] - received, last_token_s=written[-1] - received,
                                          tokens_per_s=(len(written) - 1) / (written[-1] - written[0])))
        if fault == "stream_error":
            err = {"error": "an error was encountered while running the model: unexpected EOF"}
            self._chunk(json.dumps(err).encode() + b"\n" if ollama else b"data: " + json.dumps(err).encode() + b"\n\n")
            self._end()
            return
        decode_ns = int(max(n - 1, 0) * STATE["interval_s"] * 1e9)
        if ollama:
            final = {"model": STATE["model"], "created_at": "2025-07-30T16:08:26.0Z", "response": "", "done": True,
                     "done_reason": "stop", "total_duration": int((time.monotonic() - received) * 1e9),
                     "load_duration": 1000000, "prompt_eval_count": 12, "prompt_eval_duration": 24000000,
                     "eval_count": n, "eval_duration": decode_ns}
            if self.path == "/api/chat":
                final["message"] = {"role": "assistant", "content": ""}
            self._chunk(json.dumps(final).encode() + b"\n")
        else:
            stop = {"id": "chatcmpl-replay", "object": "chat.completion.chunk", "created": 1727346169, "model": STATE["model"],
                    "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]}
            usage = {"id": "chatcmpl-replay", "object": "chat.completion.chunk", "created": 1727346169, "model": STATE["model"],
                     "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": n, "total_tokens": 12 + n}}
            for item in (stop, usage):
                self._chunk(b"data: " + json.dumps(item).encode() + b"\n\n")
            self._chunk(b"data: [DONE]\n\n")
        self._end()


def main():
    if len(sys.argv) > 1:
        STATE.update(json.loads(sys.argv[1]))
    # GPUFLEET_REPLAY_BIND: another local address (the timeline's container hosts reach it on the Docker bridge).
    server = ThreadingHTTPServer((os.environ.get("GPUFLEET_REPLAY_BIND", "127.0.0.1"), 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
