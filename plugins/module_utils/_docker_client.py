# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Docker SDK for Python behind the collection's Docker modules: connect, fetch the API dicts,
remove what a plan lists. Decisions are made elsewhere (``_docker.py``, ``_prune_plan.py``,
``_image_digest.py``); this file only talks to the engine. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import traceback

try:
    import docker
    from docker.errors import DockerException
    from requests.exceptions import RequestException
    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
    # What the SDK raises when the daemon is gone or answers garbage.
    ENGINE_ERRORS = (DockerException, RequestException, OSError, ValueError)
except ImportError:  # pragma: no cover - exercised where the SDK is absent
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()
    ENGINE_ERRORS = (OSError, ValueError)

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _docker

MIN_API_VERSION = "1.41"
DEFAULT_DAEMON_JSON = "/etc/docker/daemon.json"


class EngineError(Exception):
    """The engine could not be reached or refused a call; ``step`` says what we were doing."""

    def __init__(self, step, error, done=None):
        super(EngineError, self).__init__("%s: %s" % (step, error))
        self.step = step
        self.error = str(error)
        self.done = done or {}


def connect(docker_host=None, timeout=30):
    """A ``docker.APIClient`` for ``docker_host`` (default ``$DOCKER_HOST`` or the local socket).

    Raises :class:`EngineError` when the daemon does not answer or its API is older than 1.41.
    """
    host = docker_host or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = docker.APIClient(base_url=host, version="auto", timeout=timeout)
        client.ping()
    except ENGINE_ERRORS as exc:
        raise EngineError("connecting to the Docker daemon at %s" % host, _short(exc))
    if _version_tuple(client.api_version) < _version_tuple(MIN_API_VERSION):
        raise EngineError("connecting to the Docker daemon at %s" % host,
                          "API version %s is older than %s (Docker 20.10); upgrade Docker" % (client.api_version, MIN_API_VERSION))
    return client


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
    except ENGINE_ERRORS as exc:
        raise EngineError(step, _short(exc))


def read_daemon_json(path):
    """``(config dict, error)`` of daemon.json; a missing file is ``({}, None)``."""
    path = path or DEFAULT_DAEMON_JSON
    if not os.path.exists(path):
        return {}, None
    try:
        with open(path) as handle:
            text = handle.read()
        data = json.loads(text) if text.strip() else {}
    except (IOError, OSError, ValueError) as exc:
        return {}, "%s could not be read as JSON: %s" % (path, exc)
    if not isinstance(data, dict):
        return {}, "%s does not hold a JSON object" % path
    return data, None


def add_configured_image(client, containers):
    """Set ``ConfiguredImage`` (``Config.Image``) and ``LogPath`` on each container of a list.

    ``/containers/json`` shows the image ID instead of the configured reference once the tag has
    moved to another image; the inspect keeps what the container was created from.
    """
    for container in containers:
        try:
            details = client.inspect_container(container.get("Id"))
        except ENGINE_ERRORS:
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


def fs_usage(path):
    """``{size_bytes, used_bytes, free_bytes}`` of the filesystem holding ``path`` (df's view), or None."""
    try:
        st = os.statvfs(path)
    except (OSError, TypeError):
        return None
    size = st.f_blocks * st.f_frsize
    return {"size_bytes": size, "used_bytes": (st.f_blocks - st.f_bfree) * st.f_frsize,
            "free_bytes": st.f_bavail * st.f_frsize}


def gather_facts(docker_host=None, timeout=30, daemon_json=None, thresholds=None):
    """``(fact, warnings)``: the ``gpufleet_docker`` fact, ``present: false`` when Docker is absent."""
    if not HAS_DOCKER:
        return _docker.absent("the Docker SDK for Python (pip package 'docker') is not installed on the host"), []
    try:
        client = connect(docker_host, timeout)
    except EngineError as exc:
        return _docker.absent("%s: %s" % (exc.step, exc.error)), []
    warnings = []
    try:
        info = call("reading /info", client.info)
        version = call("reading /version", client.version)
        df = call("reading /system/df", client.df)
        sizes = log_sizes(client, df.get("Containers") or [])
    except EngineError as exc:
        return _docker.absent("%s: %s" % (exc.step, exc.error)), []
    finally:
        client.close()
    config, error = read_daemon_json(daemon_json)
    if error:
        warnings.append(error)
    fact = _docker.shape(info, version, df, root_fs=fs_usage(info.get("DockerRootDir")), log_sizes=sizes,
                         daemon_config=config, thresholds=thresholds)
    fact["daemon_json"] = daemon_json or DEFAULT_DAEMON_JSON
    return fact, warnings


def prune_inputs(client):
    """The lists the prune plan needs: ``/system/df`` plus ``/networks`` and the log sizes."""
    df = call("reading /system/df", client.df)
    networks = call("listing networks", client.networks)
    return {
        "images": df.get("Images") or [],
        "containers": df.get("Containers") or [],
        "volumes": df.get("Volumes") or [],
        "build_cache": df.get("BuildCache") or [],
        "networks": networks or [],
        "log_sizes": log_sizes(client, df.get("Containers") or []),
    }


def apply_prune(client, remove):
    """Remove the containers, images and volumes of a plan, in that order.

    Returns ``{removed: {...}, skipped: [...]}``. An object in use (HTTP 409) or already gone (404)
    is skipped with the engine's reason. Any other engine error raises :class:`EngineError` whose
    ``done`` lists what was removed before it, so nothing half-done is reported as done.
    """
    removed = {"containers": [], "images": [], "volumes": []}
    skipped = []
    steps = (
        ("containers", "removing container %s", lambda item: client.remove_container(item["id"], v=False)),
        ("images", "removing image %s", lambda item: client.remove_image(item["id"], noprune=False)),
        ("volumes", "removing volume %s", lambda item: client.remove_volume(item["name"])),
    )
    for kind, step, action in steps:
        for item in remove.get(kind) or []:
            label = item.get("name") or item.get("image") or item.get("id")
            try:
                action(item)
            except ENGINE_ERRORS as exc:
                status = getattr(exc, "status_code", None)
                if status == 404:
                    skipped.append(dict(item, kind=kind, reason="already gone: %s" % _short(exc)))
                    continue
                if status == 409:
                    skipped.append(dict(item, kind=kind, reason="in use: %s" % _short(exc)))
                    continue
                raise EngineError(step % label, _short(exc), done=removed)
            removed[kind].append(item)
    return {"removed": removed, "not_removed": skipped}


# image_digest ------------------------------------------------------------------------------------

def _remote_answer(client, entry, timeout_note=""):
    """``{digest, kind, pinned_kind, error}`` from the registry for one manifest entry."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._image_digest import media_kind
    try:
        tag_desc = client.inspect_distribution(entry["image"]).get("Descriptor") or {}
    except ENGINE_ERRORS as exc:
        return {"digest": None, "kind": None, "pinned_kind": None,
                "error": "%s: the registry did not answer for the tag: %s" % (entry["image"], _short(exc))}
    answer = {"digest": tag_desc.get("digest"), "kind": media_kind(tag_desc.get("mediaType")),
              "pinned_kind": None, "error": None}
    if answer["digest"] and answer["digest"] != entry["digest"]:
        try:
            pinned_desc = client.inspect_distribution("%s@%s" % (entry["name"], entry["digest"])).get("Descriptor") or {}
            answer["pinned_kind"] = media_kind(pinned_desc.get("mediaType"))
        except ENGINE_ERRORS:
            answer["pinned_kind"] = None  # the registry no longer serves the pinned digest
    else:
        answer["pinned_kind"] = answer["kind"]
    return answer


def _pull_digest(client, name, digest):
    """Pull ``name@digest``; return the local image ID. Raises EngineError with the registry's words."""
    step = "pulling %s@%s" % (name, digest)
    output = call(step, client.pull, name, tag=digest)
    try:
        return client.inspect_image("%s@%s" % (name, digest))["Id"]
    except ENGINE_ERRORS:
        errors = []
        for line in str(output).splitlines():
            try:
                message = json.loads(line).get("error")
            except ValueError:
                message = None
            if message:
                errors.append(message)
        raise EngineError(step, "; ".join(errors) or "the image is not present after the pull")


def _recreate(client, action):
    """Recreate a (non-Compose) container on the pinned image: same config, host config and name."""
    step = "recreating container %s" % action["name"]
    old = call(step, client.inspect_container, action["id"])
    config = old.get("Config") or {}
    host_config = old.get("HostConfig") or {}
    was_running = (old.get("State") or {}).get("Running")
    parked = "%s-gpufleet-old-%s" % (action["name"], action["id"][:12])
    if was_running:
        call(step + " (stop)", client.stop, action["id"])
    call(step + " (rename the old one)", client.rename, action["id"], parked)
    try:
        created = client.create_container(
            image=action["target"], name=action["name"], command=config.get("Cmd"), entrypoint=config.get("Entrypoint"),
            environment=config.get("Env"), labels=config.get("Labels"), working_dir=config.get("WorkingDir") or None,
            user=config.get("User") or None, volumes=list((config.get("Volumes") or {}).keys()) or None,
            host_config=host_config, tty=config.get("Tty", False), stdin_open=config.get("OpenStdin", False))
        if was_running:
            client.start(created["Id"])
    except ENGINE_ERRORS as exc:
        # Put the old container back as it was.
        try:
            client.rename(action["id"], action["name"])
            if was_running:
                client.start(action["id"])
        except ENGINE_ERRORS:
            pass
        raise EngineError(step, "%s (the old container was restored)" % _short(exc))
    call(step + " (remove the old one)", client.remove_container, action["id"])
    return created["Id"]


def restart_container(name, docker_host=None, timeout=30, stop_timeout_s=30):
    """Restart one container by name or ID (the engine stops it, waiting ``stop_timeout_s``, and
    starts it again with the same configuration). Raises :class:`EngineError`."""
    client = connect(docker_host, timeout + stop_timeout_s)
    try:
        call("restarting container %s" % name, client.restart, name, timeout=stop_timeout_s)
    finally:
        client.close()


def image_digest_run(params, check_mode, read_file, write_file):
    """Everything ``image_digest`` does; returns ``(result, warnings)``.

    ``read_file(path) -> text or None`` and ``write_file(path, text)`` are given by the module (the
    latter writes atomically). Raises ManifestError (bad manifest, before any change) or
    EngineError (naming the step).
    """
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _image_digest as pins
    warnings = []
    mode = params["mode"]
    manifest_path = params.get("manifest")
    entries = []
    old_text = None
    if manifest_path:
        old_text = read_file(manifest_path)
        if old_text is None and mode != "lock":
            raise pins.ManifestError("%s: the manifest file does not exist" % manifest_path)
        entries = pins.load_manifest_text(old_text or "", manifest_path)
    if params.get("entries") is not None:
        entries = entries + pins.validate(params["entries"], "entries")
        pins.validate([dict(image=e["image"], digest=e["digest"]) for e in entries], "manifest and entries")
    if mode == "lock" and not manifest_path:
        raise pins.ManifestError("mode=lock needs manifest: the path of the file to write")
    compose_texts = [(path, read_file(path)) for path in params.get("compose_files") or []]
    compose_unpinned, compose_errors = pins.scan_compose([(path, text or "") for path, text in compose_texts])
    compose_errors.extend("%s: file not found" % path for path, text in compose_texts if text is None)
    warnings.extend(compose_errors)

    client = connect(params.get("docker_host"), params.get("timeout") or 60)
    try:
        images = call("listing images", client.images)
        containers = add_configured_image(client, call("listing containers", client.containers, all=True))
        remote = {}
        if params.get("check_remote") and mode == "audit":
            for entry in entries:
                answer = _remote_answer(client, entry)
                if answer["error"]:
                    warnings.append(answer["error"])
                remote[entry["image"]] = answer
        result = {"mode": mode, "changed": False, "compose_unpinned": compose_unpinned, "compose_errors": compose_errors}
        report = pins.audit(entries, images, containers, remote)
        result.update(report)
        if mode == "audit":
            result["checks"], result["status"] = pins.audit_checks(result, bool(params.get("check_remote")))
            return result, warnings
        if mode == "lock":
            new_entries, not_pinnable = pins.lock_entries(entries, images, containers)
            new_text = pins.manifest_text(new_entries)
            result["manifest"] = [dict(image=e["image"], digest=e["digest"]) for e in new_entries]
            result["not_pinnable"] = not_pinnable
            result["changed"] = new_text != (old_text or "")
            result["diff"] = {"before": old_text or "", "after": new_text,
                              "before_header": manifest_path, "after_header": manifest_path}
            if result["changed"] and not check_mode:
                write_file(manifest_path, new_text)
            return result, warnings
        # enforce
        plan = pins.enforce_plan(entries, images, containers, recreate=params.get("recreate"))
        result["actions"] = plan["actions"]
        result["recreate_needed"] = plan["recreate_needed"]
        result["changed"] = bool(plan["actions"])
        result["diff"] = {
            "before": "".join("%s -> %s\n" % (a["image"], a.get("before")) for a in plan["actions"] if a["action"] == "tag")
            + "".join("container %s runs %s\n" % (a["name"], a["image_id"]) for a in plan["actions"] if a["action"] == "recreate"),
            "after": "".join("%s -> %s\n" % (a["image"], a["reference"]) for a in plan["actions"] if a["action"] == "tag")
            + "".join("container %s runs %s\n" % (a["name"], a["pinned"]) for a in plan["actions"] if a["action"] == "recreate"),
        }
        if check_mode or not plan["actions"]:
            return result, warnings
        done = []
        by_entry = dict((e["image"], e) for e in entries)
        try:
            for action in plan["actions"]:
                entry = by_entry.get(action.get("target")) or by_entry.get(action["image"])
                if action["action"] == "pull":
                    _pull_digest(client, entry["name"], entry["digest"])
                elif action["action"] == "tag":
                    image_id = call("inspecting %s" % action["reference"], client.inspect_image, action["reference"])["Id"]
                    call("tagging %s as %s" % (action["reference"], action["image"]), client.tag,
                         image_id, entry["name"], entry["tag"], force=True)
                elif action["action"] == "recreate":
                    _recreate(client, action)
                done.append(action)
        except EngineError as exc:
            exc.done = {"actions": done}
            raise
        result["done"] = done
        return result, warnings
    finally:
        client.close()


def read_text(path):
    """A file's text, or None when it does not exist (manifests and Compose files)."""
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def image_audit_facts(manifest, check_remote=False, compose_files=(), docker_host=None, timeout=60):
    """``(fact, warnings)``: the ``gpufleet_images`` fact, an audit of the pin ``manifest``.

    Never raises for host faults: no manifest gives an ``ok`` note; a manifest that cannot be
    used, a missing Docker SDK or an engine that does not answer give a ``warn`` check saying what
    to fix.
    """
    from ansible_collections.gpufleet.maintenance.plugins.module_utils import _image_digest as pins
    if not os.path.exists(manifest):
        return pins.images_fact(manifest, check_remote), []
    if not HAS_DOCKER:
        return pins.images_fact(manifest, check_remote, problem="the Docker SDK for Python (pip package 'docker') "
                                "is not installed on the host: install it to audit the pins"), []

    params = {"mode": "audit", "manifest": manifest, "entries": None, "check_remote": check_remote,
              "compose_files": list(compose_files or []), "docker_host": docker_host, "timeout": timeout}
    try:
        report, warnings = image_digest_run(params, False, read_text, None)  # audit writes nothing
    except pins.ManifestError as exc:
        return pins.images_fact(manifest, check_remote, problem="%s: fix the manifest" % exc), []
    except EngineError as exc:
        return pins.images_fact(manifest, check_remote, problem="%s: %s: start the Docker engine or set docker_host"
                                % (exc.step, exc.error)), []
    except (IOError, OSError) as exc:
        return pins.images_fact(manifest, check_remote, problem=str(exc)), []
    return pins.images_fact(manifest, check_remote, report=report), warnings


# docker_cleanup ----------------------------------------------------------------------------------

def cleanup_run(params, check_mode, pins):
    """Plan the pinned/label-aware prune and (unless ``check_mode``) remove containers, images and
    volumes. Build cache and networks are only planned (``docker_prune`` removes them)."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._prune_plan import plan as make_plan
    client = connect(params.get("docker_host"), params.get("timeout") or 60)
    try:
        inputs = prune_inputs(client)
        decided = make_plan(
            inputs["images"], inputs["containers"], inputs["volumes"], inputs["build_cache"], inputs["networks"],
            container_age=params["container_age"], image_age=params["image_age"],
            build_cache_age=params["build_cache_age"], keep_per_repository=params["keep_per_repository"],
            pins=pins, volumes_to_remove=params["volumes_to_remove"],
            keep_compose_containers=params["keep_compose_containers"], scope_labels=params["scope_labels"],
            log_sizes=inputs["log_sizes"], prune_networks=params["prune_networks"])
        result = {"plan": decided["remove"], "kept": decided["keep"], "bytes": decided["bytes"],
                  "removed": {"containers": [], "images": [], "volumes": []}, "not_removed": []}
        if check_mode:
            return result
        applied = apply_prune(client, decided["remove"])
        result.update(applied)
        return result
    finally:
        client.close()
