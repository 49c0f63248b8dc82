# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several areas in one module run (``health_facts``): one round trip per host instead of one per area.

Options of every area are validated before anything is gathered; an area that fails while
gathering is reported in ``errors`` and the others still report. No Ansible import beyond the
areas' argument-spec validation.

An area limited to its platform (``only_on_wsl``, ``only_on_macos``, ``only_on_proxmox`` true, the
boolean, in its raw options; ``registry.PLATFORM_OPTIONS``) is first put to its platform gate
(``registry.platform_gate``), before it is imported and before its options are validated: on a host
that is certainly not that platform (``/proc/version`` read and not WSL's; the kernel name not
Darwin; no ``/etc/pve`` and no QEMU/KVM DMI strings) the area reads nothing more, its fact is None
("not reported", what the area itself sets there) and its other options are not checked on that
host. Where the gate cannot tell (a kernel string that cannot be read, a ``root`` it cannot judge),
the area is imported, validated and gathered as any other.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError


class GatedOff(object):
    """What :func:`validate` gives for an area its platform gate left out on this host (no options: they
    were not checked); ``seconds``: what asking the gate took."""

    __slots__ = ("seconds",)

    def __init__(self, seconds):
        self.seconds = seconds


def gated_off(name, options):
    """Whether the area ``name`` is left out on this host: its raw ``options`` set its only_on_* option
    (the boolean true) and its platform gate says this host is certainly not that platform. Imports
    the gate, never the area; the gate reads a file or two (``/proc/version``; ``/etc/pve`` and DMI)."""
    option = registry.PLATFORM_OPTIONS.get(name)
    if option is None or not isinstance(options, dict) or options.get(option) is not True:
        return False
    return not registry.platform_gate(name)(options)


def validate(areas, options=None):
    """``{area: validated options}`` for the areas asked for; raises AreaError before any I/O but the
    platform gates' (a :class:`GatedOff` for an area a gate left out: neither imported nor validated)."""
    unknown = [name for name in areas if name not in registry.GATHERED]
    if unknown:
        raise AreaError("unknown area(s) %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(registry.GATHERED))))
    validated, errors = {}, []
    for name in areas:
        given = (options or {}).get(name)
        started = time.time()
        if gated_off(name, given):
            validated[name] = GatedOff(time.time() - started)
            continue
        try:
            validated[name] = registry.area(name).validate(given)
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
    :func:`validate` returned for these areas, when the caller already checked the options (an area it
    gave a :class:`GatedOff` sets its fact None here, and its seconds are the gate's)."""
    per_area = validated if validated is not None else validate(areas, options)
    facts, warnings, errors, seconds = {}, [], [], {}
    for name in areas:
        if isinstance(per_area[name], GatedOff):
            # not this area's platform (validate asked the gate): None, as the area itself would set
            facts[registry.fact_name(name)] = None
            seconds[name] = round(per_area[name].seconds, 3)
            continue
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
