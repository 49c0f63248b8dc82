# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the backup area is shown: one summary line, and its Prometheus families. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def summary_lines(fact):
    """Summary line of ``gpufleet_backup``."""
    return ["backup %s: restore drill %s, %s file(s) verified, %d problem(s)" % (
        fact.get("snapshot"), (fact.get("status") or "n/a").upper(), fact.get("files_checked"), len(fact.get("problems") or []))]


def metrics(fact, fam):
    labels = {"snapshot": fact.get("snapshot")}
    fam.add("gpufleet_backup_drill_files_checked", "Files of the last restore drill whose size and sha256 matched the manifests.",
            "gauge", labels, fact.get("files_checked"))
    fam.add("gpufleet_backup_drill_problems", "Problems found by the last restore drill (missing, size or checksum mismatch...).",
            "gauge", labels, len(fact.get("problems") or []))
