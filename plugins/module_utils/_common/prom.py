# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus text exposition of the gpufleet facts, for node_exporter's textfile collector.

``metrics_from_facts(facts)`` asks each area of the registry for its metric families (base units:
``_celsius``, ``_watts``, ``_bytes``, ``_ratio``, ``_seconds``) and adds the status of every area
and check; ``render(families)`` writes the text format with HELP/TYPE lines. A check's ``subject``
label is its subject text (``gpu=0``), the same string as in alert keys, the report and the history.
Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import subject_of, subject_text

# ``unknown`` (could not look) is 3: any value above 0 is "not ok", as for the areas' rollup.
STATUS_VALUE = {"ok": 0, "warn": 1, "crit": 2, "unknown": 3}
_LAST_SUCCESS = "gpufleet_last_success_timestamp_seconds"
_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)(?:\s+\d+)?$')
_LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')


class Families:
    """Metric families in insertion order: name -> (help, type, [(labels, value)])."""

    def __init__(self):
        self._families = {}
        self._order = []

    def add(self, name, help_text, metric_type, labels, value):
        """Add one sample; ``None`` or non-finite values are not reported (no fake zeros)."""
        if value is None or isinstance(value, bool):
            return
        try:
            number = float(value)
        except (TypeError, ValueError):
            return
        if math.isnan(number) or math.isinf(number):
            return
        if name not in self._families:
            self._families[name] = (help_text, metric_type, [])
            self._order.append(name)
        self._families[name][2].append((dict((k, "" if v is None else str(v)) for k, v in labels.items()), number))

    def items(self):
        for name in sorted(self._order):
            yield name, self._families[name]

    def __len__(self):
        return sum(len(family[2]) for family in self._families.values())


def escape_label(value):
    """Escape a label value for the text format (backslash, double quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(number):
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def render(families):
    """The text exposition of ``families`` (a :class:`Families`), ending with a newline."""
    lines = []
    for name, (help_text, metric_type, samples) in families.items():
        lines.append("# HELP %s %s" % (name, help_text.replace("\\", "\\\\").replace("\n", "\\n")))
        lines.append("# TYPE %s %s" % (name, metric_type))
        seen = set()
        for labels, value in samples:
            key = tuple(sorted(labels.items()))
            if key in seen:  # duplicate series are an error for node_exporter: keep the first
                continue
            seen.add(key)
            label_text = ",".join('%s="%s"' % (k, escape_label(v)) for k, v in sorted(labels.items()))
            lines.append("%s%s %s" % (name, "{%s}" % label_text if label_text else "", format_value(value)))
    return "\n".join(lines) + "\n" if lines else ""


def parse_samples(text, name):
    """Samples of metric ``name`` in an existing text file: list of (labels dict, float)."""
    samples = []
    for line in (text or "").splitlines():
        match = _SAMPLE.match(line.strip())
        if not match or match.group("name") != name:
            continue
        labels = dict((m.group("key"), m.group("value").replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\"))
                      for m in _LABEL.finditer(match.group("labels") or ""))
        try:
            samples.append((labels, float(match.group("value"))))
        except ValueError:
            continue
    return samples


def metrics_from_facts(facts, families=None):
    """Add the metrics of every ``gpufleet_*`` fact the registry knows, and of every fact's checks."""
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
    fam = families if families is not None else Families()
    for key, value in sorted((facts or {}).items()):
        if not key.startswith("gpufleet_") or not isinstance(value, dict):
            continue
        area = registry.of_fact(key)
        name = area.name if area else key[len("gpufleet_"):]
        if area is not None and area.metrics is not None:
            area.metrics(value, fam)
        if "status" in value:
            fam.add("gpufleet_status", "Worst check status of an area (0 ok, 1 warn, 2 crit, 3 unknown).", "gauge",
                    {"area": name}, STATUS_VALUE.get(value.get("status"), STATUS_VALUE["unknown"]))
        for check in value.get("checks") or []:
            if not isinstance(check, dict):
                continue
            fam.add("gpufleet_check_status", "Status of one check (0 ok, 1 warn, 2 crit, 3 unknown).", "gauge",
                    {"area": name, "check": check.get("check") or "", "subject": subject_text(subject_of(check))},
                    STATUS_VALUE.get(check.get("status"), STATUS_VALUE["unknown"]))
    return fam


def without_last_success(text):
    """The text without the last-run samples: what decides whether the metrics changed."""
    return "\n".join(line for line in (text or "").splitlines() if not line.startswith(_LAST_SUCCESS + "{"))


def textfile(facts, cadence=None, now=None, previous_text=""):
    """The whole textfile: fact metrics plus the last successful run time per cadence.

    Earlier cadences' ``gpufleet_last_success_timestamp_seconds`` samples are kept from
    ``previous_text``; ``cadence`` (when given) gets ``now``.
    """
    fam = metrics_from_facts(facts)
    last = dict((labels.get("cadence"), value) for labels, value in parse_samples(previous_text, _LAST_SUCCESS)
                if labels.get("cadence"))
    if cadence:
        last[cadence] = now
    for name in sorted(last):
        fam.add(_LAST_SUCCESS, "Unix time of the last successful run of a cadence playbook.", "gauge",
                {"cadence": name}, last[name])
    return render(fam), len(fam)
