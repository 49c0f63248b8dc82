# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the docker area is shown: its summary lines and its Prometheus metrics. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import human_bytes


def summary_lines(fact):
    if not fact.get("present"):
        found = [c for c in fact.get("checks") or [] if c.get("check") == "docker_present"]
        if found and found[0].get("status") != "ok":
            return ["docker: %s" % found[0].get("message")]
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


# What Docker could free per category, as `docker system df` counts it: unused images, unused volumes,
# build cache not in use.
RECLAIMABLE = (
    ("images", ("unused_bytes",)),
    ("volumes", ("unused_anonymous_bytes", "unused_named_bytes")),
    ("build_cache", ("reclaimable_bytes",)),
)


def metrics(fact, fam):
    usage = (fact or {}).get("disk_usage") or {}
    for category, keys in RECLAIMABLE:
        values = [(usage.get(category) or {}).get(key) for key in keys]
        fam.add("gpufleet_docker_reclaimable_bytes", "Bytes Docker could free in a category.", "gauge",
                {"category": category}, None if None in values else sum(values))
