# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The smart area's drive records: what was read, combined, settled into a state and finished.

:func:`combine` takes what pySMART made of the text and what ``smartctl --json`` said about one
drive and settles its ``state`` (``active``, ``standby``, ``unsupported``, ``garbled``);
:func:`finish_record` adds the NAND type, the rated TBW and the critical paths the drive backs;
:func:`find_previous` and :func:`apply_previous` add the write rate and the days until the rated
TBW from an earlier snapshot. Pure functions (text, dicts and numbers in), no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart.nand import nand_type
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import smartctl
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.smartctl_record import (
    ata_data_written,
    empty_device,
    from_json,
    self_test_kind,
    self_test_passed,
    to_int,
)

MIN_RATE_WINDOW_S = 3600
DAY_S = 86400.0


class RatedTbwError(ValueError):
    """``rated_tbw`` holds a value that is not a number of TB written."""


def rated_tbw(values):
    """The ``rated_tbw`` option → ``{model or serial: TB}``; raises RatedTbwError naming the problem."""
    try:
        rated = dict((str(key), float(value)) for key, value in (values or {}).items())
    except (TypeError, ValueError) as exc:
        raise RatedTbwError("rated_tbw: values must be numbers of TB written: %s" % exc)
    wrong = sorted(key for key, value in rated.items() if not value > 0)
    if wrong:
        raise RatedTbwError("rated_tbw: values must be numbers of TB written above 0 (%s)"
                            % ", ".join("%s: %s" % (key, rated[key]) for key in wrong))
    return rated


def merge(primary, fallback):
    """Fields of ``primary`` (pySMART) win; None fields are filled from ``fallback`` (JSON)."""
    if not fallback:
        return primary
    if not primary:
        return fallback
    merged = dict(primary)
    for key, value in fallback.items():
        if key == "messages":
            merged["messages"] = list(primary.get("messages") or []) + [m for m in value or [] if m not in (primary.get("messages") or [])]
        elif key == "_tests":
            merged["_tests"] = primary.get("_tests") or value
        elif key == "data_written_reason":
            continue
        elif merged.get(key) is None and value is not None:
            merged[key] = value
    if merged.get("data_written_bytes") is not None:
        merged["data_written_reason"] = None
    else:
        merged["data_written_reason"] = primary.get("data_written_reason") or fallback.get("data_written_reason")
    if merged.get("wear_source") is None and merged.get("wear_pct_used") is not None:
        merged["wear_source"] = fallback.get("wear_source")
    return merged


def combine(name, record, lines, rc_text, doc, json_rc, euid=0, text_read=True):
    """One drive from its reads → ``(record, warnings)`` with its ``state`` settled.

    ``record``: pySMART's (``state: garbled`` when pySMART raised); ``lines``, ``rc_text``: the text
    run; ``doc``, ``json_rc``: the ``--json`` run (``doc`` None without one). The JSON exit status
    wins: it is the richer call's, and so do its verdicts when they are worse (``health_passed``
    False, a non-zero NVMe ``critical_warning``). A garbled text keeps what ``--json`` gave (its
    ``smart_supported`` is True when the JSON described the drive). ``text_read`` False: pySMART is
    not installed, so ``--json`` is all there is; without a document the drive is ``unreadable``
    (not ``unsupported``: nobody looked).
    """
    warnings = []
    block = smartctl.text_block_size(lines)
    if record.get("logical_block_size") is None and block is not None:
        record["logical_block_size"] = block
        if record.get("_ata_attributes") and record.get("data_written_bytes") is None:
            written, reason = ata_data_written(record["_ata_attributes"], block)
            record.update(data_written_bytes=written, data_written_reason=reason)
    described = from_json(doc)
    record = merge(record, described)
    record["name"] = name
    if described:
        # The drive's own verdicts: the worse of the two reads wins (a text parse that says PASSED or
        # nothing at all never hides what --json said).
        if described.get("health_passed") is False:
            record["health_passed"] = False
        if described.get("critical_warning"):
            record["critical_warning"] = (record.get("critical_warning") or 0) | described["critical_warning"]
    rc = rc_text if rc_text is not None else json_rc
    if doc is not None and isinstance(doc.get("smartctl"), dict) and doc["smartctl"].get("exit_status") is not None:
        rc = doc["smartctl"]["exit_status"]
    words = smartctl.decode_exit_status(rc)
    record.update(exit_status=rc, exit_status_words=words)
    all_lines = list(lines) + list(record.get("messages") or [])
    if smartctl.is_standby(all_lines):
        return _reset(record, state="standby", smart_supported=None,
                      reason="in standby: not woken (smartctl -n standby); read it when the disk is spinning"), warnings
    if record.get("state") == "garbled":
        # pySMART raised on the text; what --json said about the drive is kept and judged.
        if described and (described.get("model") or described.get("health_passed") is not None) \
                and described.get("smart_supported") is not False:
            record["smart_supported"] = True
        return record, warnings
    if doc is None and not text_read:
        return _reset(record, state="unreadable", smart_supported=None, reason=(
            "pySMART is not installed and smartctl gave no --json document (smartctl 7.0 or later has --json): "
            "run the gpufleet.maintenance.prerequisites role")), warnings
    if record.get("smart_supported") is not True and not (record.get("model") and record.get("health_passed") is not None):
        kept = ("firmware", "capacity_bytes", "logical_block_size", "_tests")
        reason = smartctl.unsupported_reason(all_lines)
        if reason:
            return _reset(record, kept, state="unsupported", smart_supported=False, reason=reason), warnings
        # Not "no SMART here": smartctl could not open the drive, or said nothing we can read. Nobody looked.
        reason = smartctl.open_failed_reason(all_lines)
        if reason and euid != 0:
            reason = "%s: smartctl could not open the drive as uid %d; smart_facts needs root (become: true)" % (reason, euid)
        elif reason:
            reason = ("%s: root could not open the drive; check that the device exists and that this host lets "
                      "root open it (a container needs the device passed through)" % reason)
        else:
            reason = ("smartctl gave no SMART data and no reason (exit status: %s); read it by hand with smartctl -a %s"
                      % (", ".join(words) if words else "none" if rc is None else rc, name))
        return _reset(record, kept, state="unreadable", smart_supported=None, reason=reason), warnings
    record.update(smart_supported=True, state="active")
    if rc is not None and rc & 0x04:
        warnings.append("%s: smartctl reports: %s" % (name, ", ".join(words)))
    return record, warnings


def _reset(record, more=(), **changes):
    """An empty record of the same drive keeping who it is (and ``more`` fields), with ``changes``."""
    keep = ("name", "smartctl_type", "interface", "model", "serial", "exit_status", "exit_status_words") + tuple(more)
    fresh = empty_device(record.get("name"))
    fresh.update((key, record.get(key)) for key in keep)
    fresh.update(changes)
    return fresh


def summarize_self_tests(entries, power_on_hours):
    """``[{type, status, lifetime_hours}]`` (newest first) → ``{short, long, count}`` with ages.

    The age is in power-on hours (the drive's own clock in its self-test log): ``power_on_hours -
    lifetime_hours``; a drive that is off most of the time looks younger than the calendar says.
    """
    result = {"short": None, "long": None, "count": len(entries or [])}
    for entry in entries or []:
        kind = self_test_kind(entry.get("type"))
        if kind not in ("short", "long") or result[kind] is not None:
            continue
        hours = to_int(entry.get("lifetime_hours"))
        age = power_on_hours - hours if power_on_hours is not None and hours is not None and power_on_hours >= hours else None
        passed = entry.get("passed")
        result[kind] = {
            "status": entry.get("status"),
            "passed": self_test_passed(entry.get("status")) if passed is None else passed,
            "lifetime_hours": hours,
            "age_hours": age,
        }
    return result


def disk_key(path):
    """``/dev/nvme0n1p2`` → ``nvme0``; ``/dev/sda1`` → ``sda``; ``/dev/mmcblk0p1`` → ``mmcblk0``."""
    base = os.path.basename(path or "")
    match = re.match(r"^(nvme\d+)(n\d+)?(p\d+)?$", base)
    if match:
        return match.group(1)
    match = re.match(r"^(mmcblk\d+)(p\d+)?$", base)
    if match:
        return match.group(1)
    match = re.match(r"^((?:s|h|v|xv)d[a-z]+)\d*$", base)
    if match:
        return match.group(1)
    return base or None


def finish_record(record, rated, critical):
    """Add NAND type, rated TBW, TBW used and the critical paths a drive backs; drop private keys."""
    tests = record.pop("_tests", None) or []
    record.pop("_ata_attributes", None)
    record["self_tests"] = summarize_self_tests(tests, record.get("power_on_hours"))
    kind, source = nand_type(record.get("model"))
    if record.get("rotational") is True:
        kind, source = "unknown", "rotational disk (no NAND)"
    record["nand_type"], record["nand_source"] = kind, source
    found = None
    for key in (record.get("serial"), record.get("model")):
        if key and key in (rated or {}):
            found = rated[key]
            break
    record["rated_tbw"] = found
    if found and record.get("data_written_bytes") is not None:
        record["tbw_used_pct"] = round(100.0 * record["data_written_bytes"] / (float(found) * 1e12), 2)
    key = disk_key(record.get("name"))
    record["backs_paths"] = sorted(path for path, keys in (critical or {}).items() if key in keys)
    return record


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
    # Readings from the controller's history are keyed by the drive's name alone.
    for old in previous_fact.get("devices") or []:
        if isinstance(old, dict) and old.get("from_history") and old.get("name") == record.get("name"):
            return old
    return None


def elapsed_since(fact, previous_fact):
    """Seconds between an earlier fact (or drive record, from the history) and this one (None when either has no time)."""
    if isinstance(previous_fact, dict) and previous_fact.get("collected_epoch_s") is not None \
            and fact.get("collected_epoch_s") is not None:
        return fact["collected_epoch_s"] - previous_fact["collected_epoch_s"]
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


# The readings the growth checks and the write rate compare with the previous run (recorded by the
# area's ``readings``; the history keys them by host and ``device=<name>``).
PREVIOUS_READINGS = ("data_written_bytes", "media_errors", "reallocated_sectors", "pending_sectors", "unsafe_shutdowns")


def previous_from_history(last):
    """The history's newest readings of one host (``{metric: {subject: [ts, value]}}``, the ``history``
    action's ``last[host]``) → a ``previous`` fact for :func:`find_previous` / :func:`apply_previous`.

    Each drive gets its own ``collected_epoch_s``: the ``smart.collected_epoch_s`` recorded in the same
    run as its data written, else that run's time (a drive missing from the newest run keeps the
    readings of the run that last saw it). Drives are matched by name (the history has no serial).
    """
    collected = ((last or {}).get("smart.collected_epoch_s") or {}).get("")
    devices = {}
    for key in PREVIOUS_READINGS:
        for subject, pair in sorted(((last or {}).get("smart.devices.%s" % key) or {}).items()):
            name = subject[len("device="):] if subject.startswith("device=") else None
            if not name or not isinstance(pair, (list, tuple)) or len(pair) != 2:
                continue
            ts, value = pair
            record = devices.setdefault(name, {"name": name, "from_history": True})
            record[key] = int(value) if float(value).is_integer() else value
            if key == "data_written_bytes" or "collected_epoch_s" not in record:
                same_run = collected is not None and collected[0] == ts
                record["collected_epoch_s"] = collected[1] if same_run else ts
    if not devices:
        return {}
    times = [d["collected_epoch_s"] for d in devices.values()]
    return {"collected_epoch_s": max(times), "devices": [devices[name] for name in sorted(devices)]}
