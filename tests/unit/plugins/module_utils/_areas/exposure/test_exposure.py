import copy

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure.checks import port_checks
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure.parse import (
    DEFAULT_PORTS,
    exposed as exposed_of,
    parse_nft,
    parse_ss,
    parse_ufw,
    split_address,
)


def audit(listeners, ports=None, allowed=()):
    """The ``inference_port_exposed`` checks and the exposed listeners, as the area computes them."""
    ports = dict(DEFAULT_PORTS if ports is None else ports)
    return port_checks(listeners, ports, allowed), exposed_of(listeners, ports, allowed)


def build_fact(listeners, ufw, nft, ports=None, allowed=()):
    """The ``gpufleet_exposure`` fact from parsed readings (what ``AREA.gather`` builds after collecting)."""
    def collect(run_command, params):
        return {"listeners": listeners, "exposed": audit(listeners, ports, allowed)[1],
                "firewall": {"ufw": ufw, "nftables": nft}}, []

    area = copy.copy(AREA)
    area.collect = collect
    return area.gather(None, AREA.validate({"ports": ports, "allowed": list(allowed)}))[0]


# ss -ltnpH as iproute2 6.1 prints it (Debian 12), with and without process columns.
SS = """LISTEN 0      4096       0.0.0.0:11434      0.0.0.0:*    users:(("ollama",pid=812,fd=3))
LISTEN 0      511      127.0.0.1:8080       0.0.0.0:*    users:(("llama-server",pid=901,fd=7))
LISTEN 0      511        0.0.0.0:443        0.0.0.0:*    users:(("nginx",pid=77,fd=6),("nginx",pid=76,fd=6))
LISTEN 0      511           [::]:7860          [::]:*    users:(("python3",pid=1200,fd=9))
LISTEN 0      128     127.0.0.53%lo:53      0.0.0.0:*    users:(("systemd-resolve",pid=500,fd=14))
LISTEN 0      4096             *:8000             *:*
LISTEN 0      511    192.168.1.10:5000      0.0.0.0:*    users:(("nginx",pid=78,fd=7))
"""


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1:8080", ("127.0.0.1", 8080)),
    ("[::1]:11434", ("::1", 11434)),
    ("*:8000", ("*", 8000)),
    ("127.0.0.53%lo:53", ("127.0.0.53", 53)),
    ("[fe80::1%eth0]:22", ("fe80::1", 22)),
])
def test_split_address(text, expected):
    assert split_address(text) == expected


def test_parse_ss():
    listeners = parse_ss(SS)
    assert listeners[0] == {"address": "0.0.0.0", "port": 11434, "process": "ollama", "pid": 812}
    assert listeners[5] == {"address": "*", "port": 8000, "process": None, "pid": None}
    assert len(listeners) == 7


def test_audit_flags_only_unfronted_inference_ports_beyond_loopback():
    checks, exposed = audit(parse_ss(SS))
    by_port = dict((c["port"], c) for c in checks)
    assert sorted(by_port) == [5000, 7860, 8000, 8080, 11434]
    assert by_port[11434]["status"] == "crit" and "anyone" in by_port[11434]["message"]
    assert "OLLAMA_HOST=127.0.0.1:11434" in by_port[11434]["message"]
    assert by_port[8080]["status"] == "ok"  # loopback only
    assert by_port[5000]["status"] == "ok"  # nginx is the front door
    assert by_port[7860]["status"] == "crit" and by_port[8000]["status"] == "crit"
    assert sorted(s["port"] for s in exposed) == [7860, 8000, 11434]


def test_allowed_and_custom_ports():
    checks, exposed = audit(parse_ss(SS), ports={11434: "Ollama"}, allowed=["0.0.0.0:11434"])
    assert [c["status"] for c in checks] == ["ok"] and exposed == []


@pytest.mark.parametrize("text, rc, expected", [
    ("Status: active\n\nTo Action From\n", 0, {"present": True, "active": True}),
    ("Status: inactive\n", 0, {"present": True, "active": False}),
    ("", None, {"present": False, "active": None}),
])
def test_parse_ufw(text, rc, expected):
    assert parse_ufw(text, rc) == expected


def test_parse_nft_and_firewall_status():
    ruleset = ("table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
               "\t\tct state established,related accept\n\t}\n}\n")
    nft = parse_nft(ruleset, 0)
    assert nft == {"present": True, "tables": ["inet filter"], "input_policy": "drop"}
    fact = build_fact([], {"present": False, "active": None}, nft)
    assert fact["status"] == "ok"
    fact = build_fact(parse_ss(SS), {"present": True, "active": False}, parse_nft("", 0))
    assert fact["status"] == "crit"
    assert [c["status"] for c in fact["checks"] if c["check"] == "firewall"] == ["warn"]


def test_exposure_allowed_reaches_the_verdict_of_the_gathered_fact():
    # Ollama on 0.0.0.0:11434 is crit (no front door) unless exposure_allowed names it; the option must
    # reach the verdict through the area's evaluate, not only port_checks called by hand.
    ufw = {"present": True, "active": True}
    crit = build_fact(parse_ss(SS), ufw, parse_nft("", 0), ports={11434: "Ollama"})
    assert [c["status"] for c in crit["checks"] if c["check"] == "inference_port_exposed"] == ["crit"]
    allowed = build_fact(parse_ss(SS), ufw, parse_nft("", 0), ports={11434: "Ollama"}, allowed=["0.0.0.0:11434"])
    assert [c["status"] for c in allowed["checks"] if c["check"] == "inference_port_exposed"] == ["ok"]
    assert allowed["status"] == "ok"
