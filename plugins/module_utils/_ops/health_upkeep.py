# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``health_upkeep``: the health areas (``_areas/gather.py``), then the LLM health probe
(``llm``: the benchmark area's probe, ``_areas/benchmark``), the restart on VRAM exhaustion
(``vram_restart``: ``_ops/vram_guard.py``, given the run's own GPU reading) and the log rotation
(``_ops/log_rotate.py``), in one process, so a cadence pays one round trip per host for all of them
(each was a task per host, skipped or not, before; docs/fleet.md, Scale).

Every option is checked before anything is read or changed (an area gated off by its ``only_on_*``
option on a host of another platform is neither read nor checked there; ``_areas/gather.py``). The areas
are gathered first: when a later step then fails, the error carries the facts, so the cadence's rescue
keeps them for the report.
The probe's and the guard's code is imported only when asked for (a host pays for compiling what it
imports). No Ansible import beyond the areas' argument-spec validation.
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
    """``health_facts``' options (``areas`` and one dict per gathered area), ``llm``, ``vram_restart``
    and ``log_rotate``. ``llm`` and ``vram_restart`` are checked by their areas' own specs (:func:`run`)."""
    spec = gather.argument_spec()
    spec["llm"] = dict(type="dict")
    spec["vram_restart"] = dict(type="dict")
    spec["log_rotate"] = dict(type="dict", options=log_rotate.ARGUMENT_SPEC)
    return spec


def _llm_options(options):
    """The validated options of the LLM health probe (the llm_probe module's), or raises AreaError."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import AREA as BENCHMARK
    params = BENCHMARK.validate(options)
    if not (params.get("model") or "").strip():
        raise AreaError("model is empty: set it to the model the runner at %s serves" % params["endpoint"])
    if params["timeout_s"] <= 0:
        raise AreaError("timeout_s must be above 0 (got %s)" % params["timeout_s"])
    if not params["prompts"]:
        raise AreaError("prompts must name at least one prompt")
    return params


def _vram_options(options):
    """The validated options of the restart on VRAM exhaustion (the vram_guard module's), or raises AreaError."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.vram_guard import AREA as VRAM_GUARD
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import vram_guard
    params = VRAM_GUARD.validate(options)
    problems = vram_guard.check_options(params)
    missing = vram_guard.missing_sdk(params) if not problems else None
    if problems or missing:
        raise AreaError("; ".join(problems) or missing)
    return params


def _probe(run_command, params, facts, warnings, check_mode):  # pylint: disable=unused-argument
    """The LLM health probe, with the GPU load and context read from this run's gpu fact: ``(False, the
    gpufleet_benchmark fact)`` (mode health). The probe runs in check mode too (it changes nothing)."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import build_fact, gpu_context
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import collect
    busy_pct, context = gpu_context(facts.get("gpufleet_gpu"))
    params = dict(params, context=dict(context, **(params.get("context") or {})))
    if params.get("gpu_busy_pct") is None:
        params["gpu_busy_pct"] = busy_pct
    try:
        probe, more = collect.run(params, check_mode=False)
    except ValueError as exc:
        raise AreaError("llm: %s" % exc)
    warnings.extend("llm: %s" % warning for warning in more)
    return False, build_fact("health", probe)


def _restart_on_vram(run_command, params, facts, warnings, check_mode):
    """The restart on VRAM exhaustion with this run's GPU reading: ``(changed, gpufleet_vram_guard fact)``."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import vram_guard
    if params.get("first_reading") is None and facts.get("gpufleet_gpu") is not None:
        params = dict(params, first_reading=facts["gpufleet_gpu"])
    changed, fact, more = vram_guard.guard(run_command, params, check_mode=check_mode)
    warnings.extend("vram_restart: %s" % warning for warning in more)
    return changed, fact


# The steps after the areas, in order: option, its check (before anything is read), what it does
# (``(changed, fact)``) and the fact it sets.
_STEPS = (
    ("llm", _llm_options, _probe, "gpufleet_benchmark"),
    ("vram_restart", _vram_options, _restart_on_vram, "gpufleet_vram_guard"),
)


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
    steps = []
    for key, check, apply_step, fact_name in _STEPS:
        if not params.get(key):   # not given, or {} (the roles' default): no probe, no restart
            continue
        try:
            steps.append((key, check(params[key]), apply_step, fact_name))
        except AreaError as exc:
            problems.append("%s: %s" % (key, exc))
    if problems:
        raise UpkeepError("; ".join(problems))
    # validated once: on a host the options' check is part of every run's cost
    facts, warnings, errors, seconds = gather.gather_areas(run_command, params["areas"], options, validated=validated)
    if errors:
        raise UpkeepError("gathering health facts: %s" % "; ".join(errors), dict(ansible_facts=facts, seconds=seconds))
    result = dict(changed=False, ansible_facts=facts, seconds=seconds, log_rotate=None)
    for key, step_params, apply_step, fact_name in steps:
        started = time.time()
        try:
            changed, facts[fact_name] = apply_step(run_command, step_params, facts, warnings, check_mode)
        except AreaError as exc:
            raise UpkeepError(str(exc), dict(ansible_facts=facts, seconds=seconds))
        result["changed"] = result["changed"] or changed
        seconds[key] = round(time.time() - started, 3)
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
    rotated_changed = rotated.pop("changed")
    result.update(changed=result["changed"] or rotated_changed, log_rotate=rotated)
    return result, warnings
