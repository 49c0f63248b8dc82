# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP client of an LLM runner (Ollama, llama.cpp, vLLM, any OpenAI-compatible server), and of the
registries its models come from (Ollama's registry, the Hugging Face Hub API).

:class:`Endpoint` sends one request through the standard library's ``http.client`` so that every
socket read has a timeout and a watchdog closes the connection at the request's hard deadline (a
server that accepts and then sends nothing, or drips bytes, cannot hold the caller); a streamed
answer is handed over line by line. Failures are :class:`ProbeError` with a ``kind`` (``refused``,
``connect``, ``timeout``, ``http``, ``cut``, ``malformed``) and the server's own text. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import ssl
import threading
import time

try:
    import http.client as http_client
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported
    http_client = None
    urlsplit = None

MAX_ERROR_BODY = 2000
MAX_LINE = 1 << 20


class StreamError(Exception):
    """A stream the reader cannot read (malformed chunk); raised by the line reader, kind ``malformed``."""


class ProbeError(Exception):
    """A request that failed; ``kind`` names the fault, the message carries the server's text."""

    def __init__(self, kind, message, status=None):
        Exception.__init__(self, message)
        self.kind = kind
        self.status = status


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

    def request(self, method, path, body=None, timeout=10.0, on_line=None, on_start=None, raw=False):
        """Send a request; return ``(status, headers, text)`` or stream lines to ``on_line(line, now)``.

        ``on_start(now)`` is called just before the request is sent (the client's time zero). ``raw``:
        the body as the server sent it (bytes), for a digest of its content.
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
                data = self._read_bounded(conn, resp, deadline)
                text = data.decode("utf-8", "replace")
                if status >= 400:
                    raise ProbeError("http", "HTTP %s %s: %s" % (status, resp.reason, server_text(text)), status)
                return status, dict((k.lower(), v) for k, v in resp.getheaders()), data if raw else text
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
        return b"".join(chunks)


def server_text(text):
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


def get_json(endpoint, path, timeout):
    """``(decoded JSON, headers)`` of a GET, or ``(None, None)`` when it failed or is not JSON."""
    try:
        _status, headers, text = endpoint.request("GET", path, timeout=timeout)
        return json.loads(text), headers
    except (ProbeError, ValueError):
        return None, None
