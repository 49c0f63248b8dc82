# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``vram_guard`` (fact ``gpufleet_vram_guard``), set by the operation module ``vram_guard``.

Not gathered by ``health_facts`` (no collector): the module reads the GPUs, decides and restarts
(``_ops/vram_guard.py``), then :func:`build_fact` shapes what happened into the fact.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.vram_guard import checks, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading

SERVICE_KINDS = ("systemd", "container")

AREA = Area(
    "vram_guard", "vram guard",
    summary="restarts the inference service when a GPU's VRAM stays at or above the threshold across two readings",
    module="vram_guard",
    options=dict(
        recheck_s=dict(type="int", default=60),
        services=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            kind=dict(type="str", choices=list(SERVICE_KINDS), default="systemd"),
        )),
        first_reading=dict(type="dict"),
        restart_timeout_s=dict(type="int", default=120),
        source=dict(type="str", choices=["auto", "nvml", "nvidia_smi"], default="auto"),
        nvidia_smi_path=dict(type="path"),
        amd_smi_path=dict(type="path"),
        rocm_smi_path=dict(type="path"),
        timeout=dict(type="int", default=20),
        docker_host=dict(type="str"),
    ),
    flat_thresholds=True,  # threshold_pct is a top-level option
    checks=checks.CHECKS,
    present=present.summary_lines,
    # The numbers the history recorded before areas declared their readings (subject gpu=<gpu>).
    readings=(
        Reading("threshold_pct"),
        Reading("recheck_s"),
        Reading("gpus[].used_pct", subject=("gpu", "gpu")),
        Reading("stayed[].used_pct", subject=("gpu", "gpu")),
        Reading("stayed[].first_pct", subject=("gpu", "gpu")),
        Reading("stayed[].second_pct", subject=("gpu", "gpu")),
        Reading("fell[].used_pct", subject=("gpu", "gpu")),
        Reading("fell[].first_pct", subject=("gpu", "gpu")),
        Reading("fell[].second_pct", subject=("gpu", "gpu")),
    ),
)


def build_fact(first, decision, restarts, threshold_pct, recheck_s, services, gpu_present, check_mode=False,
               unread=None):
    """The ``gpufleet_vram_guard`` fact with its checks.

    ``restarts``: ``[{name, kind, restarted, error}]`` of the services acted on (empty when none
    was restarted); ``gpu_present``: whether any GPU tooling answered; ``unread``: why the GPUs
    could not be read (the gpu area's ``gpu_present`` message), when they could not.
    """
    fact = {
        "schema_version": AREA.schema_version,
        "threshold_pct": threshold_pct,
        "recheck_s": recheck_s,
        "gpus": first,
        "stayed": decision["stayed"],
        "fell": decision["fell"],
        "restarts": restarts,
    }
    found = checks.evaluate(fact, {"services": services, "gpu_present": gpu_present, "check_mode": check_mode,
                                   "unread": unread})
    fact.update(checks=found, status=worst_status(found))
    return fact
