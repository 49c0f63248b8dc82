# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the models area understands of a model store: artefact kinds, Ollama manifests, blob names.

Stores understood: loose GGUF and safetensors files, Hugging Face cache snapshots
(``models--org--name/snapshots/<rev>/...`` linking into ``blobs/``) and Ollama's store
(``models/manifests/<registry>/<namespace>/<model>/<tag>`` JSON naming content-addressed
``models/blobs/sha256-<hex>`` files). Pure functions (paths and text in), no I/O, no Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

MANIFEST_VERSION = 1
MODEL_SUFFIXES = (".gguf", ".safetensors", ".bin", ".pt", ".pth", ".onnx")
_OLLAMA_BLOB = re.compile(r"^sha256[-:]([0-9a-f]{64})$")


def classify(path):
    """Kind of a model artefact from its path, or None for files that are not model artefacts."""
    name = os.path.basename(path)
    parts = path.split(os.sep)
    if _OLLAMA_BLOB.match(name) and "blobs" in parts:
        return "ollama_blob"
    if "snapshots" in parts and any(p.startswith("models--") for p in parts):
        return "hf_snapshot"
    if name.endswith(".gguf"):
        return "gguf"
    if name.endswith(".safetensors"):
        return "safetensors"
    if name.endswith(MODEL_SUFFIXES):
        return "weights"
    return None


def blob_digest(path):
    """The sha256 (hex) an Ollama blob's own name promises (``sha256-<hex>``), or None."""
    match = _OLLAMA_BLOB.match(os.path.basename(path))
    return match.group(1) if match else None


def is_ollama_manifest(rel_parts):
    """Whether a file, by its path parts relative to a store root, is an Ollama manifest."""
    return "manifests" in rel_parts and "blobs" not in rel_parts


OLLAMA_REGISTRY = "registry.ollama.ai"
OLLAMA_NAMESPACE = "library"


def ollama_manifest_name(path):
    """``(registry host, namespace/model path, tag)`` of an Ollama manifest file from its path
    (``.../manifests/registry.ollama.ai/library/gemma3/270m``); ValueError for another path."""
    parts = path.split(os.sep)
    if "manifests" not in parts:
        raise ValueError("not an Ollama manifest path: %s" % path)
    index = len(parts) - 1 - parts[::-1].index("manifests")
    tail = parts[index + 1:]
    if len(tail) < 3:
        raise ValueError("not an Ollama manifest path: %s" % path)
    return tail[0], "/".join(tail[1:-1]), tail[-1]


def parse_ollama_manifest(path, text):
    """``(model:tag, [sha256 hex of each layer and the config])`` of one Ollama manifest file."""
    _host, model, tag = ollama_manifest_name(path)
    if model.startswith(OLLAMA_NAMESPACE + "/"):
        model = model[len(OLLAMA_NAMESPACE) + 1:]
    data = json.loads(text)
    digests = []
    for item in [data.get("config") or {}] + list(data.get("layers") or []):
        digest = blob_digest(item.get("digest") or "")
        if digest:
            digests.append(digest)
    return "%s:%s" % (model, tag), digests


def hf_snapshot_ref(path):
    """``(repo, revision, file in the repo)`` of a file in a Hugging Face cache snapshot
    (``.../models--org--name/snapshots/<commit>/sub/file``), or None for another path. The cache names
    the repo ``models--`` + its id with ``/`` as ``--``, and the snapshot after the commit it holds."""
    parts = path.split(os.sep)
    for index in range(len(parts) - 3, -1, -1):
        if parts[index].startswith("models--") and parts[index + 1] == "snapshots":
            repo = parts[index][len("models--"):].replace("--", "/")
            rel = parts[index + 3:]
            if repo and rel and parts[index + 2]:
                return repo, parts[index + 2], "/".join(rel)
    return None


def manifest(roots, files, ollama):
    """A manifest: ``{version, roots, files, ollama_models}`` (``files``: ``[{path, kind, size_bytes, sha256}]``)."""
    return {"version": MANIFEST_VERSION, "roots": list(roots), "files": list(files),
            "ollama_models": dict(sorted((ollama or {}).items()))}


def serving_entries(entries):
    """Serving entries as a manifest keeps them (``serving``, next to ``files``): without the keys left unset
    (an option's suboptions come as None), keys sorted."""
    return [dict((key, value) for key, value in sorted(entry.items()) if value is not None)
            if isinstance(entry, dict) else {"model": str(entry)} for entry in entries or []]


def under_any(path, directories):
    """Whether ``path`` is one of ``directories`` or inside one of them."""
    for directory in directories:
        directory = directory.rstrip(os.sep)
        if path == directory or path.startswith(directory + os.sep):
            return True
    return False
