# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The smart area's checks: the table (data) and the verdicts over the drive records.

:func:`evaluate` adds each drive's write rate and projection (from ``previous``), its own
``checks`` and ``status`` (the fact has always carried them per drive), and returns every check.
Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable, worst_status

DRIVE = ("device",)
_REPLACE = "back up, run a long self-test, plan the replacement"

# The drive saw its power go without a flush; with no planned power-off in between, the supply is the suspect (the
# PSU signals: docs/gpu.md, "The PSU signals").
FIX_UNSAFE_SHUTDOWNS = ("if nobody cut the power on purpose, suspect the PSU or the mains: check the PSU's capacity "
                        "against the GPUs' power limits (psu_load) and whether the GPUs hit the power brake "
                        "(power_brake), the UPS and its battery, and the power cabling; unexpected_reboots (weekly) "
                        "says when the host went down")

CHECKS = CheckTable(
    Check("smartctl_present", "Whether smartctl (smartmontools) is installed.",
          fix="install smartmontools (ssd_wear_install: true, or apt-get install smartmontools)"),
    Check("smart_access", "Whether smart_facts runs as root, which smartctl needs to open the drives.",
          fix="run the task with become: true"),
    Check("pysmart_present", "Whether pySMART, which reads smartctl's text output, is importable by the module's Python.",
          fix="run the gpufleet.maintenance.prerequisites role (it installs pySMART in the collection's virtual "
              "environment on the host)"),
    Check("smart_read", "Whether a drive's SMART data could be read (ok for drives in standby or without SMART); "
                        "for the host, unknown when smartctl found no drive at all.",
          subject=DRIVE, or_host=True, fix="read it by hand with smartctl -a"),
    Check("smart_health", "The drive's own SMART health self-assessment (and smartctl's \"disk failing\" exit bit).",
          subject=DRIVE, fix="back up its data now and replace it"),
    Check("critical_warning", "The NVMe critical warning bits (spare, temperature, reliability, read-only, backup).",
          subject=DRIVE, fix="back up its data now and replace the drive (or, for the temperature bit alone, cool it)",
          reads=("devices[].critical_warning",)),
    Check("self_test", "The last short and long self-tests: failed, or none within the power-on time allowed.",
          subject=DRIVE, thresholds=(("self_test_max_age_days", 35),),
          fix="schedule them (ssd_wear_smartd_schedule)",
          reads=("devices[].self_tests.short.age_hours", "devices[].self_tests.long.age_hours")),
    Check("wear", "Share of an SSD's rated life used (NVMe Percentage Used, or the vendor's life attribute).",
          subject=DRIVE, thresholds=(("wear_warn_pct", 70), ("wear_crit_pct", 85)), unit=" %",
          fix="replace the drive (order it now at warning, swap it at critical)", reads=("devices[].wear_pct_used",)),
    Check("available_spare", "NVMe available spare against the drive's own threshold.",
          subject=DRIVE, fix="replace the drive",
          reads=("devices[].available_spare_pct", "devices[].available_spare_threshold_pct")),
    Check("media_errors", "NVMe media and data integrity errors: any is a warning, growth since the previous snapshot critical.",
          subject=DRIVE, fix=_REPLACE, reads=("devices[].media_errors",)),
    Check("reallocated_sectors", "Reallocated sectors (SCSI: grown defects), and their growth since the previous snapshot.",
          subject=DRIVE, fix=_REPLACE, reads=("devices[].reallocated_sectors",)),
    Check("pending_sectors", "Sectors waiting for a rewrite (unreadable), and their growth since the previous snapshot.",
          subject=DRIVE, fix="back up and run a long self-test", reads=("devices[].pending_sectors",)),
    Check("error_log", "Errors in the drive's own error log (smartctl's exit status bit 6).",
          subject=DRIVE, fix="read them (smartctl -l error, or -l xerror) and run a long self-test; back up if they are new",
          reads=("devices[].error_log_entries",)),
    Check("temperature", "The drive's temperature.",
          subject=DRIVE, thresholds=(("temperature_warn_c", 70),), unit=" C",
          fix="improve the airflow or add a heatsink", reads=("devices[].temperature_c",)),
    Check("qlc_critical_path", "A QLC drive (low write endurance) backing a critical path (model store, Docker, checkpoints).",
          subject=DRIVE, fix="move model stores, Docker and checkpoints to a TLC/MLC drive"),
    Check("tbw_projection", "Days until the drive reaches its rated TBW at the write rate since the previous snapshot.",
          subject=DRIVE, thresholds=(("tbw_projection_warn_days", 180),), higher_is_worse=False, unit=" days",
          fix="plan the replacement or move the write-heavy jobs",
          reads=("devices[].projected_days_to_rated_tbw", "devices[].write_rate_bytes_per_day",
                 "devices[].data_written_bytes")),
    Check("unsafe_shutdowns", "Unsafe shutdowns (power lost without a flush) since the previous snapshot: without "
                              "planned power-offs, a sign of the PSU or of power loss.",
          subject=DRIVE, fix=FIX_UNSAFE_SHUTDOWNS, reads=("devices[].unsafe_shutdowns",)),
)


def _label(record):
    return "%s (%s)" % (record.get("name"), record.get("model") or "unknown model")


def _grew(record, old, key):
    if old is None or record.get(key) is None or old.get(key) is None:
        return None
    return record[key] - old[key]


def tb(number):
    """Bytes as decimal TB (or GB under 0.1 TB), as the per-drive table writes them."""
    if number is None:
        return "n/a"
    return "%.2f TB" % (number / 1e12) if number >= 1e11 else "%.1f GB" % (number / 1e9)


def _self_test(record, subject, label, limits):
    check = CHECKS["self_test"]
    tests = record.get("self_tests") or {}
    if record.get("self_test_supported") is False and not tests.get("count"):
        # nothing to schedule: the drive says it cannot run self-tests (Apple's internal NVMe drives)
        return check.result("ok", None, None, "%s does not support self-tests (its controller says so); nothing to "
                            "schedule" % label, subject=subject)
    latest = [t for t in (tests.get("short"), tests.get("long")) if t]
    max_days = limits["self_test_max_age_days"]
    failed = [t for t in latest if t.get("passed") is False]
    recent = [t for t in latest if t.get("age_hours") is not None and t["age_hours"] <= max_days * 24]
    if failed:
        return check.result("warn", failed[0].get("status"), None, "%s: the last self-test failed (%s)"
                            % (label, failed[0].get("status")), subject=subject,
                            fix="run a long test and plan the replacement")
    if not recent:
        return check.result("warn", None, max_days, "%s: no self-test in the last %g days of power-on time"
                            % (label, max_days), subject=subject)
    return check.result("ok", min(t["age_hours"] for t in recent), max_days * 24, "%s: last self-test passed" % label,
                        subject=subject)


def _counters(record, old, subject, label):
    results = []
    for key, what in (("media_errors", "media errors"), ("reallocated_sectors", "reallocated sectors"),
                      ("pending_sectors", "pending sectors")):
        value = record.get(key)
        if value is None:
            continue
        check = CHECKS[key]
        grew = _grew(record, old, key)
        if grew:
            # Media errors are data the drive could not return: their growth is the drive failing now.
            results.append(check.result("crit" if key == "media_errors" else "warn", value, old[key],
                                        "%s: %s grew from %s to %s" % (label, what, old[key], value),
                                        subject=subject, fix=_REPLACE))
        elif key == "media_errors" and value > 0:
            results.append(check.result("warn", value, 0, "%s: %s media and data integrity errors%s"
                                        % (label, value, "" if old else " (first seen: no previous snapshot to compare)"),
                                        subject=subject))
        elif key == "pending_sectors" and value > 0:
            results.append(check.result("warn", value, 0, "%s: %s pending sectors (unreadable, waiting for a rewrite)"
                                        % (label, value), subject=subject))
        else:
            results.append(check.result("ok", value, None, "%s: %s %s%s" % (
                label, value, what, "" if old else " (no previous snapshot to compare)"), subject=subject))
    return results


def not_read(record):
    """The fields the checks read that neither pySMART nor ``--json`` gave (none that the drive lacks by nature)."""
    wanted = ["health_passed", "temperature_c", "power_on_hours"]
    if record.get("rotational") is not True:
        wanted.append("wear_pct_used")
    if not record.get("data_written_reason"):
        wanted.append("data_written_bytes")
    return [key for key in wanted if record.get(key) is None]


# NVMe critical warning bits (NVMe base specification, SMART / Health Information log, byte 0).
CRITICAL_WARNING_BITS = (
    (0, "available spare below its threshold"),
    (1, "temperature outside its thresholds"),
    (2, "NVM subsystem reliability degraded"),
    (3, "media placed in read-only mode"),
    (4, "volatile memory backup device failed"),
    (5, "persistent memory region read-only"),
)


def _health(record, subject, label):
    health = record.get("health_passed")
    rc = record.get("exit_status")
    failing = isinstance(rc, int) and rc & 0x08
    results = []
    if health is False:
        results.append(CHECKS["smart_health"].result("crit", False, True, "%s failed its SMART health self-assessment"
                                                     % label, subject=subject))
    elif failing:
        results.append(CHECKS["smart_health"].result("crit", health, True, "%s: smartctl's exit status says the disk is "
                                                     "failing (%s)" % (label, ", ".join(record.get("exit_status_words") or [])),
                                                     subject=subject))
    else:
        results.append(CHECKS["smart_health"].result("ok", health, True, "%s SMART health %s"
                                                     % (label, "passed" if health else "not reported"), subject=subject))
    warning = record.get("critical_warning")
    if warning is not None:
        if warning:
            words = [text for bit, text in CRITICAL_WARNING_BITS if warning & (1 << bit)] or ["reserved bits"]
            results.append(CHECKS["critical_warning"].result("crit", warning, 0, "%s: NVMe critical warning 0x%02x (%s)"
                                                             % (label, warning, ", ".join(words)), subject=subject))
        else:
            results.append(CHECKS["critical_warning"].result("ok", 0, 0, "%s: no NVMe critical warning" % label,
                                                             subject=subject))
    return results


def device_checks(record, old, limits):
    """The checks of one drive (each with the subject ``{"device": name}``)."""
    subject = {"device": record.get("name")}
    label = _label(record)
    read = CHECKS["smart_read"]
    if record.get("state") == "standby":
        return [read.result("ok", "standby", None, "%s is in standby and was not woken" % label, subject=subject)]
    by_hand = "read it by hand with smartctl -a %s" % record.get("name")
    results = []
    if record.get("state") == "garbled":
        if record.get("smart_supported") is not True:
            return [read.unknown("%s: %s, and smartctl --json gave nothing about the drive" % (label, record.get("reason")),
                                 subject=subject, fix=by_hand)]
        missing = not_read(record)
        if missing:
            results.append(read.unknown("%s: %s; smartctl --json did not give %s"
                                        % (label, record.get("reason"), ", ".join(missing)), subject=subject, fix=by_hand))
        else:
            results.append(read.result("ok", "garbled", None, "%s: %s; smartctl --json gave every field the checks read"
                                       % (label, record.get("reason")), subject=subject))
    if record.get("state") == "unreadable":
        return [read.unknown("%s: %s" % (label, record.get("reason")), subject=subject, fix="")]
    if record.get("smart_supported") is False:
        return [read.result("ok", "unsupported", None, "%s: no SMART data (%s); nothing to check"
                            % (label, record.get("reason")), subject=subject)]

    results.extend(_health(record, subject, label))
    results.append(_self_test(record, subject, label, limits))
    if record.get("rotational") is not True:
        results.append(CHECKS["wear"].level(record.get("wear_pct_used"), limits, "wear of %s" % label, subject=subject))

    spare, spare_min = record.get("available_spare_pct"), record.get("available_spare_threshold_pct")
    if spare is not None and spare_min is not None:
        if spare < spare_min:
            results.append(CHECKS["available_spare"].result(
                "crit", spare, spare_min, "%s: available spare %s %% is below its threshold %s %%"
                % (label, spare, spare_min), subject=subject))
        else:
            results.append(CHECKS["available_spare"].result(
                "ok", spare, spare_min, "%s: available spare %s %% (threshold %s %%)" % (label, spare, spare_min),
                subject=subject))
    results.extend(_counters(record, old, subject, label))
    rc = record.get("exit_status")
    if isinstance(rc, int) and 0 <= rc <= 255:
        entries = record.get("error_log_entries")
        count = "" if entries is None else " (%s entries)" % entries
        if rc & 0x40:
            results.append(CHECKS["error_log"].result("warn", entries, None, "%s: smartctl's exit status says the device "
                                                      "error log has errors%s" % (label, count), subject=subject))
        else:
            results.append(CHECKS["error_log"].result("ok", entries, None, "%s: no errors in the device error log%s"
                                                      % (label, count), subject=subject))
    results.append(CHECKS["temperature"].level(record.get("temperature_c"), limits, "temperature of %s" % label,
                                               subject=subject))
    if record.get("nand_type") == "qlc" and record.get("backs_paths"):
        results.append(CHECKS["qlc_critical_path"].result(
            "warn", record.get("backs_paths"), None, "%s is a QLC drive backing %s"
            % (label, ", ".join(record["backs_paths"])), subject=subject))

    days = record.get("projected_days_to_rated_tbw")
    if days is not None:
        limit = limits["tbw_projection_warn_days"]
        status = "warn" if days <= limit else "ok"
        results.append(CHECKS["tbw_projection"].result(status, days, limit, "%s reaches its rated %g TBW in about %d days at %s/day"
                                                       % (label, record.get("rated_tbw"), days,
                                                          tb(record.get("write_rate_bytes_per_day"))), subject=subject))

    grew = _grew(record, old, "unsafe_shutdowns")
    if grew:
        results.append(CHECKS["unsafe_shutdowns"].result(
            "warn", record["unsafe_shutdowns"], old["unsafe_shutdowns"], "%s: %d unsafe shutdowns since the previous "
            "snapshot (%d, now %d): growth without planned power-offs points at the PSU or a power loss"
            % (label, grew, old["unsafe_shutdowns"], record["unsafe_shutdowns"]), subject=subject))
    return results


def evaluate(data, params):
    """Rates, per-drive checks and statuses (set on each record), and every check of the area."""
    limits = params["thresholds"]
    previous = params.get("previous")
    elapsed = parse.elapsed_since(data, previous)
    results = []
    if not data.get("present"):
        # Nothing was looked at: unknown (could not look), never a verdict on the drives; the reason names the fix.
        results.append(CHECKS["smartctl_present"].unknown(
            data.get("reason") or "smartctl not found", fix="" if data.get("reason") else None, value=False,
            threshold=True))
    elif not data.get("as_root"):
        results.append(CHECKS["smart_access"].unknown(
            "smart_facts runs without root, so smartctl cannot open the drives", value=False, threshold=True))
    if data.get("present") and data.get("pysmart_present") is False and data.get("_system") == "Darwin":
        # macOS: the collection installs no pySMART there (the prerequisites role installs nothing on a Mac);
        # smartctl --json is the reader, and judged complete when it read every drive
        devices = data.get("devices") or []
        read = [d for d in devices if d.get("state") != "unreadable"]
        if devices and len(read) == len(devices):
            results.append(CHECKS["pysmart_present"].result(
                "ok", False, None, "macOS: every drive (%d) was read from smartctl --json; pySMART is not used on a "
                "Mac" % len(devices)))
        else:
            results.append(CHECKS["pysmart_present"].unknown(
                "macOS: %d of %d drives read from smartctl --json, and pySMART is not used on a Mac" % (len(read), len(devices)),
                fix="read the others by hand with smartctl -a, and update smartmontools (brew upgrade smartmontools)"))
    elif data.get("present") and data.get("pysmart_present") is False:
        devices = data.get("devices") or []
        read = [d for d in devices if d.get("state") != "unreadable"]
        results.append(CHECKS["pysmart_present"].unknown(
            "pySMART is not installed for the Python that runs smart_facts, so smartctl's text output was not "
            "read (%d of %d drives read from smartctl --json alone)" % (len(read), len(devices))))
    if data.get("present") and data.get("as_root") and not data.get("devices"):
        # Nothing read is not "ok": a container or VM sees no drive, or the drives were not named.
        results.append(CHECKS["smart_read"].unknown(
            "smartctl found no drive to read (smartctl --scan listed none, and none was named in devices)",
            fix="run it on the machine that holds the drives (a container or VM without the disks passed through "
                "sees none), or name them in devices (ssd_wear_devices)"))
    for record in data.get("devices") or []:
        old = parse.find_previous(record, previous)
        # A drive's readings from the history carry their own time (the run that last saw it).
        own = parse.elapsed_since(data, old) if old and old.get("collected_epoch_s") is not None else None
        parse.apply_previous(record, old, elapsed if own is None else own)
        record["checks"] = device_checks(record, old, limits)
        record["status"] = worst_status(record["checks"])
        results.extend(record["checks"])
    return results
