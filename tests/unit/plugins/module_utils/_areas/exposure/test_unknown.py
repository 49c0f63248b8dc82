"""Area exposure, issue 18: what could not be read is ``unknown`` with the reason and fix (real captures of
ss, ufw and nft run as root and as a user: tests/unit/fixtures/{ss,ufw,nft}/PROVENANCE.md)."""

import copy

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure import AREA, collect, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


def _read(fixture_path, *parts):
    with open(fixture_path(*parts)) as handle:
        return handle.read()


class Replay:
    """``run_command`` answering each tool (argv without the runner's ``timeout`` wrapper) from ``answers``."""

    def __init__(self, answers):
        self.answers = answers

    def __call__(self, argv, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
        argv = argv[4:] if argv[0].endswith("/timeout") else argv
        return self.answers[argv[0].rsplit("/", 1)[-1]]


def _gather(answers, tools=("ss", "ufw", "nft"), **params):
    area = copy.copy(AREA)
    area.collect = lambda run_command, p: collect.collect(run_command, p, find=lambda n: "/usr/sbin/" + n if n in tools else None)
    return area.gather(Replay(answers), AREA.validate(params))


def _by_check(fact):
    return dict((c["check"], c) for c in fact["checks"])


def test_as_root_every_part_is_read(fixture_path):
    fact, _warnings = _gather({"ss": (0, _read(fixture_path, "ss", "ss-ltnpH-root-netns.txt"), ""),
                               "ufw": (0, "Status: inactive\n", ""), "nft": (0, "", "")})
    assert fact["listeners_reason"] is None and [s["port"] for s in fact["exposed"]] == [7860, 11434]
    ports = dict((c["port"], c["status"]) for c in fact["checks"] if c["check"] == "inference_port_exposed")
    assert ports == {8000: "ok", 8080: "ok", 7860: "crit", 11434: "crit"}  # nginx fronts 8000; 8080 is loopback
    assert _by_check(fact)["firewall"]["status"] == "warn"  # read, and neither is active
    assert fact["firewall"]["nftables"] == {"present": True, "tables": [], "input_policy": None}


def test_as_a_user_the_firewall_is_unknown_and_the_processes_are_named_missing(fixture_path):
    fact, _warnings = _gather({"ss": (0, _read(fixture_path, "ss", "ss-ltnpH-not-root-netns.txt"), ""),
                               "ufw": (1, "", _read(fixture_path, "ufw", "ufw-status-not-root.stderr")),
                               "nft": (1, "", _read(fixture_path, "nft", "nft-list-ruleset-not-root.stderr"))})
    firewall = _by_check(fact)["firewall"]
    assert firewall["status"] == "unknown"
    assert firewall["message"] == (
        "could not look: the firewall state was not read (ufw: ERROR: You need to be root to run this script; "
        "nft: Operation not permitted (you must be root) netlink: Error: cache initialization failed: Operation "
        "not permitted): run the audit as root (become: true)")
    assert fact["firewall"]["ufw"] == {"present": True, "active": None,
                                       "reason": "ERROR: You need to be root to run this script"}
    # Without process names the nginx on 192.0.2.10:8000 cannot be told apart: exposed, and the message says why.
    ports = dict((c["port"], c) for c in fact["checks"] if c["check"] == "inference_port_exposed")
    assert ports[8000]["status"] == "crit" and "run the audit with become: true" in ports[8000]["message"]
    assert fact["status"] == "crit"


def test_an_active_firewall_read_by_one_tool_is_enough(fixture_path):
    ruleset = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n"
    fact, _warnings = _gather({"ss": (0, "", ""), "nft": (0, ruleset, ""),
                               "ufw": (1, "", _read(fixture_path, "ufw", "ufw-status-unprivileged-container.stderr"))})
    assert _by_check(fact)["firewall"]["status"] == "ok"


@pytest.mark.parametrize("tools, answers, reason", [
    (("ufw", "nft"), {"ufw": (0, "Status: active\n", ""), "nft": (0, "", "")}, "ss not found"),
    (("ss",), {"ss": (1, "", "Cannot open netlink socket: Protocol not supported\n")},
     "/usr/sbin/ss -ltnpH: Cannot open netlink socket: Protocol not supported"),
])
def test_listening_sockets_not_read_is_unknown_not_a_failed_module(tools, answers, reason):
    fact, _warnings = _gather(answers, tools=tools)
    assert fact["listeners"] is None and fact["exposed"] is None and fact["listeners_reason"] == reason
    check = _by_check(fact)["listening_sockets"]
    assert check["status"] == "unknown" and check["subject"] == {}
    assert check["message"].startswith("could not look: the listening sockets were not read: %s: install iproute2" % reason)
    assert "inference_port_exposed" not in _by_check(fact)
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure.present import summary_lines
    assert summary_lines(fact) == ["exposure: listening sockets not read (%s)" % reason]


@pytest.mark.parametrize("timeout", [0, -3])
def test_timeout_below_one_is_refused_naming_the_option(timeout):
    with pytest.raises(AreaError, match=r"^exposure: timeout must be at least 1 \(got %d\)$" % timeout):
        AREA.validate({"timeout": timeout})


def test_parse_keeps_what_the_tool_said():
    assert parse.parse_nft("", 1, "Operation not permitted (you must be root)\n") == {
        "present": True, "tables": None, "input_policy": None, "reason": "Operation not permitted (you must be root)"}
    assert parse.parse_ufw("", 1, "") == {"present": True, "active": None, "reason": "exit status 1"}
    assert parse.parse_ufw("Status: active\n", 0) == {"present": True, "active": True}
