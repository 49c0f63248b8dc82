"""An HTTP forward proxy for APT that lets through only the distribution archives.

Test hosts on an internal Docker network (no route out, no DNS) reach their distribution's archive
through this proxy, as hosts of an air-gapped fleet reach a local mirror or apt-cacher-ng; nothing
else (PyPI, GitHub) is reachable from them. ``requests`` records every URL asked for and whether it
was let through, so a test can show what the hosts tried.

    with AptProxy("172.18.0.1") as proxy:      # bind to the internal network's gateway address
        proxy.url                              # http://172.18.0.1:PORT, for Acquire::http::Proxy
"""

import http.client
import http.server
import socketserver
import threading
import urllib.parse

# Archive hosts (plain HTTP, as the fresh images' sources.list names them).
ARCHIVE_HOSTS = ("deb.debian.org", "security.debian.org", "archive.ubuntu.com", "security.ubuntu.com",
                 "ports.ubuntu.com")
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
               "transfer-encoding", "upgrade"}


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"   # one request per connection: no chunked relaying to get wrong

    def log_message(self, *args):
        pass

    def _forward(self):
        proxy = self.server.owner
        url = urllib.parse.urlsplit(self.path)
        allowed = url.scheme == "http" and url.hostname in proxy.allowed_hosts
        proxy.requests.append((self.command, self.path, allowed))
        if not allowed:
            self.send_error(403, "gpufleet test proxy: only the distribution archives are reachable")
            return
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=120)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            target = url.path + ("?" + url.query if url.query else "")
            conn.request(self.command, target or "/", headers=headers)
            resp = conn.getresponse()
            self.send_response(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in _HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                while True:
                    chunk = resp.read(65536)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
        except OSError as exc:
            proxy.errors.append("%s: %s" % (self.path, exc))
            try:
                self.send_error(502, "gpufleet test proxy: %s" % exc)
            except OSError:
                pass
        finally:
            conn.close()

    do_GET = _forward
    do_HEAD = _forward

    def do_CONNECT(self):   # HTTPS tunnels (pip, curl https://...) are refused
        self.server.owner.requests.append(("CONNECT", self.path, False))
        self.send_error(403, "gpufleet test proxy: no tunnels")


class AptProxy:
    def __init__(self, bind, allowed_hosts=ARCHIVE_HOSTS):
        self.bind = bind
        self.allowed_hosts = set(allowed_hosts)
        self.requests = []
        self.errors = []
        self._server = None
        self._thread = None

    @property
    def url(self):
        return "http://%s:%d" % (self.bind, self._server.server_address[1])

    def __enter__(self):
        self._server = _Server((self.bind, 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def refused(self):
        return [(method, url) for method, url, allowed in self.requests if not allowed]
