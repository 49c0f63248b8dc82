# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of health areas: every area the collection knows, in summary order.

The one place that says which fact an area sets, its options, checks, history readings, metrics
and summary lines (see ``_common/area.py``). ``health_facts`` gathers from it; the summary, the
report, the history, the alerts and the Prometheus export read it. Adding an area is one line in
:data:`AREAS`; a unit test walks every entry.

Areas not yet split into ``_areas/<name>/`` (parse, collect, checks, present) are described here
by their existing functions (``_legacy``); each moves into its own package in turn.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _health, _prom
from ansible_collections.gpufleet.maintenance.plugins.module_utils import (
    _backup,
    _benchmark_summary,
    _docker,
    _driver_stack,
    _exposure,
    _gpu_checks,
    _image_digest,
    _maintenance,
    _model_store,
    _smart_checks,
    _vram,
    _wsl,
)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.host import AREA as HOST
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.tls import AREA as TLS
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area

_THRESHOLDS = dict(type="dict", default={})


def _legacy(name, title, module, collect=None, present=None, metrics=None, options=None):
    return Area(name, title, module=module, collect=collect, present=present, metrics=metrics,
                options=options, readings=None)


AREAS = (
    HOST,
    _legacy("gpu", "gpu", "gpu_facts", _health._gpu, _gpu_checks.gpu_summary_lines, _prom.gpu_metrics, dict(
        source=dict(type="str", default="auto", choices=["auto", "nvml", "nvidia_smi", "none"]),
        nvidia_smi_path=dict(type="path"), amd_smi_path=dict(type="path"), rocm_smi_path=dict(type="path"),
        include_processes=dict(type="bool", default=False), timeout=dict(type="int", default=20),
        thresholds=_THRESHOLDS)),
    _legacy("docker", "docker", "docker_facts", _health._docker, _docker.docker_section, _prom.docker_metrics, dict(
        docker_host=dict(type="str"), timeout=dict(type="int", default=30),
        daemon_json=dict(type="path", default="/etc/docker/daemon.json"), thresholds=_THRESHOLDS)),
    _legacy("smart", "smart", "smart_facts", None, _smart_checks.smart_section, _prom.smart_metrics),
    _legacy("driver_stack", "driver stack", "driver_stack_facts", _health._driver_stack,
            _driver_stack.summary_section, None, dict(
                root=dict(type="path", default="/"), python_envs=dict(type="list", elements="path", default=[]),
                probe_containers=dict(type="bool", default=False), hold_patterns=dict(type="list", elements="str"),
                command_timeout_s=dict(type="int", default=30))),
    _legacy("models", "models", "model_manifest", None, _model_store.summary_section),
    _legacy("exposure", "exposure", "exposure_facts", _health._exposure, _exposure.summary_section, None, dict(
        ports=dict(type="dict"), allowed=dict(type="list", elements="str", default=[]),
        timeout=dict(type="int", default=20))),
    TLS,
    _legacy("backup", "backup", "backup_snapshot", None, _backup.summary_section),
    _legacy("maintenance", "maintenance", "maintenance_facts", _health._maintenance, _maintenance.summary_section,
            None, dict(
                collect=dict(type="list", elements="str"), since_days=dict(type="float", default=7),
                log_paths=dict(type="list", elements="path", default=[]), thresholds=_THRESHOLDS)),
    _legacy("wsl", "wsl", "wsl_facts", _health._wsl, _wsl.summary_section, None, dict(
        root=dict(type="path", default="/"), proc_version_path=dict(type="path", default="/proc/version"),
        nvidia_smi_path=dict(type="path"), cuda_init_timeout_s=dict(type="int", default=15),
        driver_package_patterns=dict(type="list", elements="str"), state_file=dict(type="path"))),
    _legacy("benchmark", "benchmark", "llm_probe", None, _benchmark_summary.benchmark_section,
            _prom.benchmark_metrics),
    _legacy("images", "images", "image_digest", _health._images, _image_digest.summary_section, None, dict(
        manifest=dict(type="path", default="/etc/gpufleet/images.yml"), check_remote=dict(type="bool", default=False),
        compose_files=dict(type="list", elements="path", default=[]), docker_host=dict(type="str"),
        timeout=dict(type="int", default=60))),
    _legacy("vram_guard", "vram guard", "vram_guard", None, _vram.summary_section),
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
