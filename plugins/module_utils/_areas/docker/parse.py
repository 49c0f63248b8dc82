# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker area's readings, shaped from Engine API dicts (``/info``, ``/version``,
``/system/df``) plus the filesystem use of the Docker root, the container log sizes and the text
of daemon.json.

Pure functions, no Ansible and no Docker SDK import: ``collect.py`` fetches the dicts and passes
them in, the unit tests pass recorded API responses.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.docker import (
    COMPOSE_PROJECT_LABEL, KEEP_LABEL, configured_image, container_name, container_volume_names,
    image_unique_bytes, is_anonymous_volume, is_dangling, size)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.image_ref import (
    ImageRefError, digest_for_repo, parse, pinned_by_digest)

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1000, "m": 1000 ** 2, "g": 1000 ** 3, "t": 1000 ** 4}


def absent(reason, evidence=(), sdk=True, too_old=False):
    """The readings when no engine answered: ``present: false``, the reason, and what says Docker is
    installed (``install_evidence``: empty when it is not); ``sdk``: the Docker SDK for Python is
    there (None: not looked for, as nothing says Docker is installed); ``too_old``: the engine answered
    with an API older than 1.41."""
    return {"present": False, "reason": reason, "install_evidence": list(evidence), "sdk": None if sdk is None else bool(sdk),
            "too_old": bool(too_old)}


def parse_log_size(value):
    """Docker's ``max-size`` (``10m``, ``1g``, ``100k``, ``500``) in bytes (units of 1000, as the
    json-file driver uses them); None when unset or unparsable."""
    if value is None:
        return None
    match = _SIZE_RE.match(str(value))
    if not match:
        return None
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def parse_daemon_json(text, path):
    """``(config dict, error)`` from the text of daemon.json; None (no file) and blank text are ``{}``."""
    if text is None or not text.strip():
        return {}, None
    try:
        data = json.loads(text)
    except ValueError as exc:
        return {}, "%s could not be read as JSON: %s" % (path, exc)
    if not isinstance(data, dict):
        return {}, "%s does not hold a JSON object" % path
    return data, None


def restart_state(state_text, state_file, daemon_json, daemon_json_mtime_s, pidfile, daemon_started_s):
    """What the host says about a daemon.json change that waits for a restart of Docker.

    ``state_text``: the state file docker_hygiene writes when it changed daemon.json without
    restarting Docker (None: no such change pending). The daemon's start time is the mtime of its
    pidfile (dockerd rewrites it at every start); None when it cannot be read here. Returns None
    when nothing is pending, else ``{state_file, daemon_json, daemon_json_mtime_s, pidfile,
    daemon_started_s, restarted}`` (``restarted`` None when it cannot be told)."""
    if state_text is None:
        return None
    restarted = None
    if daemon_started_s is not None and daemon_json_mtime_s is not None:
        restarted = daemon_started_s >= daemon_json_mtime_s
    return {"state_file": state_file, "daemon_json": daemon_json, "daemon_json_mtime_s": daemon_json_mtime_s,
            "pidfile": pidfile, "daemon_started_s": daemon_started_s, "restarted": restarted}


def disk_usage(df, log_sizes=None):
    """Sizes per category from a ``/system/df`` response (and container log sizes)."""
    images = df.get("Images") or []
    containers = df.get("Containers") or []
    volumes = df.get("Volumes") or []
    cache = df.get("BuildCache") or []
    used_volumes = set()
    for container in containers:
        used_volumes.update(container_volume_names(container))

    dangling = [i for i in images if is_dangling(i)]
    unused = [i for i in images if not i.get("Containers")]
    running = [c for c in containers if c.get("State") == "running"]

    def vol_unused(volume):
        usage = volume.get("UsageData") or {}
        if usage.get("RefCount") not in (None, -1):
            return usage.get("RefCount") == 0
        return volume.get("Name") not in used_volumes

    def vol_size(volume):
        return size((volume.get("UsageData") or {}).get("Size"))

    unused_anon = [v for v in volumes if vol_unused(v) and is_anonymous_volume(v)]
    unused_named = [v for v in volumes if vol_unused(v) and not is_anonymous_volume(v)]
    log_sizes = log_sizes or {}
    total_images = df.get("LayersSize")
    if not isinstance(total_images, int):
        total_images = sum(image_unique_bytes(i) for i in images)
    return {
        "images": {
            "count": len(images),
            "total_bytes": total_images,
            "dangling_count": len(dangling),
            "dangling_bytes": sum(image_unique_bytes(i) for i in dangling),
            "unused_count": len(unused),
            "unused_bytes": sum(image_unique_bytes(i) for i in unused),
        },
        "containers": {
            "count": len(containers),
            "running": len(running),
            "stopped": len(containers) - len(running),
            "writable_bytes": sum(size(c.get("SizeRw")) for c in containers),
            "logs_bytes": sum(size(log_sizes.get(c.get("Id"))) for c in containers),
        },
        "volumes": {
            "count": len(volumes),
            "total_bytes": sum(vol_size(v) for v in volumes),
            "unused_anonymous_count": len(unused_anon),
            "unused_anonymous_bytes": sum(vol_size(v) for v in unused_anon),
            "unused_named_count": len(unused_named),
            "unused_named_bytes": sum(vol_size(v) for v in unused_named),
        },
        "build_cache": {
            "count": len(cache),
            "total_bytes": sum(size(c.get("Size")) for c in cache),
            "reclaimable_bytes": sum(size(c.get("Size")) for c in cache if not c.get("InUse") and not c.get("Shared")),
        },
    }


def container_entries(df, log_sizes=None):
    """One entry per container: name, configured image, image ID, repo digest, pin, state, log size."""
    images = dict((i.get("Id"), i) for i in df.get("Images") or [])
    log_sizes = log_sizes or {}
    entries = []
    for container in df.get("Containers") or []:
        configured = configured_image(container) or ""
        image = images.get(container.get("ImageID")) or {}
        try:
            name = parse(configured)["name"]
        except ImageRefError:
            name = None
        repo_digest = digest_for_repo(image.get("RepoDigests"), name) if name else None
        labels = container.get("Labels") or {}
        entries.append({
            "name": container_name(container),
            "id": container.get("Id"),
            "image": configured,
            "image_id": container.get("ImageID"),
            "repo_digest": repo_digest,
            "pinned_by_digest": pinned_by_digest(configured),
            "state": container.get("State"),
            "compose_project": labels.get(COMPOSE_PROJECT_LABEL),
            "keep": str(labels.get(KEEP_LABEL, "")).lower() == "true",
            "writable_bytes": container.get("SizeRw") if isinstance(container.get("SizeRw"), int) else None,
            "log_bytes": log_sizes.get(container.get("Id")),
        })
    entries.sort(key=lambda e: e["name"])
    return entries


def daemon_log_settings(info, daemon_config):
    """Log driver from ``/info``; ``max-size``/``max-file`` from daemon.json (the API does not report them)."""
    opts = (daemon_config or {}).get("log-opts") or {}
    max_file = opts.get("max-file")
    try:
        max_file = int(max_file) if max_file is not None else None
    except (TypeError, ValueError):
        max_file = None
    return {
        "log_driver": info.get("LoggingDriver") or (daemon_config or {}).get("log-driver"),
        "log_max_size": opts.get("max-size"),
        "log_max_size_bytes": parse_log_size(opts.get("max-size")),
        "log_max_file": max_file,
    }


def shape(info, version, df, root_fs=None, log_sizes=None, daemon_config=None):
    """The docker area's readings from the API dicts; ``root_fs`` is the Docker root's filesystem
    use (``size_bytes``, ``used_bytes``, ``free_bytes``, ``used_pct``, as the host area reads it)."""
    runtimes = sorted((info.get("Runtimes") or {}).keys())
    data = {
        "present": True,
        "reason": None,
        "engine_version": (version or {}).get("Version") or info.get("ServerVersion"),
        "api_version": (version or {}).get("ApiVersion"),
        "storage_driver": info.get("Driver"),
        "root_dir": info.get("DockerRootDir"),
        "root_fs": dict(root_fs) if root_fs else None,
        "runtimes": runtimes,
        "default_runtime": info.get("DefaultRuntime"),
        "nvidia_runtime": "nvidia" in runtimes,
    }
    data.update(daemon_log_settings(info, daemon_config))
    data["disk_usage"] = disk_usage(df, log_sizes)
    data["containers"] = container_entries(df, log_sizes)
    return data
