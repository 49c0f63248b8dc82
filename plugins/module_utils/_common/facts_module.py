# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of every single-area ``*_facts`` module: the area's spec, gather, one fact."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


def run_facts_module(area):
    """Run ``area`` as a module: its options are the module's, its fact the module's only fact."""
    module = AnsibleModule(argument_spec=area.argument_spec(), supports_check_mode=True)
    try:
        params = area.checked(module.params)
        fact, warnings = area.gather(module.run_command, params)
    except AreaError as exc:
        module.fail_json(msg="gathering %s facts: %s" % (area.name, exc))
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, ansible_facts={area.fact: fact})
