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
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


def collect(run_command, params, find=runner.find_tool):
    """``(data, warnings)``: listeners, the inference listeners exposed, the firewall state."""
    timeout = params["timeout"]
    warnings = []
    ss = find("ss")
    if not ss:
        raise AreaError("auditing listening sockets: ss not found (install iproute2)")
    try:
        rc, out, err = runner.run(run_command, [ss, "-ltnpH"], timeout=timeout)
    except runner.ToolError as exc:
        raise AreaError("auditing listening sockets: %s" % exc)
    if rc != 0:
        raise AreaError("auditing listening sockets: %s -ltnpH: %s" % (ss, err.strip()))

    def tool(name, args):
        path = find(name)
        if not path:
            return None, ""
        try:
            result = runner.run(run_command, [path] + args, timeout=timeout)
        except runner.ToolError as exc:
            warnings.append(str(exc))
            return None, ""
        return result.rc, result.stdout

    ufw_rc, ufw_out = tool("ufw", ["status"])
    nft_rc, nft_out = tool("nft", ["list", "ruleset"])
    listeners = parse.parse_ss(out)
    data = {
        "listeners": listeners,
        "exposed": parse.exposed(listeners, parse.inference_ports(params.get("ports")), params.get("allowed") or ()),
        "firewall": {"ufw": parse.parse_ufw(ufw_out, ufw_rc), "nftables": parse.parse_nft(nft_out, nft_rc)},
    }
    return data, warnings
