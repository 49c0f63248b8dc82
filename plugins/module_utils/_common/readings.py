# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The numeric readings of a fact that the history records, declared by each area.

A :class:`Reading` is a path into a fact: ``uptime_s``, ``disks[].used_pct`` (one value per list
entry), ``nvidia.gpus[].temperature_c``, ``results[].ttft_s.median`` (a nested reading). Its history
metric is ``<area>.<path without []>`` (``host.disks.used_pct``) and, for a list, the subject is
read from each entry (``subject=("path", "path")``: the key ``path`` of the subject is the entry's
``path``); a subject of several keys is a tuple of such pairs (``subject=(("model", "model"),
("prompt", "prompt"))`` → ``model=gemma3:4b,prompt=health``). What is not declared is not recorded: an area's checks name the readings they judge
(``Check.reads``) and a unit test fails when one of them is not declared here.
Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import subject_text


class Reading(object):
    """One declared reading; ``subject`` is ``(subject key, entry field)`` for a path with ``[]``, or a
    tuple of such pairs for a subject of several keys."""

    __slots__ = ("path", "subject", "pairs", "summary")

    def __init__(self, path, subject=None, summary=""):
        if path.count("[]") > 1:
            raise ValueError("reading %s: at most one list level ([]) per path" % path)
        if "[]" in path and not subject:
            raise ValueError("reading %s: a path through a list needs subject=(key, entry field)" % path)
        self.path = path
        self.subject = tuple(subject) if subject else None
        # ((subject key, entry field), ...): one pair, or several.
        self.pairs = () if not subject else (tuple(subject),) if isinstance(subject[0], str) else tuple(map(tuple, subject))
        self.summary = summary

    def __repr__(self):
        return "Reading(%r)" % self.path

    def metric(self, area):
        return "%s.%s" % (area, self.path.replace("[]", ""))

    def values(self, fact):
        """``[(subject dict, value)]`` of this reading in ``fact`` (numbers only; None is not a reading)."""
        if "[]" not in self.path:
            value = _walk(fact, self.path.split("."))
            return [({}, float(value))] if _is_number(value) else []
        head, tail = self.path.split("[]", 1)
        entries = _walk(fact, head.split("."))
        found = []
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict) or any(entry.get(field) in (None, "") for _key, field in self.pairs):
                continue
            value = _walk(entry, tail.lstrip(".").split(".")) if tail else None
            if _is_number(value):
                found.append((dict((key, entry[field]) for key, field in self.pairs), float(value)))
        return found


def _walk(node, parts):
    for part in parts:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def extract(area, fact, readings):
    """``[(metric, subject text, value)]`` of every declared reading present in ``fact``."""
    rows = []
    for reading in readings:
        for subject, value in reading.values(fact):
            rows.append((reading.metric(area), subject_text(subject), value))
    return rows
