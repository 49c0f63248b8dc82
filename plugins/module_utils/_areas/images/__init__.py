# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Area ``images`` (fact ``gpufleet_images``): the audit of the image pin manifest against the
engine and, with ``check_remote``, the registry (``image_digest mode=audit`` as a health area)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images import checks, collect, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area

DEFAULT_MANIFEST = "/etc/gpufleet/images.yml"

AREA = Area(
    "images", "images",
    summary="image digest pins audited against the engine and the registry",
    module="image_digest",
    options=dict(
        manifest=dict(type="path", default=DEFAULT_MANIFEST),
        check_remote=dict(type="bool", default=False),
        compose_files=dict(type="list", elements="path", default=[]),
        docker_host=dict(type="str"),
        timeout=dict(type="int", default=60),
    ),
    ranges={"timeout": (1, None)},
    checks=checks.CHECKS,
    collect=collect.collect,
    evaluate=checks.evaluate,
    present=present.summary_lines,
    readings=(),  # no numeric readings: digests, statuses and names
)
