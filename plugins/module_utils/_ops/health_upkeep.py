# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``health_upkeep``: the health areas (``_areas/gather.py``), then the log rotation
(``_ops/log_rotate.py``), in one process, so a cadence pays one round trip per host for both.

Every option is checked before anything is read or changed. The areas are gathered first: when the
rotation then fails, the error carries the facts, so the cadence's rescue keeps them for the report.
No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import gather
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import log_rotate


class UpkeepError(Exception):
    """Options refused, an area that failed, or a rotation that failed; ``results`` go into ``fail_json``
    (``ansible_facts`` among them once the areas were gathered)."""

    def __init__(self, message, results=None):
        super(UpkeepError, self).__init__(message)
        self.results = results or {}


def argument_spec():
    """``health_facts``' options (``areas`` and one dict per gathered area) and ``log_rotate``."""
    spec = gather.argument_spec()
    spec["log_rotate"] = dict(type="dict", options=log_rotate.ARGUMENT_SPEC)
    return spec


def run(run_command, params, check_mode=False, diff=False):
    """``(result, warnings)`` for ``exit_json``; raises :class:`UpkeepError`."""
    rotate = params.get("log_rotate")
    problems = log_rotate.check_options(rotate) if rotate is not None else []
    options = dict((area, params.get(area)) for area in registry.GATHERED)
    validated = None
    try:
        validated = gather.validate(params["areas"], options)
    except AreaError as exc:
        problems.insert(0, "gathering health facts: %s" % exc)
    if problems:
        raise UpkeepError("; ".join(problems))
    # validated once: on a host the options' check is part of every run's cost
    facts, warnings, errors, seconds = gather.gather_areas(run_command, params["areas"], options, validated=validated)
    if errors:
        raise UpkeepError("gathering health facts: %s" % "; ".join(errors), dict(ansible_facts=facts, seconds=seconds))
    result = dict(changed=False, ansible_facts=facts, seconds=seconds, log_rotate=None)
    if rotate is None:
        return result, warnings
    started = time.time()
    try:
        rotated, more = log_rotate.run(rotate, check_mode=check_mode, diff=diff)
    except log_rotate.RotateError as exc:
        raise UpkeepError(str(exc), dict(ansible_facts=facts, seconds=seconds, log_rotate=exc.results))
    seconds["log_rotate"] = round(time.time() - started, 3)
    warnings.extend("log_rotate: %s" % warning for warning in more)
    if "diff" in rotated:
        result["diff"] = rotated.pop("diff")
    result.update(changed=rotated.pop("changed"), log_rotate=rotated)
    return result, warnings
