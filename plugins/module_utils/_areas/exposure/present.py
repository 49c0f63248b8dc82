# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the exposure area is shown: its summary line. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def summary_lines(fact):
    if fact.get("listeners_reason"):
        return ["exposure: listening sockets not read (%s)" % fact.get("listeners_reason")]
    exposed = ["%s:%s" % (s.get("address") or "*", s.get("port")) for s in fact.get("exposed") or []]
    firewall = next((c.get("value") for c in fact.get("checks") or [] if c.get("check") == "firewall"), None)
    return ["exposure: %s; firewall %s" % ("open to the network: " + ", ".join(exposed) if exposed
                                           else "no inference port open to the network", firewall or "n/a")]
