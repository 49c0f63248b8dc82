# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what the pin audit compares: the manifest, Compose files, the engine's images and
containers and (with ``check_remote``) the registry's answers. ``image_digest`` reads the same way.

I/O only (through ``_tools/docker.py``); comparison in ``audit.py``, verdicts in ``checks.py``.
No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images import audit, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import read_text
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import docker as engine


def read_compose(paths, read_file=read_text):
    """``(unpinned services, errors)`` of the Compose files at ``paths`` (a missing file is an error)."""
    texts = [(path, read_file(path)) for path in paths or []]
    unpinned, errors = parse.scan_compose([(path, text) for path, text in texts if text is not None])
    errors.extend("%s: file not found" % path for path, text in texts if text is None)
    return unpinned, errors


def engine_state(client):
    """``(images, containers)`` of the engine, each container with its configured image."""
    images = engine.call("listing images", client.images)
    containers = engine.add_configured_image(client, engine.call("listing containers", client.containers, all=True))
    return images, containers


def remote_answer(client, entry):
    """``{digest, kind, pinned_kind, error}`` from the registry for one manifest entry."""
    try:
        tag_desc = engine.registry_descriptor(client, entry["image"])
    except engine.EngineError as exc:
        return {"digest": None, "kind": None, "pinned_kind": None,
                "error": "%s: the registry did not answer for the tag: %s" % (entry["image"], exc.error)}
    answer = {"digest": tag_desc.get("digest"), "kind": parse.media_kind(tag_desc.get("mediaType")),
              "pinned_kind": None, "error": None}
    if answer["digest"] and answer["digest"] != entry["digest"]:
        try:
            pinned_desc = engine.registry_descriptor(client, "%s@%s" % (entry["name"], entry["digest"]))
            answer["pinned_kind"] = parse.media_kind(pinned_desc.get("mediaType"))
        except engine.EngineError:
            answer["pinned_kind"] = None  # the registry no longer serves the pinned digest
    else:
        answer["pinned_kind"] = answer["kind"]
    return answer


def remote_answers(client, entries):
    """``({image: answer}, warnings)``: the registry asked for every entry; one warning per silent one."""
    remote, warnings = {}, []
    for entry in entries:
        answer = remote_answer(client, entry)
        if answer["error"]:
            warnings.append(answer["error"])
        remote[entry["image"]] = answer
    return remote, warnings


def collect(run_command, params, read_file=read_text):
    """``(data, warnings)``: the audit of ``params["manifest"]``; never raises for host faults.

    No manifest: ``manifest_present`` false (nothing to audit). Otherwise, when the audit could not
    be made, ``problem`` is ``{status, reason, fix}``: ``crit`` for a manifest that cannot be used or
    a Docker that is installed but does not answer, ``unknown`` when nothing could be looked at (no
    Docker SDK, Docker not installed, a file that cannot be read).
    """
    manifest = params["manifest"]
    docker_host = params.get("docker_host")
    data = {"manifest": manifest, "check_remote": bool(params.get("check_remote")), "manifest_present": False,
            "entries": [], "unpinned": [], "stale": [], "compose_unpinned": [], "problem": None}
    unaudited = "so the pins in %s cannot be audited" % manifest
    try:
        text = read_file(manifest)
    except (IOError, OSError) as exc:
        data.update(manifest_present=True, problem=_problem("unknown", "%s: %s" % (unaudited, exc), _READ_FIX))
        return data, []
    if text is None:
        return data, []
    data["manifest_present"] = True
    if not engine.has_sdk():
        reason = "the Docker SDK for Python (pip package 'docker') is not installed for %s, %s" % (sys.executable, unaudited)
        data["problem"] = _problem("unknown", reason, engine.SDK_FIX)
        return data, []
    try:
        entries = parse.load_manifest_text(text, manifest)
        compose_unpinned, warnings = read_compose(params.get("compose_files"), read_file)
        client = engine.connect(docker_host, int(params.get("timeout") or 60))
        try:
            images, containers = engine_state(client)
            remote, more = remote_answers(client, entries) if data["check_remote"] else ({}, [])
        finally:
            client.close()
    except parse.ManifestError as exc:
        data["problem"] = _problem("crit", "the pin manifest cannot be used: %s" % exc,
                                   "fix it (image_digest mode=enforce and the weekly docker_hygiene fail on it too)")
        return data, []
    except engine.EngineError as exc:
        data["problem"] = _engine_problem(exc, docker_host, unaudited)
        return data, []
    except (IOError, OSError) as exc:
        data["problem"] = _problem("unknown", "%s: %s" % (unaudited, exc), _READ_FIX)
        return data, []
    data.update(audit.audit(entries, images, containers, remote))
    data["compose_unpinned"] = compose_unpinned
    return data, warnings + more


_READ_FIX = "make the file readable to the module (become: true)"


def _problem(status, reason, fix):
    return {"status": status, "reason": reason, "fix": fix}


def _engine_problem(exc, docker_host, unaudited):
    """crit when Docker is installed (silent, or too old), unknown when it is not installed here."""
    if isinstance(exc, engine.EngineTooOld):
        return _problem("crit", "%s, %s" % (exc, unaudited), "")
    evidence = engine.install_evidence(docker_host)
    if evidence:
        return _problem("crit", "%s, %s" % (engine.silent_reason(exc, evidence), unaudited), engine.ENGINE_FIX)
    return _problem("unknown", "Docker is not installed on this host (%s), %s" % (exc, unaudited),
                    "install Docker, or remove the manifest from a host that runs no containers")
