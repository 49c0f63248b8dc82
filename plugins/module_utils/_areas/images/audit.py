# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine compared with the pin manifest: per entry, unpinned and stale running containers.

Inputs are Engine API dicts (``/images/json``, ``/containers/json?all=1``) and the registry's
answers; ``image_digest``'s enforce and lock plans use the same lookups. Pure functions, no
Ansible and no SDK import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.parse import compare_remote
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.docker import (
    configured_image, container_name, is_dangling)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.image_ref import (
    ImageRefError, parse, split_repo_digest, split_repo_tag)


def image_for_tag(images, name, tag):
    """The image that carries ``name:tag`` locally, or None."""
    for image in images:
        for entry in image.get("RepoTags") or []:
            if split_repo_tag(entry) == (name, tag):
                return image
    return None


def image_for_digest(images, name, digest):
    """The local image whose repo digest for ``name`` is ``digest``, or None."""
    for image in images:
        for entry in image.get("RepoDigests") or []:
            if split_repo_digest(entry) == (name, digest):
                return image
    return None


def ref_of(container):
    """The parsed reference a container was created from, or None when it does not parse."""
    try:
        return parse(configured_image(container) or "")
    except ImageRefError:
        return None


def audit(entries, images, containers, remote=None):
    """Compare the engine with the manifest.

    Returns ``{entries, unpinned, stale}``. ``remote`` maps ``image`` (``name:tag``) to
    ``{digest, kind, pinned_kind, error}`` when ``check_remote`` asked the registry.
    """
    remote = remote or {}
    results = []
    pinned_names = set(e["name"] for e in entries)
    for entry in entries:
        pinned_image = image_for_digest(images, entry["name"], entry["digest"])
        tag_image = image_for_tag(images, entry["name"], entry["tag"])
        users = []
        for container in containers:
            ref = ref_of(container)
            if ref is None or ref["name"] != entry["name"]:
                continue
            runs_pinned = bool(pinned_image) and container.get("ImageID") == pinned_image.get("Id")
            users.append({"name": container_name(container), "state": container.get("State"),
                          "image": configured_image(container), "image_id": container.get("ImageID"),
                          "runs_pinned": runs_pinned})
        answer = remote.get(entry["image"]) or {}
        update, note = compare_remote(entry["digest"], answer.get("pinned_kind"), answer) if answer else (None, None)
        status = "ok"
        if not pinned_image:
            status = "missing"
        elif tag_image is None or tag_image.get("Id") != pinned_image.get("Id") or not all(u["runs_pinned"] for u in users):
            status = "drift"
        elif update:
            status = "update_available"
        results.append({
            "image": entry["image"],
            "digest": entry["digest"],
            "pinned_present": pinned_image is not None,
            "pinned_image_id": pinned_image.get("Id") if pinned_image else None,
            "tag_image_id": tag_image.get("Id") if tag_image else None,
            "tag_matches_pin": bool(pinned_image and tag_image and tag_image.get("Id") == pinned_image.get("Id")),
            "local_repo_digests": list((tag_image or {}).get("RepoDigests") or []),
            "containers": users,
            "remote_digest": answer.get("digest"),
            "remote_digest_kind": answer.get("kind"),
            "pinned_digest_kind": answer.get("pinned_kind"),
            "remote_error": answer.get("error"),
            "update_available": update,
            "remote_note": note,
            "status": status,
        })
    unpinned = []
    stale = []
    for container in containers:
        if container.get("State") != "running":
            continue
        ref = ref_of(container)
        name = container_name(container)
        if ref is None:
            continue
        if not ref["digest"] and ref["name"] not in pinned_names:
            unpinned.append({"name": name, "image": configured_image(container), "image_id": container.get("ImageID")})
        if not ref["digest"]:
            current = image_for_tag(images, ref["name"], ref["tag"] or "latest")
            if current is not None and current.get("Id") != container.get("ImageID"):
                old = [i for i in images if i.get("Id") == container.get("ImageID")]
                stale.append({
                    "name": name, "image": configured_image(container), "image_id": container.get("ImageID"),
                    "tag_image_id": current.get("Id"),
                    "running_image_dangling": bool(old) and is_dangling(old[0]),
                    "message": "%s runs %s but %s now points to %s: recreate it to run the current image"
                               % (name, (container.get("ImageID") or "")[:19], configured_image(container), current.get("Id")[:19]),
                })
    return {"entries": results, "unpinned": unpinned, "stale": stale}
