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

    No manifest: ``manifest_present`` false (nothing to audit). A manifest that cannot be used, a
    missing Docker SDK or an engine that does not answer: ``problem`` says what to fix.
    """
    manifest = params["manifest"]
    data = {"manifest": manifest, "check_remote": bool(params.get("check_remote")), "manifest_present": False,
            "entries": [], "unpinned": [], "stale": [], "compose_unpinned": [], "problem": None}
    try:
        text = read_file(manifest)
    except (IOError, OSError) as exc:
        text, data["problem"] = "", str(exc)
    if text is None:
        return data, []
    data["manifest_present"] = True
    if data["problem"]:
        return data, []
    if not engine.HAS_DOCKER:
        data["problem"] = ("the Docker SDK for Python (pip package 'docker') is not installed on the host: "
                           "install it to audit the pins")
        return data, []
    try:
        entries = parse.load_manifest_text(text, manifest)
        compose_unpinned, warnings = read_compose(params.get("compose_files"), read_file)
        client = engine.connect(params.get("docker_host"), int(params.get("timeout") or 60))
        try:
            images, containers = engine_state(client)
            remote, more = remote_answers(client, entries) if data["check_remote"] else ({}, [])
        finally:
            client.close()
    except parse.ManifestError as exc:
        data["problem"] = "%s: fix the manifest" % exc
        return data, []
    except engine.EngineError as exc:
        data["problem"] = "%s: %s: start the Docker engine or set docker_host" % (exc.step, exc.error)
        return data, []
    except (IOError, OSError) as exc:
        data["problem"] = str(exc)
        return data, []
    data.update(audit.audit(entries, images, containers, remote))
    data["compose_unpinned"] = compose_unpinned
    return data, warnings + more
