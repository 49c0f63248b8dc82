# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image pin manifest and Compose files read as text, and the registry's answers.

The manifest is read by the images area (the audit), ``image_digest`` (audit, enforce, lock) and
``docker_cleanup`` (pinned images stay). Pure functions, no Ansible and no SDK import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.image_ref import ImageRefError, is_digest, parse

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

INDEX_MEDIA_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
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
