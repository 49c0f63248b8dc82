# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Docker engine: the one file that imports the Docker SDK for Python.

Connect, run one engine call under a step name (:func:`call`), and the engine operations the
collection shares (log sizes, registry descriptors, pulls, removals, restarts). Below them, the
helpers that read the Engine API's dicts (``/containers/json``, ``/images/json``,
``/system/df``): container names, configured images, dangling images, anonymous volumes. The
docker and images areas and the docker_cleanup, image_digest and vram_guard operations use them;
their decisions live with them. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import os
import re
import sys
import traceback

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.runner import find_tool
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.image_ref import split_repo_tag

MIN_API_VERSION = "1.41"
DEFAULT_SOCKET = "unix:///var/run/docker.sock"
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
KEEP_LABEL = "gpufleet.keep"
_ANON_VOLUME_RE = re.compile(r"^[0-9a-f]{64}$")
# Files that say Docker is installed on a host (Debian/Ubuntu docker.io and docker-ce, RPM packages).
UNIT_FILES = tuple("%s/docker.%s" % (directory, kind)
                   for directory in ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
                   for kind in ("service", "socket"))
SDK_FIX = "run the gpufleet.maintenance.prerequisites role (it installs the Docker SDK for Python for the modules)"
ENGINE_FIX = "start it (systemctl start docker) or look at its log (journalctl -u docker)"

# The Docker SDK is imported when first needed, not with this file: it pulls in requests and urllib3
# (about 0.2 s of a host's CPU per module run), which a host without Docker never needs.
_SDK = {}


def _sdk():
    if not _SDK:
        try:
            import docker
            from docker.errors import DockerException
            from requests.exceptions import RequestException
            # What the SDK raises when the daemon is gone or answers garbage.
            _SDK.update(module=docker, errors=(DockerException, RequestException, OSError, ValueError), import_error=None)
        except ImportError:
            _SDK.update(module=None, errors=(OSError, ValueError), import_error=traceback.format_exc())
    return _SDK


def has_sdk():
    """Whether the Docker SDK for Python imports here (imports it on first call)."""
    return _sdk()["module"] is not None


def sdk_import_error():
    """The traceback of the SDK's failed import (for ``fail_json(exception=...)``), or None."""
    return _sdk()["import_error"]


def engine_errors():
    """The exceptions that mean the engine is gone or answered garbage."""
    return _sdk()["errors"]


class EngineError(Exception):
    """The engine could not be reached or refused a call; ``step`` says what we were doing.

    ``status`` is the HTTP status the engine answered with (404, 409...), None when it did not
    answer; ``done`` is what an operation had done before the error.
    """

    def __init__(self, step, error, done=None, status=None):
        super(EngineError, self).__init__("%s: %s" % (step, error))
        self.step = step
        self.error = str(error)
        self.done = done or {}
        self.status = status


class EngineTooOld(EngineError):
    """The daemon answered, with an API older than the collection needs."""


def daemon_address(docker_host=None):
    """The daemon ``connect`` talks to: ``docker_host``, else ``$DOCKER_HOST``, else the local socket."""
    return docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


def connect(docker_host=None, timeout=30):
    """A ``docker.APIClient`` for ``docker_host`` (see :func:`daemon_address`).

    Raises :class:`EngineError` when the daemon does not answer or its API is older than 1.41.
    """
    host = daemon_address(docker_host)
    try:
        client = _sdk()["module"].APIClient(base_url=host, version="auto", timeout=timeout)
        client.ping()
    except engine_errors() as exc:
        raise EngineError("connecting to the Docker daemon at %s" % host, _short(exc))
    if _version_tuple(client.api_version) < _version_tuple(MIN_API_VERSION):
        client.close()
        raise EngineTooOld("connecting to the Docker daemon at %s" % host,
                           "API version %s is older than %s (Docker 20.10); upgrade Docker" % (client.api_version, MIN_API_VERSION))
    return client


def install_evidence(docker_host=None):
    """What says Docker is installed here: ``docker_host`` or ``$DOCKER_HOST`` set, the daemon's
    unix socket, the ``dockerd`` binary, a docker unit file (:data:`UNIT_FILES`). An empty list:
    Docker is not installed."""
    found = []
    if docker_host or os.environ.get("DOCKER_HOST"):
        found.append("docker_host %s" % daemon_address(docker_host))
    address = daemon_address(docker_host)
    if address.startswith("unix://") and os.path.exists(address[len("unix://"):]):
        found.append("socket %s" % address[len("unix://"):])
    dockerd = find_tool("dockerd")
    if dockerd:
        found.append(dockerd)
    found.extend(path for path in UNIT_FILES if os.path.exists(path))
    return found


def sdk_missing_reason(evidence):
    """Why the engine could not be read without the SDK (for an ``unknown`` verdict)."""
    return ("the Docker SDK for Python (pip package 'docker') is not installed for %s, and Docker is installed (%s)"
            % (sys.executable, ", ".join(evidence)))


def silent_reason(exc, evidence):
    """Why a daemon that Docker's files say should run did not answer (for a ``crit`` verdict)."""
    return "Docker is installed (%s) but the daemon does not answer (%s)" % (", ".join(evidence), exc)


def _version_tuple(text):
    try:
        return tuple(int(p) for p in str(text).split("."))
    except ValueError:
        return (0,)


def _short(exc):
    text = getattr(exc, "explanation", None) or str(exc)
    return str(text).strip().splitlines()[0][:500] if str(text).strip() else exc.__class__.__name__


def call(step, func, *args, **kwargs):
    """Run one SDK call; turn engine errors into :class:`EngineError` naming ``step``."""
    try:
        return func(*args, **kwargs)
    except engine_errors() as exc:
        raise EngineError(step, _short(exc), status=getattr(exc, "status_code", None))


def add_configured_image(client, containers):
    """Set ``ConfiguredImage`` (``Config.Image``) and ``LogPath`` on each container of a list.

    ``/containers/json`` shows the image ID instead of the configured reference once the tag has
    moved to another image; the inspect keeps what the container was created from.
    """
    for container in containers:
        try:
            details = call("inspecting container %s" % container.get("Id"), client.inspect_container, container.get("Id"))
        except EngineError:
            continue
        container["ConfiguredImage"] = (details.get("Config") or {}).get("Image")
        container["LogPath"] = details.get("LogPath")
    return containers


def log_sizes(client, containers):
    """``{container id: bytes}`` of each container's json-file log (``LogPath``), where readable."""
    sizes = {}
    for container in containers:
        cid = container.get("Id")
        if "LogPath" not in container:
            add_configured_image(client, [container])
        path = container.get("LogPath")
        if path:
            try:
                sizes[cid] = os.path.getsize(path)
            except OSError:
                sizes[cid] = None
    return sizes


def registry_descriptor(client, reference):
    """The registry's descriptor (``digest``, ``mediaType``) of ``reference``, asked through the engine."""
    return call("asking the registry for %s" % reference, client.inspect_distribution, reference).get("Descriptor") or {}


def remove(client, kind, item):
    """Remove one container (by ``id``), image (``id``) or volume (``name``); raises EngineError."""
    label = item.get("name") or item.get("image") or item.get("id")
    if kind == "containers":
        call("removing container %s" % label, client.remove_container, item["id"], v=False)
    elif kind == "images":
        call("removing image %s" % label, client.remove_image, item["id"], noprune=False)
    elif kind == "volumes":
        call("removing volume %s" % label, client.remove_volume, item["name"])
    else:
        raise ValueError("internal error: cannot remove a %r" % kind)


def restart_container(name, docker_host=None, timeout=30, stop_timeout_s=30):
    """Restart one container by name or ID (the engine stops it, waiting ``stop_timeout_s``, and
    starts it again with the same configuration). Raises :class:`EngineError`."""
    client = connect(docker_host, timeout + stop_timeout_s)
    try:
        call("restarting container %s" % name, client.restart, name, timeout=stop_timeout_s)
    finally:
        client.close()


# Named volumes, read through the engine ---------------------------------------------------------

VOLUME_HELPER_LABEL = "io.gpufleet.backup-helper"
_VOLUME_MOUNT = "/gpufleet-volume"


def export_volume(client, name, image, out):
    """Write named volume ``name`` as a tar stream (the Engine API's ``GET /containers/{id}/archive``)
    to ``out`` (a binary file object); return the bytes written. Raises :class:`EngineError`.

    The engine reads the files, so this needs the Docker socket and no access to the volume's data
    (its ``Mountpoint`` is root's), and it works for any volume driver and for rootless or remote
    engines. The helper container is created from ``image`` with the volume mounted read-only, never
    started (so the image's content, entrypoint and architecture do not matter), and removed
    afterwards with its anonymous volumes, also when the read fails.
    """
    helper = call("creating a helper container for volume %s" % name, client.create_container, image, command=["true"],
                  network_disabled=True, labels={VOLUME_HELPER_LABEL: name},
                  host_config=client.create_host_config(binds={name: {"bind": _VOLUME_MOUNT, "mode": "ro"}}, network_mode="none"))
    written = 0
    try:
        stream, dummy = call("reading volume %s" % name, client.get_archive, helper["Id"], _VOLUME_MOUNT + "/.")
        try:
            for chunk in stream:
                out.write(chunk)
                written += len(chunk)
        except engine_errors() as exc:
            raise EngineError("reading volume %s" % name, _short(exc), status=getattr(exc, "status_code", None))
    finally:
        call("removing the helper container of volume %s" % name, client.remove_container, helper["Id"], v=True, force=True)
    return written


# Engine API dicts --------------------------------------------------------------------------------

def container_name(container):
    """``/ollama`` → ``ollama`` from ``Names`` (list) or ``Name`` (inspect)."""
    names = container.get("Names") or [container.get("Name") or ""]
    return (names[0] or "").lstrip("/") or (container.get("Id") or "")[:12]


def configured_image(container):
    """The reference a container was created from: ``ConfiguredImage`` (``Config.Image``, added by
    :func:`add_configured_image`) or ``Image`` of the list API, which becomes the image ID once the
    tag moved."""
    return container.get("ConfiguredImage") or (container.get("Config") or {}).get("Image") or container.get("Image")


def container_volume_names(container):
    """Names of the volumes a container mounts (from ``Mounts``)."""
    return [m.get("Name") for m in container.get("Mounts") or [] if m.get("Type") == "volume" and m.get("Name")]


def is_anonymous_volume(volume):
    """Anonymous volumes carry ``com.docker.volume.anonymous`` (engine 23+) or a 64-hex name."""
    labels = volume.get("Labels") or {}
    return "com.docker.volume.anonymous" in labels or bool(_ANON_VOLUME_RE.match(volume.get("Name") or ""))


def is_dangling(image):
    """An image with no tag (``RepoTags`` empty or ``<none>:<none>``)."""
    return not [tag for tag in (image.get("RepoTags") or []) if not tag.startswith("<none>")]


def repo_tags(image):
    """``[(name, tag), ...]`` of an image's tags (normalised)."""
    result = []
    for entry in image.get("RepoTags") or []:
        name, tag = split_repo_tag(entry)
        if name:
            result.append((name, tag))
    return result


def size(value):
    """A size the engine reported, or 0 for a missing or placeholder (-1) one."""
    return value if isinstance(value, int) and value >= 0 else 0


def image_unique_bytes(image):
    """Bytes only this image holds (``Size`` minus ``SharedSize`` when the engine computed it)."""
    whole = size(image.get("Size"))
    shared = image.get("SharedSize")
    return whole - shared if isinstance(shared, int) and 0 <= shared <= whole else whole


def select_volumes(volumes, patterns):
    """``(selected, unmatched)``: the named volumes (``/volumes`` dicts; anonymous ones left out) whose
    name matches one of ``patterns`` (shell globs, ``*`` for all), sorted by name, and the patterns
    that matched no named volume."""
    named = sorted((v for v in volumes if not is_anonymous_volume(v)), key=lambda v: v.get("Name") or "")
    selected = [v for v in named if any(fnmatch.fnmatchcase(v.get("Name") or "", p) for p in patterns)]
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(v.get("Name") or "", p) for v in named)]
    return selected, unmatched


def helper_image(volume_name, containers, images):
    """The image ID to create a volume's helper container from: the image of a container that mounts
    the volume (``/containers/json?all=1`` dicts), else the smallest local image (``/images/json``);
    None when the engine has no image at all."""
    for container in containers:
        if volume_name in container_volume_names(container) and container.get("ImageID"):
            return container["ImageID"]
    ranked = sorted(images, key=lambda i: (size(i.get("Size")), i.get("Id") or ""))
    return ranked[0]["Id"] if ranked else None
