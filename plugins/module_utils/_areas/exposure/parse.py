# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exposure readings from captured text: listening sockets (``ss -ltnpH``), ``ufw status`` and
``nft list ruleset``; and which inference listeners are open beyond loopback with no front door.

Text in, plain dicts out. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

DEFAULT_PORTS = {
    11434: "Ollama",
    8000: "vLLM / OpenAI-compatible server",
    8080: "llama.cpp server / Open WebUI",
    5000: "text-generation server",
    7860: "Gradio web UI",
}
FRONT_DOORS = ("nginx", "caddy", "traefik", "haproxy", "envoy", "tailscaled", "apache2", "httpd")
_PROC = re.compile(r'\("(?P<name>[^"]+)",pid=(?P<pid>\d+)')


def split_address(text):
    """``'127.0.0.1:8080'``/``'[::1]:8080'``/``'*:8080'``/``'0.0.0.0%eth0:80'`` → (address, port)."""
    host, _sep, port = text.rpartition(":")
    host = host.strip("[]")
    if "%" in host:
        host = host.split("%", 1)[0]
    try:
        return host, int(port)
    except ValueError:
        return host, None


def is_loopback(address):
    return address == "::1" or address.startswith("127.") or address == "localhost" or address.startswith("::ffff:127.")


def parse_ss(text):
    """Listening sockets from ``ss -ltnpH`` → list of ``{address, port, process, pid}``."""
    listeners = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[0] not in ("LISTEN", "UNCONN"):
            continue
        address, port = split_address(fields[3])
        if port is None:
            continue
        procs = _PROC.findall(" ".join(fields[5:]))
        listeners.append({
            "address": address, "port": port,
            "process": procs[0][0] if procs else None,
            "pid": int(procs[0][1]) if procs else None,
        })
    return listeners


def _unread(state, rc, stderr):
    """``state`` plus ``reason`` (what the tool said) when it failed: the state was not read."""
    if rc not in (None, 0):
        state["reason"] = " ".join((stderr or "").split())[:200] or "exit status %s" % rc
    return state


def parse_ufw(text, rc, stderr=""):
    """``ufw status`` → ``{present, active}``, plus ``reason`` when ufw failed (not root: "You need to be root")."""
    if rc is None:
        return {"present": False, "active": None}
    match = re.search(r"^Status:\s*(\w+)", text or "", re.M)
    return _unread({"present": True, "active": (match.group(1) == "active") if match and rc == 0 else None}, rc, stderr)


def parse_nft(text, rc, stderr=""):
    """``nft list ruleset`` → ``{present, tables, input_policy}`` (policy of the first input hook chain), plus
    ``reason`` when nft failed (not root: "Operation not permitted")."""
    if rc is None:
        return {"present": False, "tables": None, "input_policy": None}
    if rc != 0:
        return _unread({"present": True, "tables": None, "input_policy": None}, rc, stderr)
    tables = re.findall(r"^table\s+(\S+)\s+(\S+)", text or "", re.M)
    policy = re.search(r"type filter hook input priority [^;]+;\s*policy (\w+);", text or "")
    return {"present": True, "tables": ["%s %s" % t for t in tables], "input_policy": policy.group(1) if policy else None}


def inference_ports(ports):
    """The ``ports`` option (``{"11434": "Ollama"}``; None for the defaults) → ``{11434: "Ollama"}``.

    Raises ValueError when a key is not a port number."""
    if ports is None:
        return dict(DEFAULT_PORTS)
    return dict((int(key), str(value)) for key, value in ports.items())


def where(sock):
    return "%s:%s" % (sock["address"] or "*", sock["port"])


def classify(listeners, ports, allowed=(), front_doors=FRONT_DOORS):
    """``[(listener, what serves the port, how)]`` for each listener on an inference port, sorted by
    port then address; ``how`` is ``loopback``, ``front_door``, ``allowed`` (``"address:port"`` or
    ``"*:port"`` in ``allowed``) or ``exposed``."""
    found = []
    for sock in sorted(listeners, key=lambda s: (s["port"], s["address"])):
        if sock["port"] not in ports:
            continue
        if is_loopback(sock["address"]):
            how = "loopback"
        elif sock.get("process") in front_doors:
            how = "front_door"
        elif where(sock) in allowed or "*:%s" % sock["port"] in allowed:
            how = "allowed"
        else:
            how = "exposed"
        found.append((sock, ports[sock["port"]], how))
    return found


def exposed(listeners, ports, allowed=()):
    """The listeners open to the network on an inference port with no front door (the fact's ``exposed``)."""
    return [sock for sock, _what, how in classify(listeners, ports, allowed) if how == "exposed"]
