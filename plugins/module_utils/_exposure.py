# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exposure audit: inference APIs listening beyond loopback with no front door in between.

Parses ``ss -ltnpH`` (listening TCP sockets with their processes), ``nft list ruleset`` and
``ufw status``. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import make_check, worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._runner import ToolError, find_tool, run

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


def parse_ufw(text, rc):
    """``ufw status`` → ``{present, active}``."""
    if rc is None:
        return {"present": False, "active": None}
    match = re.search(r"^Status:\s*(\w+)", text or "", re.M)
    return {"present": True, "active": (match.group(1) == "active") if match else None}


def parse_nft(text, rc):
    """``nft list ruleset`` → ``{present, tables, input_policy}`` (policy of the first input hook chain)."""
    if rc is None:
        return {"present": False, "tables": None, "input_policy": None}
    if rc != 0:
        return {"present": True, "tables": None, "input_policy": None}
    tables = re.findall(r"^table\s+(\S+)\s+(\S+)", text or "", re.M)
    policy = re.search(r"type filter hook input priority [^;]+;\s*policy (\w+);", text or "")
    return {"present": True, "tables": ["%s %s" % t for t in tables], "input_policy": policy.group(1) if policy else None}


def audit(listeners, ports=None, front_doors=FRONT_DOORS, allowed=()):
    """Checks for the listeners: crit for an inference port open beyond loopback without a front door.

    ``allowed`` lists ``"address:port"`` strings the operator accepts (for example behind a VPN).
    """
    ports = dict(DEFAULT_PORTS if ports is None else ports)
    checks = []
    exposed = []
    for sock in sorted(listeners, key=lambda s: (s["port"], s["address"])):
        if sock["port"] not in ports:
            continue
        what = ports[sock["port"]]
        where = "%s:%s" % (sock["address"] or "*", sock["port"])
        proc = sock.get("process") or "unknown process"
        subject = dict(port=sock["port"], address=sock["address"], process=sock.get("process"))
        if is_loopback(sock["address"]):
            checks.append(make_check("inference_port_exposed", "ok", where, "loopback",
                                     "%s (%s) listens on loopback only" % (where, proc), **subject))
        elif sock.get("process") in front_doors:
            checks.append(make_check("inference_port_exposed", "ok", where, "loopback",
                                     "%s is served by the front door %s" % (where, proc), **subject))
        elif where in allowed or "%s:%s" % ("*", sock["port"]) in allowed:
            checks.append(make_check("inference_port_exposed", "ok", where, "loopback",
                                     "%s (%s) is open to the network, accepted by exposure_allowed" % (where, proc), **subject))
        else:
            exposed.append(sock)
            checks.append(make_check(
                "inference_port_exposed", "crit", where, "loopback",
                "%s (%s, %s) listens on %s with no front door: anyone who reaches this host can use the API "
                "(an Ollama API open to the network lets anyone run and pull models): bind it to 127.0.0.1 "
                "(for Ollama OLLAMA_HOST=127.0.0.1:11434) and put a TLS + auth front door in front "
                "(runner_service's nginx site)" % (where, proc, what, "all addresses" if sock["address"] in ("0.0.0.0", "::", "*", "") else sock["address"]),
                **subject))
    return checks, exposed


def firewall_check(ufw, nft):
    if (ufw.get("present") and ufw.get("active")) or (nft.get("input_policy") == "drop"):
        return make_check("firewall", "ok", "active", "active", "a host firewall is active")
    return make_check("firewall", "warn", "inactive", "active",
                      "no active host firewall (ufw inactive, no nftables input chain with policy drop): "
                      "enable one so a runner bound to all addresses by mistake is not reachable")


def build_fact(listeners, ufw, nft, ports=None, allowed=()):
    checks, exposed = audit(listeners, ports=ports, allowed=allowed)
    checks.append(firewall_check(ufw, nft))
    return {
        "schema_version": 1,
        "listeners": listeners,
        "exposed": exposed,
        "firewall": {"ufw": ufw, "nftables": nft},
        "checks": checks,
        "status": worst_status(checks),
    }


def summary_section(fact):
    """Summary line of ``gpufleet_exposure`` (for ``_summary.SECTIONS``)."""
    exposed = ["%s:%s" % (s.get("address") or "*", s.get("port")) for s in fact.get("exposed") or []]
    firewall = next((c.get("value") for c in fact.get("checks") or [] if c.get("check") == "firewall"), None)
    return ["exposure: %s; firewall %s" % ("open to the network: " + ", ".join(exposed) if exposed else "no inference port open to the network",
                                           firewall or "n/a")]


class ExposureError(Exception):
    """The listening sockets could not be read (no ss, ss failed)."""


def gather(run_command, ports=None, allowed=(), timeout=20):
    """Run ss, ufw and nft and return ``(gpufleet_exposure fact, warnings)``; raises ExposureError."""
    warnings = []
    ss = find_tool("ss")
    if not ss:
        raise ExposureError("auditing listening sockets: ss not found (install iproute2)")
    try:
        rc, out, err = run(run_command, [ss, "-ltnpH"], timeout=timeout)
    except ToolError as exc:
        raise ExposureError("auditing listening sockets: %s" % exc)
    if rc != 0:
        raise ExposureError("auditing listening sockets: %s -ltnpH: %s" % (ss, err.strip()))

    def tool(name, args):
        path = find_tool(name)
        if not path:
            return None, ""
        try:
            result = run(run_command, [path] + args, timeout=timeout)
        except ToolError as exc:
            warnings.append(str(exc))
            return None, ""
        return result.rc, result.stdout

    ufw_rc, ufw_out = tool("ufw", ["status"])
    nft_rc, nft_out = tool("nft", ["list", "ruleset"])
    fact = build_fact(parse_ss(out), parse_ufw(ufw_out, ufw_rc), parse_nft(nft_out, nft_rc), ports=ports, allowed=allowed)
    return fact, warnings
