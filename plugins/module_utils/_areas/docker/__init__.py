# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``docker`` (fact ``gpufleet_docker``): the engine, the Docker root's use, disk use per
category, container logs and unpinned images."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import checks, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import Reading

_CATEGORIES = (
    ("images", ("total_bytes", "dangling_bytes", "unused_bytes")),
    ("containers", ("writable_bytes", "logs_bytes")),
    ("volumes", ("total_bytes", "unused_anonymous_bytes", "unused_named_bytes")),
    ("build_cache", ("total_bytes", "reclaimable_bytes")),
)

AREA = Area(
    "docker", "docker",
    summary="Docker engine, Docker root use, disk use per category, container logs and unpinned images",
    module="docker_facts",
    options=dict(
        docker_host=dict(type="str"),
        timeout=dict(type="int", default=30),
        daemon_json=dict(type="path", default=collect.DEFAULT_DAEMON_JSON),
        state_file=dict(type="path", default=collect.DEFAULT_STATE_FILE),
    ),
    ranges={"timeout": (1, None)},
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    metrics=present.metrics,
    readings=(
        Reading("root_fs.size_bytes"),
        Reading("root_fs.used_bytes"),
        Reading("root_fs.free_bytes"),
        Reading("root_fs.used_pct"),
        Reading("log_max_size_bytes"),
        Reading("containers[].writable_bytes", subject=("container", "name")),
        Reading("containers[].log_bytes", subject=("container", "name")),
    ) + tuple(Reading("disk_usage.%s.%s" % (category, key)) for category, keys in _CATEGORIES for key in keys),
)
