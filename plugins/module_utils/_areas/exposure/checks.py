# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exposure area's checks: the table (data) and the verdicts over the collected readings.

Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable

CHECKS = CheckTable(
    Check("listening_sockets", "Whether the listening TCP sockets could be read (ss -ltnpH); reported only when not.",
          fix="install iproute2 (ss), and run the audit as root (become: true) to see the processes"),
    Check("inference_port_exposed", "Whether an inference port listens beyond loopback with no front door in between.",
          subject=("address", "port"),
          fix="anyone who reaches this host can use the API (an Ollama API open to the network lets anyone run and "
              "pull models): bind it to 127.0.0.1 (for Ollama OLLAMA_HOST=127.0.0.1:11434) and put a TLS + auth front "
              "door in front (runner_service's nginx site)"),
    Check("firewall", "Whether a host firewall is active (ufw, or an nftables input chain with policy drop).",
          fix="enable one so a runner bound to all addresses by mistake is not reachable"),
)

_OK = {
    "loopback": "%s (%s) listens on loopback only",
    "front_door": "%s is served by the front door %s",
    "allowed": "%s (%s) is open to the network, accepted by exposure_allowed",
}


def port_checks(listeners, ports, allowed=()):
    """One ``inference_port_exposed`` per listener on an inference port."""
    check = CHECKS["inference_port_exposed"]
    results = []
    for sock, what, how in parse.classify(listeners, ports, allowed):
        shown = parse.where(sock)
        proc = sock.get("process") or "unknown process"
        subject = {"address": sock["address"], "port": sock["port"]}
        if how in _OK:
            results.append(check.result("ok", shown, "loopback", _OK[how] % (shown, proc), subject=subject,
                                        process=sock.get("process")))
            continue
        bound = "all addresses" if sock["address"] in ("0.0.0.0", "::", "*", "") else sock["address"]
        hidden = "" if sock.get("process") else " (ss shows no process without root: run the audit with become: true " \
                                                "to tell a front door apart)"
        results.append(check.result("crit", shown, "loopback", "%s (%s, %s) listens on %s with no front door%s"
                                    % (shown, proc, what, bound, hidden), subject=subject, process=sock.get("process")))
    return results


def firewall_check(ufw, nft):
    """ok when ufw or an nftables input chain with policy drop is active; unknown when neither is and a
    tool could not be read (as a user, both need root); warn when both were read and neither is."""
    if (ufw.get("present") and ufw.get("active")) or (nft.get("input_policy") == "drop"):
        return CHECKS["firewall"].result("ok", "active", "active", "a host firewall is active")
    unread = ["%s: %s" % (name, state["reason"]) for name, state in (("ufw", ufw), ("nft", nft)) if state.get("reason")]
    if unread:
        return CHECKS["firewall"].unknown("the firewall state was not read (%s)" % "; ".join(unread), threshold="active",
                                          fix="run the audit as root (become: true)")
    return CHECKS["firewall"].result("warn", "inactive", "active", "no active host firewall (ufw inactive, no nftables "
                                     "input chain with policy drop)")


def evaluate(data, params):
    ports = parse.inference_ports(params.get("ports"))
    if data["listeners"] is None:
        results = [CHECKS["listening_sockets"].unknown("the listening sockets were not read: %s" % data["listeners_reason"])]
    else:
        results = port_checks(data["listeners"], ports, params.get("allowed") or ())
    results.append(firewall_check(data["firewall"]["ufw"], data["firewall"]["nftables"]))
    return results
