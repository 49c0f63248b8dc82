# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks, write rates and endurance projections over the ``gpufleet_smart`` drive records.

``apply_previous(record, previous_record, elapsed_s)`` adds the write rate and the days until the
rated TBW; ``device_checks(record, previous_record, thresholds)`` returns the checks of one drive;
``evaluate(fact, previous)`` does both for every drive; ``smart_section(fact)`` is the summary
formatter. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import level_check, make_check, worst_status

DEFAULT_THRESHOLDS = {
    "wear_warn_pct": 70,
    "wear_crit_pct": 85,
    "temperature_warn_c": 70,
    "self_test_max_age_days": 35,
    "tbw_projection_warn_days": 180,
}
MIN_RATE_WINDOW_S = 3600
DAY_S = 86400.0


def find_previous(record, previous_fact):
    """The record of the same drive in an earlier fact: same serial, else same name and model."""
    if not isinstance(previous_fact, dict):
        return None
    for old in previous_fact.get("devices") or []:
        if not isinstance(old, dict):
            continue
        if record.get("serial") and old.get("serial") == record.get("serial"):
            return old
    for old in previous_fact.get("devices") or []:
        if isinstance(old, dict) and not record.get("serial") and old.get("name") == record.get("name") \
                and old.get("model") == record.get("model"):
            return old
    return None


def apply_previous(record, old, elapsed_s):
    """Set ``write_rate_bytes_per_day`` and ``projected_days_to_rated_tbw`` (or a ``rate_reason``)."""
    record["write_rate_bytes_per_day"] = None
    record["projected_days_to_rated_tbw"] = None
    if old is None:
        record["rate_reason"] = "no previous snapshot of this drive"
        return record
    now_bytes, old_bytes = record.get("data_written_bytes"), old.get("data_written_bytes")
    if now_bytes is None or old_bytes is None:
        record["rate_reason"] = "data written unknown in one of the snapshots"
        return record
    if elapsed_s is None or elapsed_s < MIN_RATE_WINDOW_S:
        record["rate_reason"] = "snapshots less than an hour apart"
        return record
    if now_bytes < old_bytes:
        record["rate_reason"] = "data written went down (%d → %d bytes): counter reset or another drive" % (old_bytes, now_bytes)
        return record
    rate = (now_bytes - old_bytes) / (elapsed_s / DAY_S)
    record["write_rate_bytes_per_day"] = int(round(rate))
    record["rate_reason"] = None
    rated = record.get("rated_tbw")
    if not rated:
        record["rate_reason"] = "rated_tbw not given for this model or serial: no projection"
        return record
    remaining = float(rated) * 1e12 - now_bytes
    if remaining <= 0:
        record["projected_days_to_rated_tbw"] = 0
    elif rate > 0:
        record["projected_days_to_rated_tbw"] = int(remaining / rate)
    else:
        record["rate_reason"] = "no writes since the previous snapshot: no projection"
    return record


def _grew(record, old, key):
    if old is None or record.get(key) is None or old.get(key) is None:
        return None
    return record[key] - old[key]


def device_checks(record, old, thresholds):
    """The checks of one drive (each with ``device``)."""
    name = record.get("name")
    label = "%s (%s)" % (name, record.get("model") or "unknown model")
    checks = []
    if record.get("state") == "standby":
        return [make_check("smart_read", "ok", "standby", None, "%s is in standby and was not woken" % label, device=name)]
    if record.get("state") == "garbled":
        return [make_check("smart_read", "warn", "garbled", None,
                           "%s: smartctl output could not be parsed; read it by hand with smartctl -a %s" % (label, name),
                           device=name)]
    if record.get("smart_supported") is False:
        return [make_check("smart_read", "ok", "unsupported", None,
                           "%s: no SMART data (%s); nothing to check" % (label, record.get("reason")), device=name)]

    health = record.get("health_passed")
    if health is False:
        checks.append(make_check("smart_health", "crit", False, True,
                                 "%s failed its SMART health self-assessment: back up its data now and replace it" % label,
                                 device=name))
    else:
        checks.append(make_check("smart_health", "ok", health, True,
                                 "%s SMART health %s" % (label, "passed" if health else "not reported"), device=name))

    tests = record.get("self_tests") or {}
    latest = [t for t in (tests.get("short"), tests.get("long")) if t]
    max_age_h = thresholds["self_test_max_age_days"] * 24
    failed = [t for t in latest if t.get("passed") is False]
    recent = [t for t in latest if t.get("age_hours") is not None and t["age_hours"] <= max_age_h]
    if failed:
        checks.append(make_check("self_test", "warn", failed[0].get("status"), None,
                                 "%s: the last self-test failed (%s): run a long test and plan the replacement"
                                 % (label, failed[0].get("status")), device=name))
    elif not recent:
        checks.append(make_check("self_test", "warn", None, thresholds["self_test_max_age_days"],
                                 "%s: no self-test in the last %g days of power-on time: schedule them "
                                 "(ssd_wear_smartd_schedule)" % (label, thresholds["self_test_max_age_days"]),
                                 device=name))
    else:
        checks.append(make_check("self_test", "ok", min(t["age_hours"] for t in recent), max_age_h,
                                 "%s: last self-test passed" % label, device=name))

    if record.get("rotational") is not True:
        checks.append(level_check("wear", record.get("wear_pct_used"), warn=thresholds["wear_warn_pct"],
                                  crit=thresholds["wear_crit_pct"], unit=" %", what="wear of %s" % label,
                                  fix="replace the drive (order it now at warning, swap it at critical)", device=name))

    spare, spare_min = record.get("available_spare_pct"), record.get("available_spare_threshold_pct")
    if spare is not None and spare_min is not None:
        status = "crit" if spare < spare_min else "ok"
        message = ("%s: available spare %s %% is below its threshold %s %%: replace the drive" if status == "crit"
                   else "%s: available spare %s %% (threshold %s %%)") % (label, spare, spare_min)
        checks.append(make_check("available_spare", status, spare, spare_min, message, device=name))

    for key, what in (("media_errors", "media errors"), ("reallocated_sectors", "reallocated sectors"),
                      ("pending_sectors", "pending sectors")):
        value = record.get(key)
        if value is None:
            continue
        grew = _grew(record, old, key)
        if grew:
            checks.append(make_check(key, "warn", value, old[key],
                                     "%s: %s grew from %s to %s: back up, run a long self-test, plan the replacement"
                                     % (label, what, old[key], value), device=name))
        elif key == "pending_sectors" and value > 0:
            checks.append(make_check(key, "warn", value, 0,
                                     "%s: %s pending sectors (unreadable, waiting for a rewrite): back up and run a long self-test"
                                     % (label, value), device=name))
        else:
            checks.append(make_check(key, "ok", value, None, "%s: %s %s%s" % (
                label, value, what, "" if old else " (no previous snapshot to compare)"), device=name))

    checks.append(level_check("temperature", record.get("temperature_c"), warn=thresholds["temperature_warn_c"],
                              unit=" C", what="temperature of %s" % label,
                              fix="improve the airflow or add a heatsink", device=name))

    if record.get("nand_type") == "qlc" and record.get("backs_paths"):
        checks.append(make_check("qlc_critical_path", "warn", record.get("backs_paths"), None,
                                 "%s is a QLC drive backing %s: move model stores, Docker and checkpoints to a TLC/MLC drive"
                                 % (label, ", ".join(record["backs_paths"])), device=name))

    days = record.get("projected_days_to_rated_tbw")
    if days is not None:
        limit = thresholds["tbw_projection_warn_days"]
        status = "warn" if days <= limit else "ok"
        checks.append(make_check("tbw_projection", status, days, limit,
                                 "%s reaches its rated %g TBW in about %d days at %s/day%s" % (
                                     label, record.get("rated_tbw"), days, _tb(record.get("write_rate_bytes_per_day")),
                                     ": plan the replacement or move the write-heavy jobs" if status == "warn" else ""),
                                 device=name))

    grew = _grew(record, old, "unsafe_shutdowns")
    if grew:
        checks.append(make_check("unsafe_shutdowns", "warn", record["unsafe_shutdowns"], old["unsafe_shutdowns"],
                                 "%s: %d unsafe shutdowns since the previous snapshot: check the PSU, UPS and power cabling"
                                 % (label, grew), device=name))
    return checks


def _tb(number):
    if number is None:
        return "n/a"
    return "%.2f TB" % (number / 1e12) if number >= 1e11 else "%.1f GB" % (number / 1e9)


def evaluate(fact, previous=None, thresholds=None):
    """Add rates, per-drive checks and statuses, the fact's checks and its worst status."""
    limits = dict(DEFAULT_THRESHOLDS)
    limits.update(thresholds or {})
    elapsed = None
    if isinstance(previous, dict) and previous.get("collected_epoch_s") is not None:
        elapsed = fact["collected_epoch_s"] - previous["collected_epoch_s"]
    checks = []
    if not fact.get("present"):
        checks.append(make_check("smartctl_present", "warn", False, True, fact.get("reason") or "smartctl not found"))
    elif not fact.get("as_root"):
        checks.append(make_check("smart_access", "warn", False, True,
                                 "smart_facts runs without root, so smartctl cannot open the drives: "
                                 "run the task with become: true"))
    for record in fact.get("devices") or []:
        old = find_previous(record, previous)
        apply_previous(record, old, elapsed)
        record["checks"] = device_checks(record, old, limits)
        record["status"] = worst_status(record["checks"])
        checks.extend(record["checks"])
    fact["thresholds"] = limits
    fact["checks"] = checks
    fact["status"] = worst_status(checks)
    return fact


def drive_line(record):
    """One line of the per-drive table."""
    name = record.get("name")
    if record.get("state") == "standby":
        return "%s: standby (not woken)" % name
    if record.get("smart_supported") is False:
        return "%s: no SMART (%s)" % (name, record.get("reason"))
    parts = ["%s %s" % (record.get("interface") or "?", record.get("model") or "unknown model")]
    if record.get("rotational") is not True:
        parts.append("wear %s" % ("n/a" if record.get("wear_pct_used") is None else "%s %%" % record["wear_pct_used"]))
        parts.append(record.get("nand_type") or "unknown")
    parts.append("written %s" % _tb(record.get("data_written_bytes")))
    if record.get("rated_tbw"):
        parts.append("%s %% of %g TBW" % (record.get("tbw_used_pct"), record["rated_tbw"]))
    if record.get("write_rate_bytes_per_day") is not None:
        parts.append("%s/day" % _tb(record["write_rate_bytes_per_day"]))
    if record.get("projected_days_to_rated_tbw") is not None:
        parts.append("rated TBW in %d days" % record["projected_days_to_rated_tbw"])
    parts.append("%s C" % ("n/a" if record.get("temperature_c") is None else record["temperature_c"]))
    parts.append({True: "PASSED", False: "FAILED"}.get(record.get("health_passed"), "health n/a"))
    return "%s: %s [%s]" % (name, ", ".join(parts), (record.get("status") or "ok").upper())


def smart_section(fact):
    """Summary lines for ``gpufleet_smart`` (the ``_summary.SECTIONS`` formatter)."""
    if not fact.get("present"):
        return ["smart: %s" % (fact.get("reason") or "smartctl not present")]
    devices = fact.get("devices") or []
    if not devices:
        return ["smart: no drives found by smartctl"]
    return ["smart %s" % drive_line(record) for record in devices]
