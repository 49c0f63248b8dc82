# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus text exposition of the gpufleet facts, for node_exporter's textfile collector.

``metrics_from_facts(facts)`` maps the ``gpufleet_*`` facts to metric families (base units:
``_celsius``, ``_watts``, ``_bytes``, ``_ratio``, ``_seconds``); ``render(families)`` writes the
text format with HELP/TYPE lines. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

STATUS_VALUE = {"ok": 0, "warn": 1, "crit": 2}
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


def _pct_ratio(value):
    return None if value is None else value / 100.0


def _mib_bytes(value):
    return None if value is None else value * 1048576


def _host(fam, fact):
    for disk in fact.get("disks") or []:
        if disk.get("present"):
            fam.add("gpufleet_disk_used_ratio", "Used share of the filesystem holding a watched path.", "gauge",
                    {"path": disk.get("path"), "mount": disk.get("mount")}, _pct_ratio(disk.get("used_pct")))
    fam.add("gpufleet_memory_available_ratio", "Available RAM as a share of total RAM.", "gauge", {},
            _pct_ratio(fact.get("memory_available_pct")))


def _gpu(fam, fact):
    for vendor in ("nvidia", "amd"):
        section = fact.get(vendor) or {}
        for gpu in section.get("gpus") or []:
            labels = {"vendor": vendor, "gpu": gpu.get("index"), "uuid": gpu.get("uuid") or "", "name": gpu.get("name") or ""}
            ecc = gpu.get("ecc") or {}
            for metric, help_text, value in (
                ("gpufleet_gpu_temperature_celsius", "GPU core (edge) temperature.",
                 gpu.get("temperature_c", gpu.get("temperature_edge_c"))),
                ("gpufleet_gpu_memory_temperature_celsius", "GPU memory (junction) temperature.",
                 gpu.get("memory_temperature_c", gpu.get("temperature_memory_c"))),
                ("gpufleet_gpu_hotspot_temperature_celsius", "GPU junction (hotspot) temperature (AMD).",
                 gpu.get("temperature_junction_c")),
                ("gpufleet_gpu_power_watts", "GPU power draw.", gpu.get("power_draw_w", gpu.get("power_w"))),
                ("gpufleet_gpu_power_limit_watts", "GPU enforced power limit.", gpu.get("power_limit_w", gpu.get("power_cap_w"))),
                ("gpufleet_gpu_memory_used_bytes", "GPU memory in use.",
                 _mib_bytes(gpu.get("memory_used_mib", gpu.get("vram_used_mib")))),
                ("gpufleet_gpu_memory_total_bytes", "GPU memory size.",
                 _mib_bytes(gpu.get("memory_total_mib", gpu.get("vram_total_mib")))),
                ("gpufleet_gpu_utilization_ratio", "GPU busy share.", _pct_ratio(gpu.get("utilization_gpu_pct"))),
                ("gpufleet_gpu_fan_speed_ratio", "GPU fan speed as a share of its maximum.", _pct_ratio(gpu.get("fan_speed_pct"))),
                ("gpufleet_gpu_ecc_uncorrected_errors", "Uncorrectable ECC errors since the driver loaded.",
                 ecc.get("volatile_uncorrected", gpu.get("ecc_uncorrectable"))),
                ("gpufleet_gpu_ecc_corrected_errors", "Correctable ECC errors since the driver loaded.",
                 ecc.get("volatile_corrected", gpu.get("ecc_correctable"))),
            ):
                fam.add(metric, help_text, "gauge", labels, value)


def _smart(fam, fact):
    for dev in fact.get("devices") or []:
        labels = {"device": dev.get("name") or "", "model": dev.get("model") or "", "serial": dev.get("serial") or ""}
        fam.add("gpufleet_ssd_wear_ratio", "Share of the drive's rated endurance used (NVMe percentage used).", "gauge",
                labels, _pct_ratio(dev.get("wear_pct_used")))
        days = dev.get("projected_days_to_rated_tbw")
        fam.add("gpufleet_ssd_projected_seconds_to_rated_tbw", "Time until the drive reaches its rated TBW at the current write rate.",
                "gauge", labels, None if days is None else days * 86400)
        fam.add("gpufleet_disk_temperature_celsius", "Drive temperature.", "gauge", labels, dev.get("temperature_c"))
        fam.add("gpufleet_disk_data_written_bytes_total", "Bytes written to the drive over its life.", "counter",
                labels, dev.get("data_written_bytes"))


def _docker(fam, fact):
    for category, section in sorted((fact or {}).items()):
        if isinstance(section, dict) and "reclaimable_bytes" in section:
            fam.add("gpufleet_docker_reclaimable_bytes", "Bytes Docker could free in a category.", "gauge",
                    {"category": category}, section.get("reclaimable_bytes"))


def _benchmark(fam, fact):
    for result in (fact or {}).get("results") or []:
        labels = {"model": fact.get("model") or "", "prompt": result.get("prompt") or "", "endpoint": fact.get("endpoint") or ""}
        ttft = (result.get("ttft_s") or {}).get("median")
        rate = (result.get("decode_tokens_per_s") or {}).get("median")
        fam.add("gpufleet_llm_ttft_seconds", "Median time to first token of a benchmark prompt.", "gauge", labels, ttft)
        fam.add("gpufleet_llm_decode_tokens_per_second", "Median decode rate of a benchmark prompt.", "gauge", labels, rate)


_AREAS = (
    ("gpufleet_host", "host", _host),
    ("gpufleet_gpu", "gpu", _gpu),
    ("gpufleet_smart", "smart", _smart),
    ("gpufleet_docker", "docker", _docker),
    ("gpufleet_benchmark", "benchmark", _benchmark),
)


def metrics_from_facts(facts, families=None):
    """Add the metrics of every known ``gpufleet_*`` fact in ``facts`` and of every fact's checks."""
    fam = families if families is not None else Families()
    for key, value in sorted((facts or {}).items()):
        if not key.startswith("gpufleet_") or not isinstance(value, dict):
            continue
        area = key[len("gpufleet_"):]
        for fact_key, _area, handler in _AREAS:
            if fact_key == key:
                handler(fam, value)
        if "status" in value:
            fam.add("gpufleet_status", "Worst check status of an area (0 ok, 1 warn, 2 crit).", "gauge",
                    {"area": area}, STATUS_VALUE.get(value.get("status")))
        for check in value.get("checks") or []:
            subject = ""
            for subject_key in ("gpu", "device", "path", "container", "image", "package", "prompt"):
                if check.get(subject_key) is not None:
                    subject = "%s=%s" % (subject_key, check[subject_key])
                    break
            fam.add("gpufleet_check_status", "Status of one check (0 ok, 1 warn, 2 crit).", "gauge",
                    {"area": area, "check": check.get("check") or "", "subject": subject},
                    STATUS_VALUE.get(check.get("status")))
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
