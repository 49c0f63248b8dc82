"""An Ollama-protocol server for tests that forwards generation to a real llama-server.

Ollama itself cannot be installed on the test machines. This server follows the Ollama API
documentation (tests/unit/fixtures/llm_stream/ollama-docs-api.md): ``/api/generate`` and
``/api/chat`` stream NDJSON, one object per token with ``done: false``, and a final object with
``done: true``, ``done_reason`` and the durations in nanoseconds (``total_duration``,
``load_duration``, ``prompt_eval_count``, ``prompt_eval_duration``, ``eval_count``,
``eval_duration``); ``/api/tags``, ``/api/show``, ``/api/ps`` and ``/api/version`` answer as
Ollama does; an unknown model is ``404 {"error": "model 'x' not found"}``. Tokens and timings
come from llama-server's ``/completion`` stream, so they are real.

Run: ``python ollama_shim.py --upstream http://127.0.0.1:P --model-path M.gguf --name tiny:latest``;
prints ``PORT <n>``. ``POST /_control {"token_delay_s": 0.05}`` injects a delay per generated token
(a slowed runner for regression tests).
"""

import argparse
import datetime
import hashlib
import http.client
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

CONFIG = dict(token_delay_s=0.0)
ARGS = None
DIGEST = None


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _known(name):
    return name in (ARGS.name, ARGS.name.split(":")[0])


def _chat_prompt(messages):
    text = "".join("<|im_start|>%s\n%s<|im_end|>\n" % (m.get("role", "user"), m.get("content", "")) for m in messages)
    return text + "<|im_start|>assistant\n"


def upstream_stream(body, timeout=120):
    """POST llama-server /completion with stream=true; yield its JSON events."""
    parts = urlsplit(ARGS.upstream)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", "/completion", body=json.dumps(body), headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError("llama-server answered HTTP %s: %s" % (resp.status, resp.read()[:500].decode("utf-8", "replace")))
        while True:
            line = resp.readline()
            if not line:
                return
            line = line.decode("utf-8", "replace").strip()
            if line.startswith("data:"):
                yield json.loads(line[5:].strip())
    finally:
        conn.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ollama-shim"

    def log_message(self, *args):
        pass

    def _json(self, status, data):
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return None

    def _model_entry(self):
        size = os.path.getsize(ARGS.model_path)
        return {"name": ARGS.name, "model": ARGS.name, "modified_at": _now(), "size": size, "digest": DIGEST,
                "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                            "parameter_size": "0.1M", "quantization_level": "F32"}}

    def do_GET(self):
        if self.path == "/api/version":
            return self._json(200, {"version": ARGS.version})
        if self.path == "/api/tags":
            return self._json(200, {"models": [self._model_entry()]})
        if self.path == "/api/ps":
            entry = dict(self._model_entry(), expires_at=_now(), size_vram=0)
            return self._json(200, {"models": [entry]})
        if self.path == "/":
            return self._json(200, "Ollama is running")
        return self._json(404, {"error": "404 page not found"})

    def do_POST(self):
        body = self._body()
        if body is None:
            return self._json(400, {"error": "invalid JSON body"})
        if self.path == "/_control":
            CONFIG.update(body)
            return self._json(200, CONFIG)
        if self.path == "/api/show":
            if not _known(body.get("model") or body.get("name") or ""):
                return self._json(404, {"error": "model '%s' not found" % body.get("model")})
            entry = self._model_entry()
            return self._json(200, {"modelfile": "FROM %s\n" % ARGS.model_path, "parameters": "", "template": "{{ .Prompt }}",
                                    "details": entry["details"], "model_info": {"general.architecture": "llama"}})
        if self.path not in ("/api/generate", "/api/chat"):
            return self._json(404, {"error": "404 page not found"})
        model = body.get("model") or ""
        if not _known(model):
            return self._json(404, {"error": "model '%s' not found" % model})
        chat = self.path == "/api/chat"
        prompt = _chat_prompt(body.get("messages") or []) if chat else body.get("prompt", "")
        options = body.get("options") or {}
        upstream = {"prompt": prompt, "stream": True, "n_predict": options.get("num_predict", 128), "cache_prompt": False,
                    "return_tokens": True}
        for ours, theirs in (("temperature", "temperature"), ("seed", "seed"), ("top_k", "top_k"), ("top_p", "top_p")):
            if ours in options:
                upstream[theirs] = options[ours]
        started = time.monotonic()
        stream = body.get("stream", True)
        if stream:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
        pieces = []
        final = None
        try:
            for event in upstream_stream(upstream):
                if CONFIG["token_delay_s"] and not event.get("stop") and (event.get("tokens") or event.get("content")):
                    # per generated token, also those that are only part of a character (no text yet)
                    time.sleep(CONFIG["token_delay_s"] * max(1, len(event.get("tokens") or ())))
                if event.get("content"):
                    pieces.append(event["content"])
                    if stream:
                        line = {"model": ARGS.name, "created_at": _now(), "done": False}
                        if chat:
                            line["message"] = {"role": "assistant", "content": event["content"]}
                        else:
                            line["response"] = event["content"]
                        self._write_chunk(json.dumps(line).encode() + b"\n")
                if event.get("stop"):
                    final = event
        except (RuntimeError, OSError, ValueError) as exc:
            if stream:
                self._write_chunk(json.dumps({"error": str(exc)}).encode() + b"\n")
                self._write_chunk(b"")
                return
            return self._json(500, {"error": str(exc)})
        timings = (final or {}).get("timings") or {}
        wall_ns = int((time.monotonic() - started) * 1e9)
        prompt_ns = int(timings.get("prompt_ms", 0) * 1e6)
        done = {"model": ARGS.name, "created_at": _now(), "done": True,
                "done_reason": "length" if (final or {}).get("stop_type") == "limit" else "stop",
                "total_duration": wall_ns, "load_duration": 0,
                "prompt_eval_count": timings.get("prompt_n", 0), "prompt_eval_duration": prompt_ns,
                "eval_count": timings.get("predicted_n", len(pieces)),
                "eval_duration": max(wall_ns - prompt_ns, 1)}
        if chat:
            done["message"] = {"role": "assistant", "content": "" if stream else "".join(pieces)}
        else:
            done["response"] = "" if stream else "".join(pieces)
        if stream:
            self._write_chunk(json.dumps(done).encode() + b"\n")
            self._write_chunk(b"")
        else:
            self._json(200, done)

    def _write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def main():
    global ARGS, DIGEST
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--model-path", required=True)
    parser.add_argument("--name", default="tiny:latest")
    parser.add_argument("--version", default="0.12.6")
    ARGS = parser.parse_args()
    with open(ARGS.model_path, "rb") as handle:
        DIGEST = "sha256:" + hashlib.sha256(handle.read()).hexdigest()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
