# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of health areas: every area the collection knows, in summary order.

The one place that says which fact an area sets, its options, checks, history readings, metrics
and summary lines (see ``_common/area.py``). ``health_facts`` gathers from it; the summary, the
report, the history, the alerts and the Prometheus export read it. Adding an area is one line in
:data:`AREAS`; a unit test walks every entry.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.access import AREA as ACCESS
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import AREA as BACKUP
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import AREA as BENCHMARK
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import AREA as DOCKER
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import AREA as DRIVER_STACK
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.exposure import AREA as EXPOSURE
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA as GPU
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.host import AREA as HOST
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos import AREA as MACOS
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images import AREA as IMAGES
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance import AREA as MAINTENANCE
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.model_updates import AREA as MODEL_UPDATES
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import AREA as MODELS
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.package_pin import AREA as PACKAGE_PIN
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.proxmox import AREA as PROXMOX
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import AREA as SMART
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.tls import AREA as TLS
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.vram_guard import AREA as VRAM_GUARD
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import AREA as WSL

AREAS = (
    HOST,
    GPU,
    DOCKER,
    SMART,
    DRIVER_STACK,
    PACKAGE_PIN,
    MODELS,
    MODEL_UPDATES,
    EXPOSURE,
    ACCESS,
    TLS,
    BACKUP,
    MAINTENANCE,
    WSL,
    MACOS,
    PROXMOX,
    BENCHMARK,
    IMAGES,
    VRAM_GUARD,
)

# Other names an area is known by in the cadence settings (gpufleet_daily_areas says llm).
ALIASES = {"llm": "benchmark"}
BY_NAME = dict((area.name, area) for area in AREAS)
BY_FACT = dict((area.fact, area) for area in AREAS)
GATHERED = tuple(area.name for area in AREAS if area.collect is not None)


def area(name):
    """The area called ``name``; KeyError names the known ones."""
    try:
        return BY_NAME[ALIASES.get(name, name)]
    except KeyError:
        raise KeyError("unknown area %r (known: %s)" % (name, ", ".join(sorted(BY_NAME))))


def of_fact(fact_name):
    """The area that sets ``fact_name`` (``gpufleet_gpu``), or None."""
    return BY_FACT.get(fact_name)
