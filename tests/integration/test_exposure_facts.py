"""exposure_facts through the real ansible, ss, nft and ufw when it may not read everything (issue 18).

Inside ``unshare --user --map-root-user`` the module runs as root of a user namespace that does not own
the machine's network namespace: nft refuses ("Operation not permitted (you must be root)") and ss shows
no processes, exactly as for a user without ``become``. With ss hidden (a private mount namespace binds
/dev/null over it), the listening sockets cannot be read. Neither fails the module, and neither is ok.
"""

import shutil

import pytest

from testlib.ansible_run import run_module
from testlib.system import apt_ensure

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _tools():
    apt_ensure("iproute2", "nftables", "util-linux")


def _checks(result):
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_exposure"]
    return fact, dict((c["check"], c) for c in fact["checks"] if c["check"] != "inference_port_exposed")


def test_without_privileges_the_firewall_is_unknown_with_the_reason():
    fact, found = _checks(run_module("gpufleet.maintenance.exposure_facts", prefix=["unshare", "--user", "--map-root-user"]))
    assert fact["listeners"] is not None and fact["listeners_reason"] is None
    assert all(sock["process"] is None for sock in fact["listeners"])  # ss -p sees no process without privileges
    assert fact["firewall"]["nftables"]["reason"] == ("Operation not permitted (you must be root) netlink: Error: "
                                                      "cache initialization failed: Operation not permitted")
    assert found["firewall"]["status"] == "unknown" and "become: true" in found["firewall"]["message"]
    assert fact["status"] in ("unknown", "crit")  # crit only if an inference port is open on this machine


def test_without_ss_the_listening_sockets_are_unknown_not_a_failure():
    ss = shutil.which("ss")
    hide = ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount --bind /dev/null "%s"; exec "$@"' % ss, "sh"]
    fact, found = _checks(run_module("gpufleet.maintenance.exposure_facts", prefix=hide))
    assert fact["listeners"] is None and fact["exposed"] is None and fact["listeners_reason"] == "ss not found"
    assert found["listening_sockets"]["status"] == "unknown"
    assert "install iproute2" in found["listening_sockets"]["message"]


@pytest.mark.parametrize("timeout", [0, -3])
def test_a_timeout_below_one_fails_naming_the_option(timeout):
    result = run_module("gpufleet.maintenance.exposure_facts", {"timeout": timeout})
    assert result["failed"] is True
    assert result["msg"] == "gathering exposure facts: exposure: timeout must be at least 1 (got %d)" % timeout
