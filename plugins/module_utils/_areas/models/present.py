# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the models area is shown: one summary line, and its Prometheus families. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def summary_lines(fact):
    """Summary line of ``gpufleet_models``."""
    problems = [p for p in fact.get("problems") or [] if p.get("problem") != "deferred"]
    deferred = len(fact.get("problems") or []) - len(problems)
    line = "models: %s file(s) match %s" % (fact.get("files_checked"), fact.get("manifest") or "the manifest")
    if problems:
        line = "models: %d problem(s) in %s file(s) checked against %s" % (
            len(problems), fact.get("files_checked"), fact.get("manifest") or "the manifest")
    if deferred:
        line += ", %d deferred to a later run" % deferred
    return [line]


def metrics(fact, fam):
    fam.add("gpufleet_models_files_checked", "Model files hashed (or found in the hash cache) and compared with the manifest.",
            "gauge", {}, fact.get("files_checked"))
    counts = {}
    for problem in fact.get("problems") or []:
        counts[problem.get("problem")] = counts.get(problem.get("problem"), 0) + 1
    for kind in sorted(counts):
        fam.add("gpufleet_models_problems", "Model files with a problem, by problem (missing, checksum_mismatch...).",
                "gauge", {"problem": kind}, counts[kind])
