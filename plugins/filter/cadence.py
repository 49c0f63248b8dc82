# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the cadence playbooks: area_facts, tls_fact, fleet_facts, step_failures, cadence_sections, smart_previous."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import CADENCES
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry as _registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import tls as _tls
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import parse as _smart_parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _sections


def area_facts(areas):
    """Area names (``[host, gpu, llm]``) → the facts they set (``[gpufleet_host, gpufleet_gpu, gpufleet_benchmark]``)."""
    if isinstance(areas, str) or not isinstance(areas, (list, tuple)):
        raise AnsibleFilterError("area_facts expects a list of area names, got %s" % type(areas).__name__)
    try:
        return [_registry.fact_of(name) for name in areas]
    except KeyError as exc:
        raise AnsibleFilterError("area_facts: %s" % exc.args[0])


def tls_fact(results, warn_days=21, crit_days=7):
    """``get_certificate`` loop results → the ``gpufleet_tls`` fact."""
    if results is None:
        results = []
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise AnsibleFilterError("tls_fact expects the list of get_certificate loop results (register: x; x.results)")
    try:
        params = _tls.AREA.validate(dict(results=results, warn_days=warn_days, crit_days=crit_days))
    except AreaError as exc:
        raise AnsibleFilterError("tls_fact: %s" % exc)
    return _tls.build(params)


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


def step_failures(hosts, hostvars):
    """``[host]`` → ``{host: "task: message"}`` of the hosts whose cadence step failed (``fleet_report_step_failure``)."""
    if isinstance(hosts, str) or not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("step_failures expects a list of host names (ansible_play_hosts), got %s" % type(hosts).__name__)
    result = {}
    for host in hosts:
        try:
            failure = hostvars[host].get("fleet_report_step_failure")
        except (KeyError, TypeError, AttributeError):
            raise AnsibleFilterError("step_failures: no host variables for %r (pass hostvars as the first argument)" % host)
        if failure:
            result[host] = str(failure)
    return result


def cadence_sections(history, cadence, hosts=None, options=None):
    """The report sections of a cadence from the history answer."""
    if cadence not in CADENCES:
        raise AnsibleFilterError("cadence_sections: cadence must be one of %s, not %r" % (", ".join(CADENCES), cadence))
    if history is not None and not isinstance(history, dict):
        raise AnsibleFilterError("cadence_sections expects the history answer (a dict), got %s" % type(history).__name__)
    if options is not None and not isinstance(options, dict):
        raise AnsibleFilterError("cadence_sections: options must be a dict, got %s" % type(options).__name__)
    return _sections.sections(cadence, history, hosts, options)


def smart_previous(last):
    """The ``history`` action's newest readings of one host → the ``previous`` of smart_facts."""
    if last is None:
        return {}
    if not isinstance(last, dict):
        raise AnsibleFilterError("smart_previous expects the history's last readings of one host "
                                 "(history.last[inventory_hostname]), got %s" % type(last).__name__)
    return _smart_parse.previous_from_history(last)


class FilterModule(object):
    """Cadence filters."""

    def filters(self):
        return {
            "area_facts": area_facts,
            "tls_fact": tls_fact,
            "fleet_facts": fleet_facts,
            "step_failures": step_failures,
            "cadence_sections": cadence_sections,
            "smart_previous": smart_previous,
        }
