"""Stand-ins for the servers the model-update check asks, on 127.0.0.1, speaking their protocols.

One HTTP server answers the three path families (each test gives it what to serve):

- Ollama's API: ``GET /api/tags`` → ``{"models": [{name, model, digest, ...}]}`` (docs/api.md, "List Local Models");
- an OCI distribution registry as Ollama's is: ``GET /v2/<namespace>/<model>/manifests/<tag>`` → the manifest
  bytes as stored, ``Content-Type`` the manifest's media type and ``Docker-Content-Digest`` their sha256; 404
  with the distribution API's ``MANIFEST_UNKNOWN`` error body for a tag it does not have;
- the Hugging Face Hub API: ``GET /api/models/<org>/<name>/revision/<branch>`` → the model info JSON; 401 for a
  repo marked gated when the request has no ``Authorization``; 404 ``{"error": "Repository not found"}``.

Every request is recorded (``requests``: method, path, headers) so tests can assert what was asked.
"""

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


class Registries(object):
    """``tags``: the /api/tags models; ``manifests``: {(namespace, model, tag): bytes}; ``hub``: {(repo, branch): dict};
    ``gated``: repos that want a token."""

    def __init__(self, tags=None, manifests=None, hub=None, gated=()):
        self.tags = list(tags or [])
        self.manifests = dict(manifests or {})
        self.hub = dict(hub or {})
        self.gated = set(gated)
        self.requests = []
        self.server = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def __enter__(self):
        registries = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):   # noqa: N802 - the http.server interface
                parts = urlsplit(self.path)
                registries.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers.items())})
                status, headers, body = registries.answer(parts.path, self.headers)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path, headers):
        if path == "/api/tags":
            return 200, {"Content-Type": "application/json"}, json.dumps({"models": self.tags}).encode()
        if path.startswith("/v2/"):
            parts = path[len("/v2/"):].split("/")
            if len(parts) == 4 and parts[2] == "manifests":
                body = self.manifests.get((parts[0], parts[1], parts[3]))
                if body is None:
                    error = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {"Tag": parts[3]}}]}
                    return 404, {"Content-Type": "application/json"}, json.dumps(error).encode()
                media = json.loads(body).get("mediaType") or "application/vnd.docker.distribution.manifest.v2+json"
                return 200, {"Content-Type": media, "Docker-Content-Digest": "sha256:" + hashlib.sha256(body).hexdigest()}, body
        if path.startswith("/api/models/") and "/revision/" in path:
            repo, branch = path[len("/api/models/"):].split("/revision/", 1)
            branch = unquote(branch)
            if repo in self.gated and not headers.get("Authorization"):
                return 401, {"Content-Type": "application/json"}, b'{"error": "Access to model %s is restricted."}' % repo.encode()
            info = self.hub.get((repo, branch))
            if info is None:
                return 404, {"Content-Type": "application/json"}, b'{"error": "Repository not found"}'
            return 200, {"Content-Type": "application/json"}, json.dumps(info).encode()
        return 404, {"Content-Type": "text/plain"}, b"404 page not found"


def tag_entry(name, manifest_bytes):
    """An /api/tags entry as Ollama lists a model whose stored manifest is ``manifest_bytes``."""
    return {"name": name, "model": name, "modified_at": "2026-11-20T10:00:00Z", "size": 1678456656,
            "digest": hashlib.sha256(manifest_bytes).hexdigest(),
            "details": {"format": "gguf", "family": "gemma", "parameter_size": "3B", "quantization_level": "Q4_0"}}
