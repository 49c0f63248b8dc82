"""A real nginx front door, in a private network namespace, and a week's worth of its traffic in seconds.

:func:`record` runs nginx (Debian's, ``nginx-light`` is enough) with two sites shaped like the
runner_service role's: one with ``auth_basic`` in front of a stand-in runner (Ollama's ``/api/tags``,
testlib/model_registries.py), one in front of a runner that
is down (nginx answers 502). Clients send from three addresses of the namespace's loopback: 127.0.0.1
(known), 10.1.2.3 (a private address, known by default) and 203.0.113.9 (TEST-NET-3, unknown): the runner's
users, a burst of 45 requests without the key from the unknown address (401), three with the key from it,
and six to the site whose runner is down. nginx writes the access log itself, in its ``combined`` format.

Inside ``unshare --user --map-root-user --net`` the addresses exist only in the namespace, nginx runs
as the namespace's root without a master process and everything it writes is under the work directory.
The traffic, as :data:`TRAFFIC`, is what the tests expect.
"""

import http.client
import os
import socket
import subprocess
import sys
import time

KEY = "Basic " + __import__("base64").b64encode(b"gpufleet:front-door-key").decode()
UNKNOWN, PRIVATE, LOCAL = "203.0.113.9", "10.1.2.3", "127.0.0.1"
# (source address, site, with the key, count, expected status)
TRAFFIC = (
    (LOCAL, "runner", True, 30, 200),
    (PRIVATE, "runner", True, 2, 200),
    (UNKNOWN, "runner", False, 45, 401),
    (UNKNOWN, "runner", True, 3, 200),
    (LOCAL, "down", True, 6, 502),
)

CONF = """\
daemon off;
master_process off;
user root root;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{}}
http {{
    access_log {log};
    client_body_temp_path {work}/tmp/body;
    proxy_temp_path {work}/tmp/proxy;
    fastcgi_temp_path {work}/tmp/fastcgi;
    uwsgi_temp_path {work}/tmp/uwsgi;
    scgi_temp_path {work}/tmp/scgi;
    upstream gpufleet_runner {{ server 127.0.0.1:{runner_port}; keepalive 8; }}
    upstream gpufleet_down {{ server 127.0.0.1:{down_port}; }}
    server {{
        listen {port};
        location / {{
            auth_basic "runner";
            auth_basic_user_file {work}/htpasswd;
            proxy_pass http://gpufleet_runner;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
    server {{
        listen {down_site_port};
        location / {{ proxy_pass http://gpufleet_down; }}
    }}
}}
"""


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port, deadline, process):
    while time.time() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not listen on %d (exit status %s)" % (port, process.poll()))


def _send(source, port, key, path="/api/tags"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path, headers={"Authorization": KEY} if key else {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _inside(work, log):
    """Run in the namespace: addresses, the stand-in runner, nginx, the traffic; return the statuses."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for address in (UNKNOWN, PRIVATE):
        subprocess.run(["ip", "addr", "add", address + "/32", "dev", "lo"], check=True)
    from testlib.model_registries import Registries   # the stand-in runner: Ollama's /api/tags, no model
    runner = Registries().__enter__()
    ports = dict(port=_free_port(), down_site_port=_free_port(), down_port=_free_port(), runner_port=runner.server.server_address[1])
    os.makedirs(os.path.join(work, "tmp"), exist_ok=True)
    with open(os.path.join(work, "htpasswd"), "w") as handle:
        handle.write("gpufleet:{PLAIN}front-door-key\n")
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as handle:
        handle.write(CONF.format(work=work, log=log, **ports))
    nginx = subprocess.Popen(["nginx", "-p", work, "-e", os.path.join(work, "error.log"), "-c", conf])
    try:
        _wait_port(ports["port"], time.time() + 10, nginx)
        _wait_port(ports["down_site_port"], time.time() + 10, nginx)
        got = []
        for source, site, key, count, _expected in TRAFFIC:
            port = ports["port"] if site == "runner" else ports["down_site_port"]
            got.append([_send(source, port, key) for _n in range(count)])
        return got
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        runner.__exit__(None, None, None)


def record(work, log):
    """Send :data:`TRAFFIC` through a real nginx in a private network namespace; ``log`` is its access log.

    Returns the statuses each client got (a list per :data:`TRAFFIC` row); raises when nginx fails."""
    proc = subprocess.run(["unshare", "--user", "--map-root-user", "--net", sys.executable, __file__, work, log],
                          capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError("the front door run failed (rc %d): %s %s" % (proc.returncode, proc.stdout, proc.stderr))
    return __import__("json").loads(proc.stdout)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    print(__import__("json").dumps(_inside(sys.argv[1], sys.argv[2])))
