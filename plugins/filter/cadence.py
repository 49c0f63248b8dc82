# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the cadence playbooks: tls_fact, fleet_facts, cadence_sections."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _cadence

CADENCES = ("daily", "weekly", "monthly", "quarterly", "annual", "adhoc")


def tls_fact(results, warn_days=21, crit_days=7):
    """``get_certificate`` loop results → the ``gpufleet_tls`` fact."""
    if results is None:
        results = []
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise AnsibleFilterError("tls_fact expects the list of get_certificate loop results (register: x; x.results)")
    try:
        warn_days, crit_days = float(warn_days), float(crit_days)
    except (TypeError, ValueError):
        raise AnsibleFilterError("tls_fact: warn_days and crit_days must be numbers, got %r and %r" % (warn_days, crit_days))
    if crit_days > warn_days:
        raise AnsibleFilterError("tls_fact: crit_days (%s) must not exceed warn_days (%s)" % (crit_days, warn_days))
    return _cadence.tls_fact(results, warn_days, crit_days)


def fleet_facts(hosts, hostvars, names=None):
    """``[host]`` → ``{host: {gpufleet_x: fact}}`` from ``hostvars`` (only ``names`` when given)."""
    if isinstance(hosts, str) or not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("fleet_facts expects a list of host names (ansible_play_hosts), got %s" % type(hosts).__name__)
    wanted = set(names or [])
    result = {}
    for host in hosts:
        try:
            host_vars = hostvars[host]
            facts = dict(host_vars.get("ansible_facts") or {})
            # Facts set with set_fact (gpufleet_tls) are host variables: taken when named.
            for name in wanted:
                if name not in facts and isinstance(host_vars.get(name), dict):
                    facts[name] = host_vars.get(name)
        except (KeyError, TypeError, AttributeError):
            raise AnsibleFilterError("fleet_facts: no host variables for %r (pass hostvars as the first argument)" % host)
        result[host] = dict((key, value) for key, value in facts.items()
                            if key.startswith("gpufleet_") and isinstance(value, dict) and (not wanted or key in wanted))
    return result


def cadence_sections(history, cadence, hosts=None, options=None):
    """The report sections of a cadence from the history answer."""
    if cadence not in CADENCES:
        raise AnsibleFilterError("cadence_sections: cadence must be one of %s, not %r" % (", ".join(CADENCES), cadence))
    if history is not None and not isinstance(history, dict):
        raise AnsibleFilterError("cadence_sections expects the history answer (a dict), got %s" % type(history).__name__)
    if options is not None and not isinstance(options, dict):
        raise AnsibleFilterError("cadence_sections: options must be a dict, got %s" % type(options).__name__)
    return _cadence.sections(cadence, history, hosts, options)


class FilterModule(object):
    """Cadence filters."""

    def filters(self):
        return {
            "tls_fact": tls_fact,
            "fleet_facts": fleet_facts,
            "cadence_sections": cadence_sections,
        }
