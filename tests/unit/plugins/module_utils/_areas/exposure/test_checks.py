"""Area exposure: the checks table, subjects and verdicts."""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure import AREA, checks, parse

LISTENERS = [
    {"address": "0.0.0.0", "port": 11434, "process": "ollama", "pid": 812},
    {"address": "::", "port": 11434, "process": "ollama", "pid": 812},
    {"address": "127.0.0.1", "port": 8080, "process": "llama-server", "pid": 901},
    {"address": "0.0.0.0", "port": 22, "process": "sshd", "pid": 5},
]


def test_each_listener_is_its_own_subject():
    found = checks.port_checks(LISTENERS, parse.DEFAULT_PORTS)
    assert [(r["check"], r["subject"], r["status"]) for r in found] == [
        ("inference_port_exposed", {"address": "127.0.0.1", "port": 8080}, "ok"),
        ("inference_port_exposed", {"address": "0.0.0.0", "port": 11434}, "crit"),
        ("inference_port_exposed", {"address": "::", "port": 11434}, "crit"),
    ]
    crit = found[1]
    assert crit["process"] == "ollama" and crit["value"] == "0.0.0.0:11434"
    assert crit["message"].startswith("0.0.0.0:11434 (ollama, Ollama) listens on all addresses with no front door: ")


def test_firewall_states():
    assert checks.firewall_check({"present": True, "active": True}, {"present": False})["status"] == "ok"
    assert checks.firewall_check({"present": False}, {"present": True, "input_policy": "drop"})["status"] == "ok"
    warn = checks.firewall_check({"present": True, "active": False}, {"present": True, "input_policy": "accept"})
    assert (warn["check"], warn["status"], warn["subject"]) == ("firewall", "warn", {})


def test_ports_option_is_checked_before_anything_runs():
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
    import pytest

    assert AREA.validate({"ports": {"11434": "Ollama"}})["ports"] == {"11434": "Ollama"}
    with pytest.raises(AreaError, match=r"^exposure: ports: keys must be port numbers, got \['ollama'\]$"):
        AREA.validate({"ports": {"ollama": "11434"}})
