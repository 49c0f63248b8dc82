# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``smart`` (fact ``gpufleet_smart``): drive health, wear, data written and the days until the rated TBW."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import checks, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading

DEFAULT_CRITICAL_PATHS = ["/var/lib/docker", "/var/lib/ollama", "~/.ollama", "/srv", "~/.cache/huggingface"]
_DRIVE = ("device", "name")


def _drive(path, summary=""):
    return Reading("devices[].%s" % path, subject=_DRIVE, summary=summary)


AREA = Area(
    "smart", "smart",
    summary="SSD/HDD health, wear, data written and the days until the rated TBW (smartctl, pySMART)",
    module="smart_facts",
    options=dict(
        devices=dict(type="list", elements="str"),
        smartctl_path=dict(type="path"),
        timeout=dict(type="int", default=60),
        wake=dict(type="bool", default=False),
        critical_paths=dict(type="list", elements="str", default=list(DEFAULT_CRITICAL_PATHS)),
        rated_tbw=dict(type="dict", default={}),
        previous=dict(type="dict"),
        now=dict(type="int"),
    ),
    # timeout 0 would run smartctl without a time limit (a hung drive stalls the play); below 0 read nothing.
    ranges={"timeout": (1, None)},
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    metrics=present.metrics,
    readings=(
        Reading("collected_epoch_s", summary="when the drives were read: the time base of rates"),
        _drive("temperature_c"),
        _drive("power_on_hours"),
        _drive("power_cycles"),
        _drive("unsafe_shutdowns"),
        _drive("critical_warning"),
        _drive("media_errors"),
        _drive("error_log_entries"),
        _drive("percentage_used"),
        _drive("available_spare_pct"),
        _drive("available_spare_threshold_pct"),
        _drive("capacity_bytes"),
        _drive("data_written_bytes"),
        _drive("wear_pct_used"),
        _drive("reallocated_sectors"),
        _drive("pending_sectors"),
        _drive("crc_errors"),
        _drive("rated_tbw"),
        _drive("tbw_used_pct"),
        _drive("write_rate_bytes_per_day"),
        _drive("projected_days_to_rated_tbw"),
        _drive("self_tests.short.age_hours"),
        _drive("self_tests.long.age_hours"),
    ),
)
