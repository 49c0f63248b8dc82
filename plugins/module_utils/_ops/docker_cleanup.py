# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``docker_cleanup``: gather the engine's lists, plan what the weekly hygiene removes
(one pure function, :func:`plan`), and remove it (containers, images, volumes).

Unlike ``docker system prune -af --volumes`` the plan keeps: containers labelled ``gpufleet.keep=true``
and (by default) containers of a Compose project, images pinned in the manifest, images labelled
keep, images of Compose containers (even stopped), the newest N images of each repository, and
every named volume not listed for removal. Check mode returns the plan; ``diff`` comes from it.
The engine is reached through ``_tools/docker.py``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import re
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.parse import (
    ManifestError, load_manifest_text, validate)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.options import out_of_range
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import docker as engine
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.docker import (
    COMPOSE_PROJECT_LABEL, KEEP_LABEL, configured_image, container_name, container_volume_names, image_unique_bytes,
    is_anonymous_volume, is_dangling, repo_tags, size as _size)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.image_ref import (
    ImageRefError, is_digest, repo_name, split_repo_digest)

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_AGE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_STOPPED_STATES = ("exited", "created", "dead")
DEFAULT_NETWORKS = ("bridge", "host", "none")
_RFC3339_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$")


class PlanError(ValueError):
    """Bad options for the plan (an age that does not parse, a malformed pin)."""


def parse_age(value, option="age"):
    """``"24h"``, ``"7d"``, ``"30m"``, ``"2w"``, ``"90s"``, ``90`` or ``"0"`` → seconds (int).

    PlanError names ``option`` (``container_age: an age must ...``)."""
    if isinstance(value, bool):
        raise PlanError("%s: an age must be a number of seconds or a string like 24h, 7d, got %r" % (option, value))
    if isinstance(value, (int, float)):
        if value < 0:
            raise PlanError("%s: an age must not be negative, got %r" % (option, value))
        return int(value)
    match = _AGE_RE.match(str(value or ""))
    if not match:
        raise PlanError("%s: an age must be a number with an optional unit s, m, h, d or w (e.g. 24h, 7d), got %r"
                        % (option, value))
    return int(float(match.group(1)) * _AGE_UNITS[match.group(2)])


def parse_time(value):
    """Epoch seconds from an int or an RFC 3339 string (``2024-01-02T03:04:05.123Z``); None if unknown."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    match = _RFC3339_RE.match(str(value or ""))
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    epoch = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    zone = match.group(7)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        epoch -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return epoch


def normalise_pins(pins):
    """Manifest entries ``{image, digest}`` → set of ``(repository name, digest)``."""
    result = set()
    for index, entry in enumerate(pins or []):
        if not isinstance(entry, dict) or not entry.get("image") or not is_digest(entry.get("digest")):
            raise PlanError("pin entry %d (%r) needs image: repo:tag and digest: sha256:<64 hex>" % (index + 1, entry))
        try:
            result.add((repo_name(entry["image"]), entry["digest"]))
        except ImageRefError as exc:
            raise PlanError("pin entry %d: %s" % (index + 1, exc))
    return result


def _labels(obj):
    return obj.get("Labels") or {}


def _in_scope(obj, scope_labels):
    labels = _labels(obj)
    return all(str(labels.get(key)) == str(value) for key, value in (scope_labels or {}).items())


def _keep_label(obj):
    return str(_labels(obj).get(KEEP_LABEL, "")).lower() == "true"


def _image_label(image):
    tags = [t for t in image.get("RepoTags") or [] if not t.startswith("<none>")]
    return tags[0] if tags else (image.get("Id") or "")[:19]


def plan(images, containers, volumes, build_cache=None, networks=None, now=None, container_age="24h",
         image_age="168h", build_cache_age="168h", keep_per_repository=2, pins=None, volumes_to_remove=None,
         keep_compose_containers=True, scope_labels=None, log_sizes=None, prune_networks=True):
    """Decide what goes. Returns ``{remove: {...}, keep: {...}, bytes: {...}}`` (see module RETURN)."""
    now = int(time.time()) if now is None else int(now)
    container_age_s = parse_age(container_age, "container_age")
    image_age_s = parse_age(image_age, "image_age")
    cache_age_s = parse_age(build_cache_age, "build_cache_age")
    if not isinstance(keep_per_repository, int) or isinstance(keep_per_repository, bool) or keep_per_repository < 0:
        raise PlanError("keep_per_repository must be an integer >= 0, got %r" % (keep_per_repository,))
    pinned = normalise_pins(pins)
    to_remove_volumes = set(volumes_to_remove or [])
    log_sizes = log_sizes or {}
    remove = {"containers": [], "images": [], "volumes": [], "build_cache": [], "networks": []}
    keep = {"containers": [], "images": [], "volumes": []}

    # Containers ------------------------------------------------------------------------------
    remaining = []
    for container in containers or []:
        name = container_name(container)
        labels = _labels(container)
        if not _in_scope(container, scope_labels):
            remaining.append(container)
            continue
        reason = None
        if container.get("State") not in _STOPPED_STATES:
            reason = "state %s" % container.get("State")
        elif _keep_label(container):
            reason = "labelled %s=true" % KEEP_LABEL
        elif keep_compose_containers and labels.get(COMPOSE_PROJECT_LABEL):
            reason = "belongs to Compose project %s" % labels[COMPOSE_PROJECT_LABEL]
        else:
            created = parse_time(container.get("Created"))
            if created is not None and now - created < container_age_s:
                reason = "younger than %ss" % container_age_s
        if reason:
            remaining.append(container)
            if container.get("State") in _STOPPED_STATES:
                keep["containers"].append({"id": container.get("Id"), "name": name, "reason": reason})
            continue
        remove["containers"].append({
            "id": container.get("Id"), "name": name, "image": configured_image(container),
            "state": container.get("State"), "bytes": _size(container.get("SizeRw")),
            "log_bytes": _size(log_sizes.get(container.get("Id"))),
        })

    # Images ----------------------------------------------------------------------------------
    used_images = set(c.get("ImageID") for c in remaining)
    compose_images = set(c.get("ImageID") for c in containers or [] if _labels(c).get(COMPOSE_PROJECT_LABEL))
    newest = set()
    by_repo = {}
    for image in images or []:
        for name, _tag in repo_tags(image):
            by_repo.setdefault(name, {})[image.get("Id")] = image
    for name, members in by_repo.items():
        ordered = sorted(members.values(), key=lambda i: (parse_time(i.get("Created")) or 0), reverse=True)
        newest.update(i.get("Id") for i in ordered[:keep_per_repository])
    candidates = []
    for image in images or []:
        image_id = image.get("Id")
        if not _in_scope(image, scope_labels):
            continue
        digests = set(split_repo_digest(d) for d in image.get("RepoDigests") or [])
        reason = None
        if image_id in used_images:
            reason = "used by a container"
        elif digests & pinned:
            reason = "pinned in the manifest"
        elif _keep_label(image):
            reason = "labelled %s=true" % KEEP_LABEL
        elif image_id in compose_images:
            reason = "image of a Compose container"
        elif image_id in newest:
            reason = "one of the newest %d of its repository" % keep_per_repository
        else:
            created = parse_time(image.get("Created"))
            if created is not None and now - created < image_age_s:
                reason = "younger than %ss" % image_age_s
        if reason:
            if reason != "used by a container":
                keep["images"].append({"id": image_id, "image": _image_label(image), "reason": reason})
            continue
        candidates.append(image)
    # Children before parents (newest first) so a parent is not refused for having a child.
    candidates.sort(key=lambda i: (parse_time(i.get("Created")) or 0), reverse=True)
    for image in candidates:
        remove["images"].append({
            "id": image.get("Id"), "image": _image_label(image), "tags": list(image.get("RepoTags") or []),
            "repo_digests": list(image.get("RepoDigests") or []), "dangling": is_dangling(image),
            "bytes": image_unique_bytes(image),
        })

    # Volumes ---------------------------------------------------------------------------------
    users = {}
    for container in remaining:
        for volume_name in container_volume_names(container):
            users.setdefault(volume_name, []).append(container_name(container))
    for volume in volumes or []:
        name = volume.get("Name")
        if not _in_scope(volume, scope_labels):
            continue
        anonymous = is_anonymous_volume(volume)
        size = _size((volume.get("UsageData") or {}).get("Size"))
        if name in users:
            if name in to_remove_volumes:
                keep["volumes"].append({"name": name, "reason": "listed for removal but in use by %s" % ", ".join(users[name])})
            continue
        if anonymous or name in to_remove_volumes:
            remove["volumes"].append({"name": name, "anonymous": anonymous, "bytes": size})
        else:
            keep["volumes"].append({"name": name, "reason": "named volume (list it in volumes_to_remove to remove it)"})

    # Build cache and networks (removed by community.docker.docker_prune; listed here for check mode)
    # Build cache records carry no labels: a scoped run leaves the build cache alone.
    for record in ([] if scope_labels else build_cache or []):
        if record.get("InUse") or record.get("Shared"):
            continue
        last = parse_time(record.get("LastUsedAt")) or parse_time(record.get("CreatedAt"))
        if last is not None and now - last < cache_age_s:
            continue
        remove["build_cache"].append({"id": record.get("ID"), "type": record.get("Type"), "bytes": _size(record.get("Size"))})
    if prune_networks:
        used_networks = set()
        for container in remaining:
            used_networks.update(((container.get("NetworkSettings") or {}).get("Networks") or {}).keys())
        for network in networks or []:
            name = network.get("Name")
            if name in DEFAULT_NETWORKS or name in used_networks or network.get("Containers"):
                continue
            if not _in_scope(network, scope_labels) or network.get("Scope") == "swarm":
                continue
            remove["networks"].append({"id": network.get("Id"), "name": name})

    totals = {
        "containers": sum(c["bytes"] for c in remove["containers"]),
        "container_logs": sum(c["log_bytes"] for c in remove["containers"]),
        "images": sum(i["bytes"] for i in remove["images"]),
        "volumes": sum(v["bytes"] for v in remove["volumes"]),
        "build_cache": sum(b["bytes"] for b in remove["build_cache"]),
    }
    totals["total"] = sum(totals.values())
    return {"remove": remove, "keep": keep, "bytes": totals}


def apply_prune(client, remove):
    """Remove the containers, images and volumes of a plan, in that order.

    Returns ``{removed: {...}, not_removed: [...]}``. An object in use (HTTP 409) or already gone
    (404) is skipped with the engine's reason. Any other engine error raises EngineError whose
    ``done`` lists what was removed before it, so nothing half-done is reported as done.
    """
    removed = {"containers": [], "images": [], "volumes": []}
    skipped = []
    for kind in ("containers", "images", "volumes"):
        for item in remove.get(kind) or []:
            try:
                engine.remove(client, kind, item)
            except engine.EngineError as exc:
                if exc.status in (404, 409):
                    reason = "already gone" if exc.status == 404 else "in use"
                    skipped.append(dict(item, kind=kind, reason="%s: %s" % (reason, exc.error)))
                    continue
                exc.done = removed
                raise
            removed[kind].append(item)
    return {"removed": removed, "not_removed": skipped}


def check_options(params):
    """Every out-of-range or unreadable option, named, before anything is read or removed (PlanError)."""
    problems = out_of_range(params, {"timeout": (1, None), "keep_per_repository": (0, None)})
    for option in ("container_age", "image_age", "build_cache_age"):
        try:
            parse_age(params.get(option), option)
        except PlanError as exc:
            problems.append(str(exc))
    if problems:
        raise PlanError("; ".join(problems))


def read_pins(params, read_file):
    """The pins to keep: ``pins`` given inline plus those of ``pin_manifest`` (``{image, digest}``)."""
    pins = validate(params.get("pins") or [], "pins")
    path = params.get("pin_manifest")
    if path:
        text = read_file(path)
        if text is None:
            raise ManifestError("%s: the manifest file does not exist" % path)
        pins += load_manifest_text(text, path)
    return [dict(image=p["image"], digest=p["digest"]) for p in pins]


def run(params, check_mode, read_file):
    """Everything ``docker_cleanup`` does: returns the module's result (``changed``, ``plan``,
    ``kept``, ``bytes``, ``removed``, ``not_removed``, ``diff``). Build cache and networks are only
    planned (``community.docker.docker_prune`` removes them). Raises ManifestError or PlanError
    (bad options or pins, before any change) and EngineError (naming the step)."""
    check_options(params)
    pins = read_pins(params, read_file)
    client = engine.connect(params.get("docker_host"), params.get("timeout") or 60)
    try:
        df = engine.call("reading /system/df", client.df)
        networks = engine.call("listing networks", client.networks)
        containers = df.get("Containers") or []
        decided = plan(
            df.get("Images") or [], containers, df.get("Volumes") or [], df.get("BuildCache") or [], networks or [],
            container_age=params["container_age"], image_age=params["image_age"],
            build_cache_age=params["build_cache_age"], keep_per_repository=params["keep_per_repository"],
            pins=pins, volumes_to_remove=params["volumes_to_remove"],
            keep_compose_containers=params["keep_compose_containers"], scope_labels=params["scope_labels"],
            log_sizes=engine.log_sizes(client, containers), prune_networks=params["prune_networks"])
        remove = decided["remove"]
        result = {"plan": remove, "kept": decided["keep"], "bytes": decided["bytes"],
                  "removed": {"containers": [], "images": [], "volumes": []}, "not_removed": []}
        gone = ["container %s" % c["name"] for c in remove["containers"]] + ["image %s" % i["image"] for i in remove["images"]] \
            + ["volume %s" % v["name"] for v in remove["volumes"]]
        result["diff"] = {"before": "".join(line + "\n" for line in gone), "after": ""}
        if check_mode:
            result["changed"] = bool(gone)
            return result
        result.update(apply_prune(client, remove))
        result["changed"] = bool(sum(len(done) for done in result["removed"].values()))
        return result
    finally:
        client.close()
