# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker area's checks: the table (data) and the verdicts over the collected readings.

Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import iso
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.docker import SDK_FIX

_BYTES = {"type": "int"}
UNPINNED_STATUSES = ["ok", "warn", "crit"]

CHECKS = CheckTable(
    Check("docker_present", "Whether the Docker engine answers: ok when it does or when Docker is not installed; "
          "crit when Docker is installed but the daemon does not answer; unknown without the Docker SDK for Python.",
          fix="start it (systemctl start docker) or look at its log (journalctl -u docker)"),
    Check("docker_root_used", "Use of the filesystem holding the Docker root (images, containers, volumes).",
          subject=("path",), thresholds=(("root_used_warn_pct", 80), ("root_used_crit_pct", 90)), unit=" %",
          fix="run the docker_hygiene role (prune) or move data-root to a bigger filesystem",
          reads=("root_fs.used_pct",)),
    Check("container_log_size", "Size of each container's json-file log.",
          subject=("container",),
          thresholds=(("container_log_warn_bytes", 1073741824, _BYTES), ("container_log_crit_bytes", 10737418240, _BYTES)),
          unit=" B", fix="set log-opts max-size/max-file in daemon.json (docker_hygiene does) and recreate the container",
          reads=("containers[].log_bytes",)),
    Check("daemon_restart_pending", "Whether a daemon.json change (docker_hygiene's log rotation) still waits for a "
          "restart of Docker, run after run until Docker restarted.",
          fix="restart Docker to apply it (systemctl restart docker, or docker_hygiene with "
              "docker_hygiene_restart_allowed: true); containers created after the restart get the new log options"),
    Check("images_unpinned", "Running containers whose image is referenced by tag, not by digest.",
          thresholds=(("unpinned_status", "warn", {"type": "str", "choices": UNPINNED_STATUSES}),),
          fix="pin the digests (image_digest mode=lock writes a manifest) so an update cannot change them silently"),
)


def presence(data):
    """``docker_present``: answered (ok), not installed (ok), installed and silent or too old (crit),
    not readable without the SDK (unknown)."""
    check = CHECKS["docker_present"]
    if data.get("present"):
        return check.result("ok", True, None, "Docker %s answers (API %s)" % (data.get("engine_version"), data.get("api_version")))
    if not data.get("install_evidence"):
        return check.result("ok", False, None, data.get("reason"))
    if not data.get("sdk", True):
        return check.unknown(data.get("reason"), fix=SDK_FIX)
    if data.get("too_old"):
        return check.result("crit", False, None, data.get("reason"), fix="")
    return check.result("crit", False, None, data.get("reason"))


def restart_pending(state):
    """``daemon_restart_pending`` from :func:`parse.restart_state`: ok once Docker started after the
    change, warn until then (also when its start time cannot be read here)."""
    check = CHECKS["daemon_restart_pending"]
    changed = "daemon.json (%s) changed at %s" % (state["daemon_json"], _when(state["daemon_json_mtime_s"]))
    if state["restarted"]:
        return check.result("ok", False, None, "%s and Docker restarted after it (%s): the change is applied"
                            % (changed, _when(state["daemon_started_s"])))
    if state["restarted"] is False:
        return check.result("warn", True, None, "%s and Docker has not restarted since (started %s)"
                            % (changed, _when(state["daemon_started_s"])))
    return check.result("warn", True, None, "%s and no restart of Docker can be seen since (its pidfile %s cannot be "
                                            "read here)" % (changed, state["pidfile"]),
                        fix="%s; then delete %s" % (check.fix, state["state_file"]))


def _when(epoch):
    return "an unknown time" if epoch is None else iso(epoch)


def evaluate(data, params):
    """Every check of the docker area."""
    if not data.get("present"):
        return [presence(data)]
    limits = params["thresholds"]
    root_used = CHECKS["docker_root_used"].level((data.get("root_fs") or {}).get("used_pct"), limits,
                                                 "use of the Docker root %s" % data.get("root_dir"),
                                                 subject={"path": data.get("root_dir")})
    results = [presence(data), root_used]
    if data.get("daemon_restart"):
        results.append(restart_pending(data["daemon_restart"]))
    rotated = data.get("log_max_size_bytes") is not None
    for entry in data.get("containers") or []:
        if entry.get("log_bytes") is None:
            continue
        results.append(CHECKS["container_log_size"].level(
            entry["log_bytes"], limits, "log of container %s" % entry["name"], subject={"container": entry["name"]},
            fix=None if not rotated else "recreate the container to start a fresh log"))
    unpinned = [e["name"] for e in data.get("containers") or [] if e["state"] == "running" and not e["pinned_by_digest"]]
    status = limits.get("unpinned_status", "warn")
    check = CHECKS["images_unpinned"]
    if unpinned and status != "ok":
        results.append(check.result(status, len(unpinned), 0, "%d running container(s) use an image by tag, not by "
                                    "digest (%s)" % (len(unpinned), ", ".join(unpinned))))
    else:
        results.append(check.result("ok", len(unpinned), 0, "%d running container(s) use an image by tag" % len(unpinned)))
    return results
