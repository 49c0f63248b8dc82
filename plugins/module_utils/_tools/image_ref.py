# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image references: ``[registry/]repo[:tag][@sha256:...]``, normalised the way the engine does.

``docker.io/library/ollama`` , ``library/ollama`` and ``ollama`` are the same repository; a
registry host is a first component holding a ``.`` or ``:`` or equal to ``localhost``.
Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

DEFAULT_REGISTRY = "docker.io"
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$")


class ImageRefError(ValueError):
    """A string that is not a valid image reference."""


def is_digest(value):
    """True for ``sha256:`` followed by 64 lowercase hex digits."""
    return isinstance(value, str) and bool(_DIGEST_RE.match(value))


def parse(reference):
    """Split a reference into ``{registry, repository, tag, digest, name}``.

    ``repository`` is normalised (``docker.io/library/x`` → ``x`` with ``registry`` ``docker.io``);
    ``name`` is the short form the engine shows in ``RepoTags`` (``x``, ``ghcr.io/o/x``,
    ``127.0.0.1:5000/x``). ``tag`` and ``digest`` are ``None`` when absent; nothing is defaulted.
    Raises :class:`ImageRefError` for anything the engine would refuse.
    """
    if not isinstance(reference, str) or not reference.strip():
        raise ImageRefError("an image reference must be a non-empty string, got %r" % (reference,))
    ref = reference.strip()
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
        if not is_digest(digest):
            raise ImageRefError("%s: the digest must be sha256: followed by 64 hex digits, got %r" % (reference, digest))
    tag = None
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref, tag = ref.rsplit(":", 1)
        if not _TAG_RE.match(tag):
            raise ImageRefError("%s: invalid tag %r" % (reference, tag))
    parts = ref.split("/")
    registry = DEFAULT_REGISTRY
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry = parts[0]
        parts = parts[1:]
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DEFAULT_REGISTRY
    if not parts or not all(_COMPONENT_RE.match(part) for part in parts):
        raise ImageRefError("%s: invalid repository name %r (lowercase letters, digits and . _ - only)" % (reference, "/".join(parts)))
    if registry == DEFAULT_REGISTRY and len(parts) == 2 and parts[0] == "library":
        parts = parts[1:]
    repository = "/".join(parts)
    name = repository if registry == DEFAULT_REGISTRY else "%s/%s" % (registry, repository)
    return dict(registry=registry, repository=repository, tag=tag, digest=digest, name=name)


def repo_name(reference):
    """The normalised repository name (``name`` of :func:`parse`) of a reference."""
    return parse(reference)["name"]


def split_repo_digest(repo_digest):
    """``"repo@sha256:..."`` (an entry of ``RepoDigests``) → ``(name, digest)``; ``(None, None)`` if malformed."""
    try:
        parsed = parse(repo_digest)
    except ImageRefError:
        return None, None
    return (parsed["name"], parsed["digest"]) if parsed["digest"] else (None, None)


def split_repo_tag(repo_tag):
    """``"repo:tag"`` (an entry of ``RepoTags``) → ``(name, tag)``; ``(None, None)`` for ``<none>:<none>``."""
    if not repo_tag or repo_tag.startswith("<none>"):
        return None, None
    try:
        parsed = parse(repo_tag)
    except ImageRefError:
        return None, None
    return parsed["name"], parsed["tag"] or "latest"


def canonical(reference, default_tag="latest"):
    """``name:tag`` of a reference, with ``default_tag`` when it has none (and no digest)."""
    parsed = parse(reference)
    if parsed["tag"]:
        return "%s:%s" % (parsed["name"], parsed["tag"])
    if parsed["digest"]:
        return "%s@%s" % (parsed["name"], parsed["digest"])
    return "%s:%s" % (parsed["name"], default_tag)


def pinned_by_digest(reference):
    """True when a configured reference carries a digest (``repo@sha256:...`` or ``repo:tag@sha256:...``)."""
    try:
        return parse(reference)["digest"] is not None
    except ImageRefError:
        return False


def digest_for_repo(repo_digests, name):
    """The digest in ``RepoDigests`` that belongs to repository ``name`` (normalised), else None."""
    for entry in repo_digests or ():
        repo, digest = split_repo_digest(entry)
        if repo is not None and repo == name:
            return digest
    return None
