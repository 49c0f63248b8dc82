# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``image_digest``: gather (manifest, Compose files, engine, registry), plan (audit,
lock or enforce), apply (write the manifest; pull, tag, recreate).

Check mode returns the plan; ``diff`` comes from it. The engine is reached through
``_tools/docker.py``; the manifest, the audit and its checks are the images area's. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images import audit as pin_audit
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images import checks, collect
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.parse import (
    ManifestError, load_manifest_text, manifest_text, validate)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.options import out_of_range
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import atomic_write
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import docker as engine
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.docker import (
    COMPOSE_PROJECT_LABEL, configured_image, container_name)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.image_ref import digest_for_repo


class OptionError(ValueError):
    """An option out of range; the message names it."""


# Plans -------------------------------------------------------------------------------------------

def enforce_plan(entries, images, containers, recreate=False):
    """Actions for ``enforce``: pull missing pinned digests, re-point tags, recreate containers.

    Returns ``{actions, recreate_needed}``. ``actions`` are ``{action: pull|tag|recreate, ...}``;
    containers that run something else than the pin are listed in ``recreate_needed`` and get a
    ``recreate`` action only when ``recreate`` is true and they are not part of a Compose project.
    """
    actions = []
    recreates = []
    recreate_needed = []
    for entry in entries:
        pinned_image = pin_audit.image_for_digest(images, entry["name"], entry["digest"])
        tag_image = pin_audit.image_for_tag(images, entry["name"], entry["tag"])
        if pinned_image is None:
            actions.append({"action": "pull", "image": entry["image"], "reference": "%s@%s" % (entry["name"], entry["digest"])})
        if pinned_image is None or tag_image is None or tag_image.get("Id") != pinned_image.get("Id"):
            actions.append({"action": "tag", "image": entry["image"], "reference": "%s@%s" % (entry["name"], entry["digest"]),
                            "before": tag_image.get("Id") if tag_image else None,
                            "after": pinned_image.get("Id") if pinned_image else "(pulled)"})
        for container in containers:
            ref = pin_audit.ref_of(container)
            if ref is None or ref["name"] != entry["name"] or ref["digest"]:
                continue
            if pinned_image is not None and container.get("ImageID") == pinned_image.get("Id"):
                continue
            labels = container.get("Labels") or {}
            item = {"name": container_name(container), "id": container.get("Id"), "image": configured_image(container),
                    "image_id": container.get("ImageID"), "pinned": "%s@%s" % (entry["name"], entry["digest"]),
                    "compose_project": labels.get(COMPOSE_PROJECT_LABEL)}
            recreate_needed.append(item)
            if recreate and not item["compose_project"]:
                recreates.append(dict(item, action="recreate", target=entry["image"]))
    # Every image is in place before any container is recreated.
    return {"actions": actions + recreates, "recreate_needed": recreate_needed}


def enforce_diff(actions):
    """The ``diff`` of an enforce plan: tags and containers before and after."""
    tags = [a for a in actions if a["action"] == "tag"]
    moves = [a for a in actions if a["action"] == "recreate"]
    return {
        "before": "".join("%s -> %s\n" % (a["image"], a.get("before")) for a in tags)
        + "".join("container %s runs %s\n" % (a["name"], a["image_id"]) for a in moves),
        "after": "".join("%s -> %s\n" % (a["image"], a["reference"]) for a in tags)
        + "".join("container %s runs %s\n" % (a["name"], a["pinned"]) for a in moves),
    }


def lock_entries(existing, images, containers):
    """The manifest after ``lock``: the repo digest of each running container's image.

    Entries of ``existing`` for images that no container runs are kept; a running image with no
    repo digest (built locally, never pushed or pulled) cannot be pinned and is listed in
    ``not_pinnable``. Returns ``(entries, not_pinnable)``.
    """
    by_id = dict((i.get("Id"), i) for i in images)
    result = [dict(e) for e in existing]
    index = dict((e["image"], n) for n, e in enumerate(result))
    not_pinnable = []
    for container in sorted(containers, key=container_name):
        if container.get("State") != "running":
            continue
        ref = pin_audit.ref_of(container)
        if ref is None:
            continue
        if ref["digest"] and not ref["tag"]:
            continue  # already pinned in its own reference
        key = "%s:%s" % (ref["name"], ref["tag"] or "latest")
        digest = digest_for_repo((by_id.get(container.get("ImageID")) or {}).get("RepoDigests"), ref["name"])
        if not digest:
            not_pinnable.append({"name": container_name(container), "image": configured_image(container),
                                 "reason": "its image has no repo digest (built locally, never pushed or pulled)"})
            continue
        entry = {"image": key, "digest": digest, "name": ref["name"], "tag": ref["tag"] or "latest"}
        if key in index:
            old = result[index[key]]
            if old.get("note"):
                entry["note"] = old["note"]
            result[index[key]] = entry
        else:
            index[key] = len(result)
            result.append(entry)
    return result, not_pinnable


# Apply -------------------------------------------------------------------------------------------

def pull_digest(client, name, digest):
    """Pull ``name@digest``; return the local image ID. Raises EngineError with the registry's words."""
    step = "pulling %s@%s" % (name, digest)
    output = engine.call(step, client.pull, name, tag=digest)
    try:
        return engine.call(step, client.inspect_image, "%s@%s" % (name, digest))["Id"]
    except engine.EngineError:
        errors = []
        for line in str(output).splitlines():
            try:
                message = json.loads(line).get("error")
            except ValueError:
                message = None
            if message:
                errors.append(message)
        raise engine.EngineError(step, "; ".join(errors) or "the image is not present after the pull")


def recreate(client, action):
    """Recreate a (non-Compose) container on the pinned image: same config, host config and name."""
    step = "recreating container %s" % action["name"]
    old = engine.call(step, client.inspect_container, action["id"])
    config = old.get("Config") or {}
    host_config = old.get("HostConfig") or {}
    was_running = (old.get("State") or {}).get("Running")
    parked = "%s-gpufleet-old-%s" % (action["name"], action["id"][:12])
    if was_running:
        engine.call(step + " (stop)", client.stop, action["id"])
    engine.call(step + " (rename the old one)", client.rename, action["id"], parked)
    try:
        created = engine.call(
            step, client.create_container,
            image=action["target"], name=action["name"], command=config.get("Cmd"), entrypoint=config.get("Entrypoint"),
            environment=config.get("Env"), labels=config.get("Labels"), working_dir=config.get("WorkingDir") or None,
            user=config.get("User") or None, volumes=list((config.get("Volumes") or {}).keys()) or None,
            host_config=host_config, tty=config.get("Tty", False), stdin_open=config.get("OpenStdin", False))
        if was_running:
            engine.call(step, client.start, created["Id"])
    except engine.EngineError as exc:
        # Put the old container back as it was.
        try:
            engine.call(step, client.rename, action["id"], action["name"])
            if was_running:
                engine.call(step, client.start, action["id"])
        except engine.EngineError:
            pass
        raise engine.EngineError(step, "%s (the old container was restored)" % exc.error)
    engine.call(step + " (remove the old one)", client.remove_container, action["id"])
    return created["Id"]


def apply_enforce(client, actions, entries):
    """Run the enforce ``actions`` in order; returns them. EngineError's ``done`` lists what was done."""
    done = []
    by_entry = dict((e["image"], e) for e in entries)
    try:
        for action in actions:
            entry = by_entry.get(action.get("target")) or by_entry.get(action["image"])
            if action["action"] == "pull":
                pull_digest(client, entry["name"], entry["digest"])
            elif action["action"] == "tag":
                image_id = engine.call("inspecting %s" % action["reference"], client.inspect_image, action["reference"])["Id"]
                engine.call("tagging %s as %s" % (action["reference"], action["image"]), client.tag,
                            image_id, entry["name"], entry["tag"], force=True)
            elif action["action"] == "recreate":
                recreate(client, action)
            done.append(action)
    except engine.EngineError as exc:
        exc.done = {"actions": done}
        raise
    return done


def write_manifest(path, text):
    """Write the manifest atomically, keeping the permissions of the file it replaces."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = None
    atomic_write(path, text, mode=mode)


# The module's body -------------------------------------------------------------------------------

def manifest_entries(params, read_file):
    """``(entries, manifest text or None)`` from ``manifest`` and ``entries``; ManifestError before any change."""
    mode = params["mode"]
    path = params.get("manifest")
    entries, old_text = [], None
    if path:
        old_text = read_file(path)
        if old_text is None and mode != "lock":
            raise ManifestError("%s: the manifest file does not exist" % path)
        entries = load_manifest_text(old_text or "", path)
    if params.get("entries") is not None:
        entries = entries + validate(params["entries"], "entries")
        validate([dict(image=e["image"], digest=e["digest"]) for e in entries], "manifest and entries")
    if mode == "lock" and not path:
        raise ManifestError("mode=lock needs manifest: the path of the file to write")
    return entries, old_text


def run(params, check_mode, read_file, write_file):
    """Everything ``image_digest`` does; returns ``(result, warnings)``.

    ``read_file(path) -> text or None`` and ``write_file(path, text)`` are given by the module (the
    latter writes atomically). Raises OptionError or ManifestError (bad options or manifest, before
    any change) or EngineError (naming the step).
    """
    problems = out_of_range(params, {"timeout": (1, None)})
    if problems:
        raise OptionError("; ".join(problems))
    mode = params["mode"]
    entries, old_text = manifest_entries(params, read_file)
    compose_unpinned, compose_errors = collect.read_compose(params.get("compose_files"), read_file)
    warnings = list(compose_errors)
    client = engine.connect(params.get("docker_host"), params.get("timeout") or 60)
    try:
        images, containers = collect.engine_state(client)
        remote = {}
        if params.get("check_remote") and mode == "audit":
            remote, more = collect.remote_answers(client, entries)
            warnings.extend(more)
        result = {"mode": mode, "changed": False, "compose_unpinned": compose_unpinned, "compose_errors": compose_errors}
        result.update(pin_audit.audit(entries, images, containers, remote))
        if mode == "audit":
            result["checks"], result["status"] = checks.audit_checks(result, bool(params.get("check_remote")))
            return result, warnings
        if mode == "lock":
            new_entries, not_pinnable = lock_entries(entries, images, containers)
            new_text = manifest_text(new_entries)
            path = params["manifest"]
            result["manifest"] = [dict(image=e["image"], digest=e["digest"]) for e in new_entries]
            result["not_pinnable"] = not_pinnable
            result["changed"] = new_text != (old_text or "")
            result["diff"] = {"before": old_text or "", "after": new_text, "before_header": path, "after_header": path}
            if result["changed"] and not check_mode:
                write_file(path, new_text)
            return result, warnings
        plan = enforce_plan(entries, images, containers, recreate=params.get("recreate"))
        result.update(actions=plan["actions"], recreate_needed=plan["recreate_needed"], changed=bool(plan["actions"]),
                      diff=enforce_diff(plan["actions"]))
        if check_mode or not plan["actions"]:
            return result, warnings
        result["done"] = apply_enforce(client, plan["actions"], entries)
        return result, warnings
    finally:
        client.close()
