# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of health areas: every area the collection knows, in summary order.

The one place that says which fact an area sets, its options, checks, history readings, metrics
and summary lines (see ``_common/area.py``). ``health_facts`` gathers from it; the summary, the
report, the history, the alerts and the Prometheus export read it. Adding an area is a name in
:data:`NAMES` (and in :data:`GATHERED` when ``health_facts`` collects it) and a branch in
:func:`_load`; a unit test walks every entry and checks both tables against the areas themselves.

Areas are imported when first asked for, not with this file: a ``health_facts`` run imports only the
areas it gathers (importing all nineteen and their parsers, the Docker SDK among them, cost a host
more than the Python start and ``ansible.module_utils.basic`` together; docs/performance.md).
AnsiballZ still packages every area, since it reads every import of this file, the ones inside
:func:`_load` and :func:`platform_gate` included (plain ``from ... import`` statements: keep them so).

An area limited to one platform by an option (:data:`PLATFORM_OPTIONS`: ``only_on_wsl``,
``only_on_macos``, ``only_on_proxmox``) has a platform gate beside its folder (``_areas/wsl_gate.py``
...: standard library only, no import of the area; the area's collector judges its platform with the
same functions). ``_areas/gather.py`` asks the gate before it imports the area: on a host of another
platform the area reads nothing more than what the gate read, its fact is None (:func:`fact_name`),
and its other options are not checked on that host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Every area, in summary order.
NAMES = (
    "host",
    "gpu",
    "docker",
    "smart",
    "driver_stack",
    "package_pin",
    "models",
    "model_updates",
    "exposure",
    "access",
    "tls",
    "backup",
    "maintenance",
    "wsl",
    "macos",
    "proxmox",
    "benchmark",
    "images",
    "vram_guard",
)

# The areas health_facts collects (the others' facts are set by a module that acts: pins, snapshots,
# the benchmark, the VRAM guard); also its ``areas`` choices.
GATHERED = (
    "host",
    "gpu",
    "docker",
    "smart",
    "driver_stack",
    "model_updates",
    "exposure",
    "access",
    "maintenance",
    "wsl",
    "macos",
    "proxmox",
    "images",
)

# Other names an area is known by in the cadence settings (gpufleet_daily_areas says llm).
ALIASES = {"llm": "benchmark"}
_FACT_PREFIX = "gpufleet_"
# The areas that an option limits to their platform, and that option: see platform_gate.
PLATFORM_OPTIONS = {"macos": "only_on_macos", "proxmox": "only_on_proxmox", "wsl": "only_on_wsl"}
_LOADED = {}


def _load(name):
    """Import the area ``name`` (one import per branch: a module run pays only for what it asks)."""
    if name == "access":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.access import AREA
    elif name == "backup":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import AREA
    elif name == "benchmark":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import AREA
    elif name == "docker":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import AREA
    elif name == "driver_stack":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import AREA
    elif name == "exposure":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure import AREA
    elif name == "gpu":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA
    elif name == "host":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.host import AREA
    elif name == "images":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images import AREA
    elif name == "macos":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos import AREA
    elif name == "maintenance":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance import AREA
    elif name == "model_updates":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.model_updates import AREA
    elif name == "models":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import AREA
    elif name == "package_pin":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.package_pin import AREA
    elif name == "proxmox":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.proxmox import AREA
    elif name == "smart":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import AREA
    elif name == "tls":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.tls import AREA
    elif name == "vram_guard":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.vram_guard import AREA
    elif name == "wsl":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import AREA
    else:
        raise KeyError("unknown area %r (known: %s)" % (name, ", ".join(sorted(NAMES))))
    return AREA


def platform_gate(name):
    """The platform gate of the area ``name`` (a key of :data:`PLATFORM_OPTIONS`): its ``may_apply(options)``,
    False only when this host is certainly not the area's platform, given the area's raw options. Imports
    the gate only (a few lines of standard library), never the area."""
    if name == "macos":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import macos_gate as gate
    elif name == "proxmox":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import proxmox_gate as gate
    elif name == "wsl":
        from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import wsl_gate as gate
    else:
        raise KeyError("area %r has no platform gate (those that have: %s)" % (name, ", ".join(sorted(PLATFORM_OPTIONS))))
    return gate.may_apply


def fact_name(name):
    """The fact that the area ``name`` sets (``gpufleet_<name>``), without importing it."""
    return _FACT_PREFIX + name


def fact_of(name):
    """The fact that the area called ``name`` (or one of its :data:`ALIASES`) sets, without importing the
    area (the controller maps area settings to facts per host: an import there is paid by every worker);
    KeyError names the known ones, as :func:`area` does."""
    resolved = ALIASES.get(name, name)
    if resolved not in NAMES:
        raise KeyError("unknown area %r (known: %s)" % (name, ", ".join(sorted(NAMES))))
    return fact_name(resolved)


def area(name):
    """The area called ``name`` (or one of its :data:`ALIASES`); KeyError names the known ones."""
    name = ALIASES.get(name, name)
    if name not in _LOADED:
        _LOADED[name] = _load(name)
    return _LOADED[name]


def known(name):
    """The area called exactly ``name`` (no alias), or None."""
    return area(name) if name in NAMES else None


def areas():
    """Every area, in summary order (imports them all: for listings and tests; the report and the summary
    import only the areas whose facts they are given, see :func:`present_in`)."""
    return tuple(area(name) for name in NAMES)


def present_in(facts):
    """The areas (in summary order) whose fact is a dict in ``facts`` (``{gpufleet_<area>: fact}``); imports
    only those: a daily's report on the controller loads its five areas, not all nineteen."""
    return tuple(area(name) for name in NAMES if isinstance(facts.get(fact_name(name)), dict))


def of_fact(fact_name):
    """The area that sets ``fact_name`` (``gpufleet_gpu``), or None."""
    if not isinstance(fact_name, str) or not fact_name.startswith(_FACT_PREFIX):
        return None
    name = fact_name[len(_FACT_PREFIX):]
    return area(name) if name in NAMES else None
