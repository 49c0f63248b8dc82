# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The images area's checks: the table (data) and the verdicts over an audit of the pin manifest.

Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import (
    Check, CheckTable, newer_upstream, worst_status)

CHECKS = CheckTable(
    Check("image_pin", "Whether each pinned digest is on the host and its tag and containers use it.",
          subject=("image",), fix="run image_digest mode=enforce (and recreate the containers)"),
    Check("image_update", "Whether the registry still serves the pinned digest for each tag (with check_remote).",
          subject=("image",), fix="read the changelog before bumping the pin"),
    Check("image_unpinned", "Running containers and Compose services whose image is in no pin and has no digest.",
          subject=("container",), fix="lock it (image_digest mode=lock) so a tag move cannot change it unseen"),
    Check("image_stale", "Running containers still on an older image after their tag moved locally.",
          subject=("container",), fix="recreate it to run the current image"),
    Check("image_audit", "Whether the pin manifest could be audited: ok when there is none or all pins match; crit for "
          "a manifest that cannot be used or a Docker that is installed but silent; unknown when nothing could be read.",
          fix="write a manifest with gpufleet.maintenance.image_digest mode=lock"),
)


def audit_checks(report, check_remote=False):
    """Health checks of an audit ``report`` (``entries``, ``unpinned``, ``stale``, ``compose_unpinned``).

    A pinned digest missing from the engine, a tag or container that drifted from its pin, a
    container running an unpinned image or an image older than its tag, and (with
    ``check_remote``) a registry that moved the tag or did not answer, each give a ``warn`` check
    with what to do; everything in order gives one ``ok`` check. Returns ``(checks, status)``.
    """
    results = []
    for entry in report.get("entries") or []:
        subject = {"image": entry["image"]}
        if entry["status"] == "missing":
            results.append(CHECKS["image_pin"].result(
                "warn", entry["digest"], None, "%s: the pinned digest %s is not on this host" % (entry["image"], entry["digest"]),
                subject=subject, fix="run image_digest mode=enforce to pull it"))
        elif entry["status"] == "drift":
            off = [c["name"] for c in entry.get("containers") or [] if not c.get("runs_pinned")]
            results.append(CHECKS["image_pin"].result(
                "warn", entry["digest"], None, "%s: %s" % (
                    entry["image"], "containers %s do not run the pinned image" % ", ".join(off) if off
                    else "the local tag points to another image than the pin"), subject=subject))
        update = CHECKS["image_update"]
        if entry.get("update_available"):
            results.append(newer_upstream(update, entry["image"], entry.get("remote_digest"), entry["digest"],
                                          served_as=" for the tag", subject=subject))
        elif check_remote and entry.get("remote_error"):
            results.append(update.result("warn", None, entry["digest"], "%s; updates unknown" % entry["remote_error"],
                                         subject=subject, fix="check the registry and its credentials (docker login)"))
        elif check_remote and entry.get("update_available") is None and entry.get("remote_note"):
            results.append(update.result("warn", entry.get("remote_digest"), entry["digest"],
                                         "%s: %s" % (entry["image"], entry["remote_note"]), subject=subject, fix=""))
    for container in report.get("unpinned") or []:
        results.append(CHECKS["image_unpinned"].result(
            "warn", container.get("image"), None, "container %s runs %s, which is in no pin" % (container["name"], container.get("image")),
            subject={"container": container["name"]}))
    for container in report.get("stale") or []:
        results.append(CHECKS["image_stale"].result("warn", container.get("image_id"), container.get("tag_image_id"),
                                                    container["message"], subject={"container": container["name"]}, fix=""))
    for service in report.get("compose_unpinned") or []:
        results.append(CHECKS["image_unpinned"].result(
            "warn", service.get("image"), None, "%s: service %s uses %s without a digest" % (
                service.get("file"), service.get("service"), service.get("image")),
            subject={"container": service.get("service")}, fix="pin it (image@sha256:...)"))
    if not results:
        count = len(report.get("entries") or [])
        results.append(CHECKS["image_audit"].result("ok", count, None, "%d pinned image%s match the engine%s" % (
            count, "" if count == 1 else "s", "; the registry serves the pinned digests" if check_remote and count else "")))
    return results, worst_status(results)


def evaluate(data, params):
    """Every check of the images area: the audit's, or why nothing was audited."""
    audit = CHECKS["image_audit"]
    if not data.get("manifest_present"):
        return [audit.result("ok", None, None, "no image pin manifest at %s: nothing to audit (write one with "
                                               "gpufleet.maintenance.image_digest mode=lock)" % data.get("manifest"))]
    problem = data.get("problem")
    if problem and problem["status"] == "unknown":
        return [audit.unknown(problem["reason"], fix=problem["fix"])]
    if problem:
        return [audit.result(problem["status"], None, None, problem["reason"], fix=problem["fix"])]
    return audit_checks(data, bool(data.get("check_remote")))[0]
