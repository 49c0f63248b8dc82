# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``model_manifest``: write a manifest of the model stores (scan), or verify them against it.

``scan`` gathers (walks and hashes through the models area's ``collect``), plans (the manifest text
against the file on disk: ``changed`` when they differ) and applies in one atomic write; the serving
entries (``serving``) are the option's, else the ones the manifest already had. ``verify`` reads and
judges through the models area (``gpufleet_models``), with ``vram_headroom`` for the serving entries
(the option's, else the manifest's) against the GPU memory in ``gpu_facts``. The hash cache is written after
either, outside check mode. :func:`run` is what the module calls. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import AREA, build_fact
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import collect, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import atomic_write, read_text


class ManifestError(Exception):
    """The options are wrong or a file could not be read or written: the module fails with this message."""


def check_paths(params):
    """Problems with the paths (each a sentence naming the path); empty when fine."""
    problems = []
    for root in params["roots"]:
        if not os.path.isdir(root):
            problems.append("model store %s does not exist or is not a directory" % root)
    if not os.path.isdir(os.path.dirname(params["manifest"]) or "."):
        problems.append("the directory of the manifest %s does not exist" % params["manifest"])
    return problems


def read_manifest(path):
    """The manifest at ``path``; :class:`ManifestError` when it is missing, unreadable or not JSON."""
    try:
        text = read_text(path)
    except (IOError, OSError) as exc:
        raise ManifestError("reading the manifest %s: %s" % (path, exc))
    if text is None:
        raise ManifestError("no manifest at %s: run model_manifest with mode=scan first" % path)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ManifestError("the manifest %s is not valid JSON: %s" % (path, exc))


def _serving_of(text):
    """The serving entries of a manifest's text, kept across a scan that does not give them (none if unreadable)."""
    try:
        serving = json.loads(text).get("serving") if text else None
    except (ValueError, AttributeError):
        return None
    return serving if isinstance(serving, list) else None


def _write(path, text):
    try:
        atomic_write(path, text)
    except (IOError, OSError) as exc:
        raise ManifestError("writing %s: %s" % (path, exc))


def run(params, check_mode=False, diff=False, now=None):
    """``(result, warnings)`` of one module run; raises :class:`ManifestError` (and ``AreaError`` as one)."""
    try:
        params = AREA.checked(params)
    except AreaError as exc:
        raise ManifestError(str(exc))
    problems = check_paths(params)
    if problems:
        raise ManifestError("; ".join(problems))
    cache_path = params["cache"] or params["manifest"] + ".hashcache.json"
    cache, warnings = collect.load_cache(cache_path)
    max_bytes = params["max_bytes_per_run"] or None
    if params.get("now") is not None:
        now = params["now"]
    if now is None:
        now = time.time()
    stale_before = now - params["rehash_days"] * 86400 if params.get("rehash_days") else None
    if params["mode"] == "scan":
        manifest, more = collect.scan(params["roots"], cache, full=params["full"], max_bytes=max_bytes, now=now)
        try:
            before = read_text(params["manifest"], missing="")
        except (IOError, OSError) as exc:
            raise ManifestError("reading the manifest %s: %s" % (params["manifest"], exc))
        serving = params["serving"] if params["serving"] is not None else _serving_of(before)
        if serving:
            manifest["serving"] = parse.serving_entries(serving)
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        changed = text != before
        result = dict(changed=changed, manifest=manifest)
        if changed and diff:
            result["diff"] = dict(before=before, after=text, before_header=params["manifest"], after_header=params["manifest"])
        if changed and not check_mode:
            _write(params["manifest"], text)
    else:
        manifest = read_manifest(params["manifest"])
        observed, more = collect.observe(manifest, params["roots"], cache, full=params["full"], max_bytes=max_bytes, now=now,
                                         stale_before=stale_before)
        serving = params["serving"] if params["serving"] is not None else manifest.get("serving")
        fact = build_fact(observed, params["manifest"], serving=parse.serving_entries(serving),
                          gpu_fact=params["gpu_facts"], thresholds=params["thresholds"])
        result = dict(changed=False, ansible_facts={AREA.fact: fact})
    if not check_mode:
        try:
            collect.save_cache(cache_path, cache)
        except (IOError, OSError) as exc:
            raise ManifestError("writing %s: %s" % (cache_path, exc))
    result.update(hashed_bytes=cache.hashed_bytes, hashed_files=cache.hashed_files)
    return result, warnings + more
