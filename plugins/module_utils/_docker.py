# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``gpufleet_docker`` fact, shaped from Docker Engine API dicts (``/info``, ``/version``,
``/system/df``) plus the filesystem use of the Docker root and the container log sizes.

Pure functions, no Ansible and no Docker SDK import: the collector (``_docker_client.py``) fetches
the dicts and passes them in, the unit tests pass recorded API responses.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import (
    level_check, make_check, worst_status)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._image_ref import (
    digest_for_repo, pinned_by_digest, split_repo_tag, ImageRefError, parse)

SCHEMA_VERSION = 1
DEFAULT_THRESHOLDS = {
    "root_used_warn_pct": 80.0,
    "root_used_crit_pct": 90.0,
    "container_log_warn_bytes": 1073741824,
    "container_log_crit_bytes": 10737418240,
    "unpinned_status": "warn",
}
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
KEEP_LABEL = "gpufleet.keep"
_ANON_VOLUME_RE = re.compile(r"^[0-9a-f]{64}$")
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1000, "m": 1000 ** 2, "g": 1000 ** 3, "t": 1000 ** 4}


def absent(reason):
    """The fact when Docker is missing or does not answer: ``present: false`` and the reason."""
    return {
        "schema_version": SCHEMA_VERSION,
        "present": False,
        "reason": reason,
        "checks": [make_check("docker_present", "ok", False, None, "Docker not available: %s" % reason)],
        "status": "ok",
    }


def parse_log_size(value):
    """Docker's ``max-size`` (``10m``, ``1g``, ``100k``, ``500``) in bytes (units of 1000, as the
    json-file driver uses them); None when unset or unparsable."""
    if value is None:
        return None
    match = _SIZE_RE.match(str(value))
    if not match:
        return None
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def is_anonymous_volume(volume):
    """Anonymous volumes carry ``com.docker.volume.anonymous`` (engine 23+) or a 64-hex name."""
    labels = volume.get("Labels") or {}
    return "com.docker.volume.anonymous" in labels or bool(_ANON_VOLUME_RE.match(volume.get("Name") or ""))


def is_dangling(image):
    """An image with no tag (``RepoTags`` empty or ``<none>:<none>``)."""
    return not [tag for tag in (image.get("RepoTags") or []) if not tag.startswith("<none>")]


def container_name(container):
    """``/ollama`` → ``ollama`` from ``Names`` (list) or ``Name`` (inspect)."""
    names = container.get("Names") or [container.get("Name") or ""]
    return (names[0] or "").lstrip("/") or (container.get("Id") or "")[:12]


def configured_image(container):
    """The reference a container was created from: ``ConfiguredImage`` (``Config.Image``, added by
    the collector) or ``Image`` of the list API, which becomes the image ID once the tag moved."""
    return container.get("ConfiguredImage") or (container.get("Config") or {}).get("Image") or container.get("Image")


def container_volume_names(container):
    """Names of the volumes a container mounts (from ``Mounts``)."""
    return [m.get("Name") for m in container.get("Mounts") or [] if m.get("Type") == "volume" and m.get("Name")]


def _size(value):
    return value if isinstance(value, int) and value >= 0 else 0


def disk_usage(df, log_sizes=None):
    """Sizes per category from a ``/system/df`` response (and container log sizes)."""
    images = df.get("Images") or []
    containers = df.get("Containers") or []
    volumes = df.get("Volumes") or []
    cache = df.get("BuildCache") or []
    used_volumes = set()
    for container in containers:
        used_volumes.update(container_volume_names(container))

    def unique(image):
        shared = image.get("SharedSize")
        size = _size(image.get("Size"))
        return size - shared if isinstance(shared, int) and 0 <= shared <= size else size

    dangling = [i for i in images if is_dangling(i)]
    unused = [i for i in images if not i.get("Containers")]
    running = [c for c in containers if c.get("State") == "running"]

    def vol_unused(volume):
        usage = volume.get("UsageData") or {}
        if usage.get("RefCount") not in (None, -1):
            return usage.get("RefCount") == 0
        return volume.get("Name") not in used_volumes

    def vol_size(volume):
        return _size((volume.get("UsageData") or {}).get("Size"))

    unused_anon = [v for v in volumes if vol_unused(v) and is_anonymous_volume(v)]
    unused_named = [v for v in volumes if vol_unused(v) and not is_anonymous_volume(v)]
    log_sizes = log_sizes or {}
    total_images = df.get("LayersSize")
    if not isinstance(total_images, int):
        total_images = sum(unique(i) for i in images)
    return {
        "images": {
            "count": len(images),
            "total_bytes": total_images,
            "dangling_count": len(dangling),
            "dangling_bytes": sum(unique(i) for i in dangling),
            "unused_count": len(unused),
            "unused_bytes": sum(unique(i) for i in unused),
        },
        "containers": {
            "count": len(containers),
            "running": len(running),
            "stopped": len(containers) - len(running),
            "writable_bytes": sum(_size(c.get("SizeRw")) for c in containers),
            "logs_bytes": sum(_size(log_sizes.get(c.get("Id"))) for c in containers),
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
            "total_bytes": sum(_size(c.get("Size")) for c in cache),
            "reclaimable_bytes": sum(_size(c.get("Size")) for c in cache if not c.get("InUse") and not c.get("Shared")),
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


def build_checks(fact, thresholds):
    """Checks on a shaped fact: Docker root use, container logs, unpinned running images."""
    checks = []
    root = fact.get("root_fs") or {}
    checks.append(level_check(
        "docker_root_used", root.get("used_pct"), thresholds["root_used_warn_pct"], thresholds["root_used_crit_pct"],
        unit=" %", what="use of the Docker root %s" % fact.get("root_dir"),
        fix="run the docker_hygiene role (prune) or move data-root to a bigger filesystem",
        path=fact.get("root_dir")))
    rotated = fact.get("log_max_size_bytes") is not None
    for entry in fact.get("containers") or []:
        if entry.get("log_bytes") is None:
            continue
        checks.append(level_check(
            "container_log_size", entry["log_bytes"], thresholds["container_log_warn_bytes"],
            thresholds["container_log_crit_bytes"], unit=" B", what="log of container %s" % entry["name"],
            fix=("recreate the container to start a fresh log" if rotated else
                 "set log-opts max-size/max-file in daemon.json (docker_hygiene does) and recreate the container"),
            container=entry["name"]))
    unpinned = [e["name"] for e in fact.get("containers") or [] if e["state"] == "running" and not e["pinned_by_digest"]]
    status = thresholds.get("unpinned_status", "warn")
    if unpinned and status != "ok":
        checks.append(make_check(
            "images_unpinned", status, len(unpinned), 0,
            "%d running container(s) use an image by tag, not by digest (%s): pin the digests "
            "(image_digest mode=lock writes a manifest) so an update cannot change them silently"
            % (len(unpinned), ", ".join(unpinned))))
    else:
        checks.append(make_check("images_unpinned", "ok", len(unpinned), 0,
                                 "%d running container(s) use an image by tag" % len(unpinned)))
    return checks


def shape(info, version, df, root_fs=None, log_sizes=None, daemon_config=None, thresholds=None):
    """The ``gpufleet_docker`` fact from the API dicts; ``root_fs`` is ``{size_bytes, used_bytes, free_bytes}``."""
    limits = dict(DEFAULT_THRESHOLDS)
    limits.update(dict((k, v) for k, v in (thresholds or {}).items() if v is not None))
    runtimes = sorted((info.get("Runtimes") or {}).keys())
    fs = None
    if root_fs:
        fs = dict(root_fs)
        total = (fs.get("used_bytes") or 0) + (fs.get("free_bytes") or 0)
        fs["used_pct"] = round(100.0 * fs["used_bytes"] / total, 1) if total else None
    fact = {
        "schema_version": SCHEMA_VERSION,
        "present": True,
        "reason": None,
        "engine_version": (version or {}).get("Version") or info.get("ServerVersion"),
        "api_version": (version or {}).get("ApiVersion"),
        "storage_driver": info.get("Driver"),
        "root_dir": info.get("DockerRootDir"),
        "root_fs": fs,
        "runtimes": runtimes,
        "default_runtime": info.get("DefaultRuntime"),
        "nvidia_runtime": "nvidia" in runtimes,
    }
    fact.update(daemon_log_settings(info, daemon_config))
    fact["disk_usage"] = disk_usage(df, log_sizes)
    fact["containers"] = container_entries(df, log_sizes)
    fact["thresholds"] = limits
    fact["checks"] = build_checks(fact, limits)
    fact["status"] = worst_status(fact["checks"])
    return fact


def repo_tags(image):
    """``[(name, tag), ...]`` of an image's tags (normalised)."""
    result = []
    for entry in image.get("RepoTags") or []:
        name, tag = split_repo_tag(entry)
        if name:
            result.append((name, tag))
    return result


def human_bytes(number):
    """1536 -> '1.5 KiB'; None -> 'n/a' (same output as the summary's helper)."""
    if number is None:
        return "n/a"
    value = float(number)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024.0
    return "%.1f TiB" % value  # pragma: no cover


def docker_section(fact):
    """Summary lines for ``gpufleet_docker`` (used by ``_summary.SECTIONS``)."""
    if not fact.get("present"):
        return ["docker: not present (%s)" % fact.get("reason")]
    usage = fact.get("disk_usage") or {}
    fs = fact.get("root_fs") or {}
    lines = ["docker %s (%s, root %s %s%% used)" % (
        fact.get("engine_version"), fact.get("storage_driver"), fact.get("root_dir"),
        "n/a" if fs.get("used_pct") is None else fs["used_pct"])]
    images = usage.get("images") or {}
    containers = usage.get("containers") or {}
    volumes = usage.get("volumes") or {}
    lines.append("docker images %s (%s, %s unused), containers %s running / %s stopped, volumes %s (%s)" % (
        images.get("count"), human_bytes(images.get("total_bytes")), human_bytes(images.get("unused_bytes")),
        containers.get("running"), containers.get("stopped"), volumes.get("count"), human_bytes(volumes.get("total_bytes"))))
    return lines
