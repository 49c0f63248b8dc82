# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several areas in one module run (``health_facts``): one round trip per host instead of one per area.

Options of every area are validated before anything is gathered; an area that fails while
gathering is reported in ``errors`` and the others still report. No Ansible import beyond the
areas' argument-spec validation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


def validate(areas, options=None):
    """``{area: validated options}`` for the areas asked for; raises AreaError before any I/O."""
    unknown = [name for name in areas if name not in registry.GATHERED]
    if unknown:
        raise AreaError("unknown area(s) %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(registry.GATHERED))))
    validated, errors = {}, []
    for name in areas:
        try:
            validated[name] = registry.area(name).validate((options or {}).get(name))
        except AreaError as exc:
            errors.append(str(exc))
    if errors:
        raise AreaError("; ".join(errors))
    return validated


def argument_spec():
    """The argument spec of a module that gathers areas: ``areas`` and one dict of options per gathered area."""
    spec = dict(areas=dict(type="list", elements="str", choices=sorted(registry.GATHERED), default=["host"]))
    spec.update((area, dict(type="dict", default={})) for area in registry.GATHERED)
    return spec


def gather_areas(run_command, areas, options=None, validated=None):
    """Gather every area in order; returns ``(facts, warnings, errors, seconds)``. ``validated``: what
    :func:`validate` returned for these areas, when the caller already checked the options."""
    per_area = validated if validated is not None else validate(areas, options)
    facts, warnings, errors, seconds = {}, [], [], {}
    for name in areas:
        area = registry.area(name)
        started = time.time()
        try:
            fact, more = area.gather(run_command, per_area[name])
        except AreaError as exc:
            errors.append(str(exc))
            continue
        seconds[name] = round(time.time() - started, 3)
        facts[area.fact] = fact
        warnings.extend("%s: %s" % (name, w) for w in more)
    return facts, warnings, errors, seconds
