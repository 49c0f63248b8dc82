# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image pin manifest: parse and validate it, audit the engine against it, plan ``enforce``, build
the ``lock`` manifest, scan Compose files. Inputs are Engine API dicts (``/images/json``,
``/containers/json?all=1``, ``/distribution/{name}/json``); no Ansible and no SDK import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import make_check, worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._docker import configured_image, container_name
from ansible_collections.gpufleet.maintenance.plugins.module_utils._image_ref import (
    ImageRefError, digest_for_repo, is_digest, parse, split_repo_digest, split_repo_tag)

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

INDEX_MEDIA_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
MANIFEST_HEADER = ("# Image pin manifest (gpufleet.maintenance.image_digest). Bump a digest only after\n"
                   "# reading the image's changelog; mode=audit reports update_available.\n")


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the entry."""


def load_manifest_text(text, source="manifest"):
    """Entries from the text of a YAML or JSON manifest (a list, or ``{images: [...]}``)."""
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except ValueError:
        if not HAS_YAML:
            raise ManifestError("%s: not JSON, and PyYAML is not installed to read YAML" % source)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ManifestError("%s: not valid YAML: %s" % (source, str(exc).replace("\n", " ")))
    return validate(data, source)


def validate(data, source="manifest"):
    """Check every entry before anything changes; return ``[{image, digest, name, tag}]``."""
    if data is None:
        return []
    if isinstance(data, dict):
        data = data.get("images", None) if set(data.keys()) <= {"images"} else None
        if data is None:
            raise ManifestError("%s: expected a list of {image, digest} entries or {images: [...]}" % source)
    if not isinstance(data, list):
        raise ManifestError("%s: expected a list of {image, digest} entries, got %s" % (source, type(data).__name__))
    entries = []
    seen = {}
    for number, entry in enumerate(data, 1):
        where = "%s entry %d (%s)" % (source, number, json.dumps(entry, sort_keys=True, default=str))
        if not isinstance(entry, dict):
            raise ManifestError("%s: an entry must be a mapping with image and digest" % where)
        unknown = set(entry) - {"image", "digest", "note"}
        if unknown:
            raise ManifestError("%s: unknown key(s) %s (allowed: image, digest, note)" % (where, ", ".join(sorted(unknown))))
        try:
            ref = parse(entry.get("image"))
        except ImageRefError as exc:
            raise ManifestError("%s: %s" % (where, exc))
        if ref["digest"]:
            raise ManifestError("%s: write the digest in 'digest', not in 'image'" % where)
        if not is_digest(entry.get("digest")):
            raise ManifestError("%s: digest must be sha256: followed by 64 lowercase hex digits" % where)
        tag = ref["tag"] or "latest"
        key = "%s:%s" % (ref["name"], tag)
        if key in seen:
            raise ManifestError("%s: %s is already pinned by entry %d" % (where, key, seen[key]))
        seen[key] = number
        item = {"image": key, "digest": entry["digest"], "name": ref["name"], "tag": tag}
        if entry.get("note"):
            item["note"] = str(entry["note"])
        entries.append(item)
    return entries


def manifest_text(entries):
    """The manifest file content for ``entries`` (stable order: as given)."""
    lines = [MANIFEST_HEADER.rstrip("\n"), "images:"]
    if not entries:
        lines[-1] = "images: []"
    for entry in entries:
        lines.append("  - image: %s" % json.dumps(entry["image"]))
        lines.append("    digest: %s" % json.dumps(entry["digest"]))
        if entry.get("note"):
            lines.append("    note: %s" % json.dumps(entry["note"]))
    return "\n".join(lines) + "\n"


def media_kind(media_type):
    """``index`` for a manifest list / OCI index, ``manifest`` for a single image manifest."""
    if not media_type:
        return None
    return "index" if media_type in INDEX_MEDIA_TYPES else "manifest"


def _image_for_tag(images, name, tag):
    for image in images:
        for entry in image.get("RepoTags") or []:
            if split_repo_tag(entry) == (name, tag):
                return image
    return None


def _image_for_digest(images, name, digest):
    for image in images:
        for entry in image.get("RepoDigests") or []:
            if split_repo_digest(entry) == (name, digest):
                return image
    return None


def _ref_of(container):
    try:
        return parse(configured_image(container) or "")
    except ImageRefError:
        return None


def compare_remote(pinned, pinned_kind, remote):
    """``(update_available, note)`` from the registry's answer for the tag.

    ``remote`` is ``{digest, kind}`` of the tag (the index digest for a multi-platform image).
    Digests of different kinds cannot be compared: the answer is ``None`` with a note, never a
    false "update available".
    """
    if not remote or not remote.get("digest"):
        return None, "registry not asked or did not answer"
    if remote["digest"] == pinned:
        return False, "the registry serves the pinned %s digest for the tag" % (remote.get("kind") or "")
    if pinned_kind and remote.get("kind") and pinned_kind != remote["kind"]:
        return None, ("the pin is a %s digest but the registry serves a %s digest for the tag: they cannot be "
                      "compared; pin the %s digest (mode=lock after a pull by tag)" % (pinned_kind, remote["kind"], remote["kind"]))
    return True, ("the tag now points to %s (%s): read the changelog before bumping the pin"
                  % (remote["digest"], remote.get("kind") or "unknown kind"))


def audit(entries, images, containers, remote=None):
    """Compare the engine with the manifest.

    Returns ``{entries, unpinned, stale}``. ``remote`` maps ``image`` (``name:tag``) to
    ``{digest, kind, pinned_kind, error}`` when ``check_remote`` asked the registry.
    """
    remote = remote or {}
    results = []
    pinned_names = set(e["name"] for e in entries)
    for entry in entries:
        pinned_image = _image_for_digest(images, entry["name"], entry["digest"])
        tag_image = _image_for_tag(images, entry["name"], entry["tag"])
        users = []
        for container in containers:
            ref = _ref_of(container)
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
        ref = _ref_of(container)
        name = container_name(container)
        if ref is None:
            continue
        if not ref["digest"] and ref["name"] not in pinned_names:
            unpinned.append({"name": name, "image": configured_image(container), "image_id": container.get("ImageID")})
        if not ref["digest"]:
            current = _image_for_tag(images, ref["name"], ref["tag"] or "latest")
            if current is not None and current.get("Id") != container.get("ImageID"):
                old = [i for i in images if i.get("Id") == container.get("ImageID")]
                stale.append({
                    "name": name, "image": configured_image(container), "image_id": container.get("ImageID"),
                    "tag_image_id": current.get("Id"),
                    "running_image_dangling": bool(old) and not [t for t in old[0].get("RepoTags") or [] if not t.startswith("<none>")],
                    "message": "%s runs %s but %s now points to %s: recreate it to run the current image"
                               % (name, (container.get("ImageID") or "")[:19], configured_image(container), current.get("Id")[:19]),
                })
    return {"entries": results, "unpinned": unpinned, "stale": stale}


def audit_checks(report, check_remote=False):
    """Health checks of an audit ``report`` (what ``audit`` returns plus ``compose_unpinned``).

    A pinned digest missing from the engine, a tag or container that drifted from its pin, a
    container running an unpinned image or an image older than its tag, and (with
    ``check_remote``) a registry that moved the tag or did not answer, each give a ``warn`` check
    with what to do; everything in order gives one ``ok`` check. Returns ``(checks, status)``.
    """
    checks = []
    for entry in report.get("entries") or []:
        ident = dict(image=entry["image"])
        if entry["status"] == "missing":
            checks.append(make_check("image_pin", "warn", entry["digest"], None,
                                     "%s: the pinned digest %s is not on this host: run image_digest mode=enforce to pull it"
                                     % (entry["image"], entry["digest"]), **ident))
        elif entry["status"] == "drift":
            off = [c["name"] for c in entry.get("containers") or [] if not c.get("runs_pinned")]
            checks.append(make_check("image_pin", "warn", entry["digest"], None,
                                     "%s: %s: run image_digest mode=enforce (and recreate the containers)" % (
                                         entry["image"],
                                         "containers %s do not run the pinned image" % ", ".join(off) if off
                                         else "the local tag points to another image than the pin"), **ident))
        if entry.get("update_available"):
            checks.append(make_check("image_update", "warn", entry.get("remote_digest"), entry["digest"],
                                     "%s: the registry now serves %s for the tag (pinned %s): read the changelog "
                                     "before bumping the pin" % (entry["image"], entry.get("remote_digest"), entry["digest"]),
                                     **ident))
        elif check_remote and entry.get("remote_error"):
            checks.append(make_check("image_update", "warn", None, entry["digest"],
                                     "%s; updates unknown: check the registry and its credentials (docker login)"
                                     % entry["remote_error"], **ident))
        elif check_remote and entry.get("update_available") is None and entry.get("remote_note"):
            checks.append(make_check("image_update", "warn", entry.get("remote_digest"), entry["digest"],
                                     "%s: %s" % (entry["image"], entry["remote_note"]), **ident))
    for container in report.get("unpinned") or []:
        checks.append(make_check("image_unpinned", "warn", container.get("image"), None,
                                 "container %s runs %s, which is in no pin: lock it (image_digest mode=lock) so a tag "
                                 "move cannot change it unseen" % (container["name"], container.get("image")),
                                 container=container["name"]))
    for container in report.get("stale") or []:
        checks.append(make_check("image_stale", "warn", container.get("image_id"), container.get("tag_image_id"),
                                 container["message"], container=container["name"]))
    for service in report.get("compose_unpinned") or []:
        checks.append(make_check("image_unpinned", "warn", service.get("image"), None,
                                 "%s: service %s uses %s without a digest: pin it (image@sha256:...)"
                                 % (service.get("file"), service.get("service"), service.get("image")),
                                 container=service.get("service")))
    if not checks:
        count = len(report.get("entries") or [])
        checks.append(make_check("image_pin", "ok", count, None,
                                 "%d pinned image%s match the engine%s" % (
                                     count, "" if count == 1 else "s",
                                     "; the registry serves the pinned digests" if check_remote and count else "")))
    return checks, worst_status(checks)


IMAGES_SCHEMA_VERSION = 1


def images_fact(manifest, check_remote, report=None, problem=None):
    """The ``gpufleet_images`` fact (the ``images`` area of ``health_facts``).

    ``report`` is an audit result (``entries``, ``unpinned``, ``stale``, ``compose_unpinned``,
    ``checks``, ``status``). Without one, ``problem`` says why nothing was audited: ``None`` when
    the host has no manifest (an ``ok`` note), else a message for a ``warn`` check.
    """
    fact = {"schema_version": IMAGES_SCHEMA_VERSION, "manifest": manifest, "check_remote": bool(check_remote),
            "manifest_present": report is not None or problem is not None,
            "entries": [], "unpinned": [], "stale": [], "compose_unpinned": []}
    if report is not None:
        for key in ("entries", "unpinned", "stale", "compose_unpinned"):
            fact[key] = report.get(key) or []
        fact["checks"], fact["status"] = audit_checks(report, check_remote)
        return fact
    if problem is None:
        checks = [make_check("image_pin", "ok", None, None,
                             "no image pin manifest at %s: nothing to audit (write one with "
                             "gpufleet.maintenance.image_digest mode=lock)" % manifest)]
    else:
        checks = [make_check("image_pin", "warn", None, None, "the image audit failed: %s" % problem)]
    fact["checks"], fact["status"] = checks, worst_status(checks)
    return fact


def summary_section(fact):
    """Summary lines of the ``gpufleet_images`` fact (the monthly image audit)."""
    entries = fact.get("entries") or []
    if not entries:
        return ["images: %s" % ((fact.get("checks") or [{}])[0].get("message") or "nothing audited")]
    counts = {}
    for entry in entries:
        counts[entry.get("status")] = counts.get(entry.get("status"), 0) + 1
    updates = len([e for e in entries if e.get("update_available")])
    return ["images: %d pinned (%s)%s" % (
        len(entries), ", ".join("%d %s" % (counts[k], k) for k in sorted(counts)),
        ", %d with an update upstream" % updates if updates else "")]


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
        pinned_image = _image_for_digest(images, entry["name"], entry["digest"])
        tag_image = _image_for_tag(images, entry["name"], entry["tag"])
        if pinned_image is None:
            actions.append({"action": "pull", "image": entry["image"], "reference": "%s@%s" % (entry["name"], entry["digest"])})
        if pinned_image is None or tag_image is None or tag_image.get("Id") != pinned_image.get("Id"):
            actions.append({"action": "tag", "image": entry["image"], "reference": "%s@%s" % (entry["name"], entry["digest"]),
                            "before": tag_image.get("Id") if tag_image else None,
                            "after": pinned_image.get("Id") if pinned_image else "(pulled)"})
        for container in containers:
            ref = _ref_of(container)
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
        ref = _ref_of(container)
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


def scan_compose(documents):
    """``[(path, text)]`` of Compose files → ``(unpinned, errors)``: services whose image has no digest."""
    unpinned = []
    errors = []
    for path, text in documents:
        try:
            data = yaml.safe_load(text) if HAS_YAML else json.loads(text)
        except Exception as exc:  # pylint: disable=broad-except  # yaml and json raise different types
            errors.append("%s: not valid YAML: %s" % (path, str(exc).replace("\n", " ")))
            continue
        services = (data or {}).get("services") if isinstance(data, dict) else None
        if not isinstance(services, dict):
            errors.append("%s: no services mapping" % path)
            continue
        for service, spec in sorted(services.items()):
            image = (spec or {}).get("image") if isinstance(spec, dict) else None
            if not image:
                continue
            if "@sha256:" not in str(image):
                unpinned.append({"file": path, "service": service, "image": image})
    return unpinned, errors
