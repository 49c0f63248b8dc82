# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the smart area is shown: one summary line per drive, and its Prometheus metrics. Pure functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart.checks import tb


def drive_line(record):
    """One line of the per-drive table."""
    name = record.get("name")
    if record.get("state") == "standby":
        return "%s: standby (not woken)" % name
    if record.get("smart_supported") is False:
        return "%s: no SMART (%s)" % (name, record.get("reason"))
    if record.get("state") == "unreadable" or (record.get("state") == "garbled" and record.get("smart_supported") is not True):
        return "%s: not read (%s) [%s]" % (name, record.get("reason"), (record.get("status") or "unknown").upper())
    parts = ["%s %s" % (record.get("interface") or "?", record.get("model") or "unknown model")]
    if record.get("rotational") is not True:
        parts.append("wear %s" % ("n/a" if record.get("wear_pct_used") is None else "%s %%" % record["wear_pct_used"]))
        parts.append(record.get("nand_type") or "unknown")
    parts.append("written %s" % tb(record.get("data_written_bytes")))
    if record.get("rated_tbw"):
        parts.append("%s %% of %g TBW" % (record.get("tbw_used_pct"), record["rated_tbw"]))
    if record.get("write_rate_bytes_per_day") is not None:
        parts.append("%s/day" % tb(record["write_rate_bytes_per_day"]))
    if record.get("projected_days_to_rated_tbw") is not None:
        parts.append("rated TBW in %d days" % record["projected_days_to_rated_tbw"])
    parts.append("%s C" % ("n/a" if record.get("temperature_c") is None else record["temperature_c"]))
    parts.append({True: "PASSED", False: "FAILED"}.get(record.get("health_passed"), "health n/a"))
    return "%s: %s [%s]" % (name, ", ".join(parts), (record.get("status") or "ok").upper())


def summary_lines(fact):
    """Summary lines for ``gpufleet_smart``."""
    if not fact.get("present"):
        return ["smart: %s" % (fact.get("reason") or "smartctl not present")]
    lines = []
    if fact.get("pysmart_present") is False:
        lines.append("smart: pySMART not installed: drives read from smartctl --json only "
                     "(run the gpufleet.maintenance.prerequisites role)")
    devices = fact.get("devices") or []
    if not devices:
        return lines + ["smart: no drives found by smartctl"]
    return lines + ["smart %s" % drive_line(record) for record in devices]


def _ratio(pct):
    return None if pct is None else pct / 100.0


def metrics(fact, fam):
    for dev in fact.get("devices") or []:
        labels = {"device": dev.get("name") or "", "model": dev.get("model") or "", "serial": dev.get("serial") or ""}
        fam.add("gpufleet_ssd_wear_ratio", "Share of the drive's rated endurance used (NVMe percentage used).", "gauge",
                labels, _ratio(dev.get("wear_pct_used")))
        days = dev.get("projected_days_to_rated_tbw")
        fam.add("gpufleet_ssd_projected_seconds_to_rated_tbw", "Time until the drive reaches its rated TBW at the current write rate.",
                "gauge", labels, None if days is None else days * 86400)
        fam.add("gpufleet_disk_temperature_celsius", "Drive temperature.", "gauge", labels, dev.get("temperature_c"))
        fam.add("gpufleet_disk_data_written_bytes_total", "Bytes written to the drive over its life.", "counter",
                labels, dev.get("data_written_bytes"))
