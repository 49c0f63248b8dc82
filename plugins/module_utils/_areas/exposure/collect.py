# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the exposure area: ``ss -ltnpH``, ``ufw status`` and ``nft list ruleset`` through the runner.

I/O only; parsing is in ``parse.py``, verdicts in ``checks.py``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner


def listening_sockets(run_command, find, timeout):
    """``(listeners, reason)``: the listening TCP sockets, or None and why they could not be read."""
    ss = find("ss")
    if not ss:
        return None, "ss not found"
    try:
        rc, out, err = runner.run(run_command, [ss, "-ltnpH"], timeout=timeout)
    except runner.ToolError as exc:
        return None, str(exc)
    if rc != 0:
        return None, "%s -ltnpH: %s" % (ss, " ".join(err.split())[:200] or "exit status %s" % rc)
    return parse.parse_ss(out), None


def collect(run_command, params, find=runner.find_tool):
    """``(data, warnings)``: listeners, the inference listeners exposed, the firewall state; what could
    not be read is None (listeners) or carries a ``reason`` (ufw, nftables)."""
    timeout = params["timeout"]
    warnings = []
    listeners, reason = listening_sockets(run_command, find, timeout)

    def tool(name, args):
        path = find(name)
        if not path:
            return None, "", ""
        try:
            result = runner.run(run_command, [path] + args, timeout=timeout)
        except runner.ToolError as exc:
            return 1, "", str(exc)
        return result.rc, result.stdout, result.stderr

    ufw_rc, ufw_out, ufw_err = tool("ufw", ["status"])
    nft_rc, nft_out, nft_err = tool("nft", ["list", "ruleset"])
    ports = parse.inference_ports(params.get("ports"))
    data = {
        "listeners": listeners,
        "listeners_reason": reason,
        "exposed": None if listeners is None else parse.exposed(listeners, ports, params.get("allowed") or ()),
        "firewall": {"ufw": parse.parse_ufw(ufw_out, ufw_rc, ufw_err), "nftables": parse.parse_nft(nft_out, nft_rc, nft_err)},
    }
    return data, warnings
