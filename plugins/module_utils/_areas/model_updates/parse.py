# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the model-update check understands: Ollama model names, ``/api/tags``, Ollama manifests as the
registry serves them, the Hugging Face Hub's model info, and the comparisons.

Ollama (``server/manifest.go``): the ``digest`` of a model in ``/api/tags`` is the sha256 of its manifest
file as stored; the registry serves the manifest at ``GET /v2/<namespace>/<model>/manifests/<tag>`` (OCI
distribution API, ``Accept: application/vnd.docker.distribution.manifest.v2+json``), and its digest is
the sha256 of the body. Ollama before 0.19 re-serialised the manifest when it pulled (ollama/ollama
pull request 15101), so an older pull's digest differs from the registry's although nothing changed:
when the digests differ the config and layer digests decide.

Hugging Face: ``GET /api/models/<repo>/revision/<branch>?blobs=true`` answers the branch's commit
(``sha``) and each file (``siblings``: ``rfilename``, ``size``, ``blobId``, and for a file in LFS
``lfs.sha256``). Pure functions, no I/O, no Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.parse import (
    OLLAMA_NAMESPACE, OLLAMA_REGISTRY, hf_snapshot_ref)

MANIFEST_ACCEPT = "application/vnd.docker.distribution.manifest.v2+json"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class ParseError(ValueError):
    """An answer that is not what the protocol says; the message names what was wrong."""


def parse_ollama_name(name):
    """``{host, namespace, model, tag}`` of an Ollama model name, ``[host/][namespace/]model[:tag]``
    (``llama3`` → registry.ollama.ai, library, llama3, latest; ``hf.co/org/repo:Q4_K_M``)."""
    text = (name or "").strip()
    if not text:
        raise ParseError("an empty model name")
    path, tag = text, "latest"
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        path, tag = text[:colon], text[colon + 1:] or "latest"
    parts = path.split("/")
    if len(parts) > 3 or not all(parts):
        raise ParseError("%r is not [host/][namespace/]model[:tag]" % name)
    host = parts[0] if len(parts) == 3 else OLLAMA_REGISTRY
    namespace = parts[-2] if len(parts) >= 2 else OLLAMA_NAMESPACE
    return {"host": host, "namespace": namespace, "model": parts[-1], "tag": tag}


def ollama_short_name(ref):
    """The name Ollama shows (``ollama list``): the default host and namespace left out, the tag kept."""
    prefix = ""
    if ref["host"] != OLLAMA_REGISTRY:
        prefix = "%s/%s/" % (ref["host"], ref["namespace"])
    elif ref["namespace"] != OLLAMA_NAMESPACE:
        prefix = "%s/" % ref["namespace"]
    return "%s%s:%s" % (prefix, ref["model"], ref["tag"])


def ollama_key(ref):
    """One key per model, whatever way its name was written."""
    return (ref["host"], ref["namespace"], ref["model"], ref["tag"])


def registry_base(ref, default_base):
    """The registry a model is pulled from: ``default_base`` (the option, registry.ollama.ai by default)
    for the default host, ``https://<host>`` for a model named with its own host (``hf.co/...``)."""
    if ref["host"] == OLLAMA_REGISTRY:
        return default_base.rstrip("/")
    return "https://%s" % ref["host"]


def manifest_path(ref):
    """The registry path of a model's manifest (OCI distribution API)."""
    return "/v2/%s/%s/manifests/%s" % (ref["namespace"], ref["model"], ref["tag"])


def parse_tags(text):
    """``[{name, digest}]`` of Ollama's ``/api/tags`` answer (``{"models": [...]}``); digest in hex."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError("/api/tags did not answer JSON: %s" % exc)
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise ParseError("/api/tags answered without a models list")
    found = []
    for item in models:
        if not isinstance(item, dict):
            continue
        name = item.get("name") or item.get("model")
        digest = normal_digest(item.get("digest"))
        if name:
            found.append({"name": name, "digest": digest})
    return found


def normal_digest(value):
    """``sha256:<hex>`` or ``<hex>`` → ``<hex>`` (lower case); anything else → None."""
    text = str(value or "").strip().lower()
    if text.startswith("sha256:"):
        text = text[len("sha256:"):]
    return text if _HEX64.match(text) else None


def sha256_hex(data):
    """The sha256 of ``data`` (bytes) in hex: the digest of a manifest as stored or served."""
    return hashlib.sha256(data).hexdigest()


def manifest_content(data):
    """The content of an Ollama manifest (bytes or text): its config digest and its layers' digests, sorted.

    Two manifests with the same content name the same blobs, whatever their bytes (field order, spaces).
    """
    try:
        doc = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError("the manifest is not JSON: %s" % exc)
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
        raise ParseError("the manifest has no layers list")
    layers = sorted(normal_digest((layer or {}).get("digest")) or "?" for layer in doc["layers"])
    return {"config": normal_digest((doc.get("config") or {}).get("digest")), "layers": layers}


def compare_ollama(local_digest, local_content, remote_digest, remote_content):
    """``(update_available, note)`` for one Ollama model.

    The same digest: no update. Digests that differ with the same config and layers: no update (a pull
    by an Ollama before 0.19 stored the manifest re-serialised). Other layers: an update. Digests that
    differ when the local manifest could not be read: ``None`` (not compared), with the reason.
    """
    if local_digest and local_digest == remote_digest:
        return False, "the registry serves the local manifest (sha256:%s)" % remote_digest[:12]
    if local_content is not None and remote_content is not None:
        if local_content == remote_content:
            return False, ("the registry's manifest names the same config and layers as the local one (its bytes "
                           "differ: stored re-serialised by an Ollama before 0.19)")
        changed = len(set(remote_content["layers"]) - set(local_content["layers"]))
        config = " and a new config" if remote_content["config"] != local_content["config"] else ""
        return True, "the registry's manifest names %d new layer(s)%s" % (changed, config)
    if not local_digest:
        return None, "the local manifest's digest is not known"
    return None, ("the registry's manifest digest (sha256:%s) differs from the local one (sha256:%s) and the local "
                  "manifest could not be read to compare their layers" % (remote_digest[:12], local_digest[:12]))


def hub_info(text):
    """``{sha, files: {path: {sha256, size, blob_id}}}`` of the Hub's model info answer."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError("the Hub did not answer JSON: %s" % exc)
    if not isinstance(data, dict) or not _COMMIT.match(str(data.get("sha") or "")):
        raise ParseError("the Hub's answer has no commit sha")
    files = {}
    for sibling in data.get("siblings") or []:
        if not isinstance(sibling, dict) or not sibling.get("rfilename"):
            continue
        lfs = sibling.get("lfs") if isinstance(sibling.get("lfs"), dict) else {}
        files[sibling["rfilename"]] = {"sha256": normal_digest(lfs.get("sha256") or lfs.get("oid")),
                                       "size": lfs.get("size", sibling.get("size")), "blob_id": sibling.get("blobId")}
    return {"sha": data["sha"], "files": files}


def hf_pins(manifest_files, extra=None):
    """The Hugging Face pins: ``[{repo, revision, branch, files: {path: sha256}}]``, one per repo and revision.

    ``manifest_files``: the ``files`` of a model manifest (``model_manifest`` mode=scan), whose Hugging Face
    cache files name their repo and revision in their path; ``extra``: pins given by hand
    (``{repo, revision, branch, files}``). The branch followed is ``main`` unless a pin says otherwise.
    """
    pins = {}
    for entry in manifest_files or []:
        ref = hf_snapshot_ref(str((entry or {}).get("path") or ""))
        if ref is None:
            continue
        repo, revision, name = ref
        pin = pins.setdefault((repo, revision), {"repo": repo, "revision": revision, "branch": "main", "files": {}})
        pin["files"][name] = normal_digest(entry.get("sha256"))
    for entry in extra or []:
        key = (entry["repo"], entry["revision"])
        pin = pins.setdefault(key, {"repo": entry["repo"], "revision": entry["revision"], "branch": "main", "files": {}})
        pin["branch"] = entry.get("branch") or pin["branch"]
        pin["files"].update(dict((name, None) for name in entry.get("files") or [] if name not in pin["files"]))
    return [pins[key] for key in sorted(pins)]


def compare_hf(pin, info):
    """``(update_available, note, changed files)`` of a pinned revision against the branch's info now.

    The same commit: no update. Another commit: each pinned file whose sha256 is known (the model
    manifest's) is compared with the file on the branch; when none changed, the repo moved but the
    files did not (no update). A file gone from the branch, a changed one, or a repo that moved with no
    file to compare is an update (the commit moved: read what changed).
    """
    if info["sha"] == pin["revision"]:
        return False, "the branch %s is still at the pinned commit %s" % (pin["branch"], pin["revision"][:12]), []
    changed, same, unknown = [], [], []
    for name, local in sorted(pin["files"].items()):
        remote = info["files"].get(name)
        if remote is None:
            changed.append("%s (gone)" % name)
        elif local and remote.get("sha256"):
            (same if remote["sha256"] == local else changed).append(name)
        else:
            unknown.append(name)
    moved = "%s moved from %s to %s" % (pin["branch"], pin["revision"][:12], info["sha"][:12])
    if changed:
        return True, "%s; changed: %s" % (moved, ", ".join(changed)), changed
    if same and not unknown:
        return False, "%s, but the pinned files are unchanged (%s)" % (moved, ", ".join(same)), []
    if unknown:
        return True, "%s; not comparable by content (no sha256 on one side): %s" % (moved, ", ".join(unknown)), []
    return True, "%s (the pin names no file to compare by content)" % moved, []
