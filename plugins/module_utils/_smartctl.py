# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SMART data through pySMART over smartctl, normalised into one record per drive.

The main path is pySMART (``Device`` parsing ``smartctl -d TYPE --all`` text); fields pySMART does
not give (exact counters, the logical block size, the exit status of JSON-era smartctl, the SCSI
power-on time) are taken from ``smartctl --json -a`` when the installed smartctl has it. Pure
functions (``decode_exit_status``, ``parse_scan``, ``from_pysmart``, ``from_json``, ``merge``,
``ata_wear``, ``ata_data_written``...) take text, dicts or pySMART objects and return plain dicts;
``collect()`` runs smartctl through ``_runner`` (``LC_ALL=C``, a timeout) and is the one entry point
of the module. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._host import mount_for, parse_mounts
from ansible_collections.gpufleet.maintenance.plugins.module_utils._nand import nand_type

try:
    from pySMART.device import Device as _PySmartDevice
    from pySMART.smartctl import Smartctl as _PySmartSmartctl
    HAS_PYSMART = True
    PYSMART_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised by the module's missing_required_lib
    _PySmartDevice = _PySmartSmartctl = None
    HAS_PYSMART = False
    PYSMART_IMPORT_ERROR = _exc

SCHEMA_VERSION = 1
NVME_DATA_UNIT_BYTES = 512000  # NVMe "Data Units" are thousands of 512-byte units, whatever the LBA size
GIB = 1024 ** 3
MIB = 1024 ** 2

# smartctl(8) "RETURN VALUES": bit -> words.
EXIT_BITS = (
    (0, "command line error"),
    (1, "device open failed"),
    (2, "SMART command failed"),
    (3, "disk failing"),
    (4, "prefail attributes at or below threshold"),
    (5, "attributes were at threshold in the past"),
    (6, "error log has errors"),
    (7, "self-test log has errors"),
)

# Attribute names giving a normalised "life remaining" VALUE (100 = new); wear used = 100 - VALUE.
ATA_WEAR_ATTRIBUTES = (
    "Percent_Lifetime_Remain",
    "Media_Wearout_Indicator",
    "Wear_Leveling_Count",
    "SSD_Life_Left",
    "Percent_Life_Remaining",
    "Remaining_Lifetime_Perc",
)
# Attribute names whose RAW value counts host writes in a unit named by the attribute.
ATA_WRITE_UNITS = (
    ("Host_Writes_GiB", GIB),
    ("Lifetime_Writes_GiB", GIB),
    ("Total_Writes_GiB", GIB),
    ("Host_Writes_MiB", MIB),
    ("Host_Writes_32MiB", 32 * MIB),
)
ATA_LBA_WRITES = ("Total_LBAs_Written", "Host_Writes_LBAs")

USB_TYPES = ("sntasmedia", "sntjmicron", "sntrealtek", "usbjmicron", "usbcypress", "usbprolific",
             "usbsunplus", "usbasm1352r")

FIELDS = (
    "name", "model", "serial", "firmware", "interface", "smartctl_type", "smart_supported", "state",
    "reason", "rotational", "capacity_bytes", "logical_block_size", "health_passed", "temperature_c",
    "power_on_hours", "power_cycles", "unsafe_shutdowns", "media_errors", "error_log_entries",
    "percentage_used", "available_spare_pct", "available_spare_threshold_pct", "data_written_bytes",
    "data_written_reason", "wear_pct_used", "wear_source", "reallocated_sectors", "pending_sectors",
    "crc_errors", "nand_type", "nand_source", "rated_tbw", "tbw_used_pct", "write_rate_bytes_per_day",
    "projected_days_to_rated_tbw", "rate_reason", "backs_paths", "self_tests", "exit_status",
    "exit_status_words", "messages",
)


def decode_exit_status(rc):
    """smartctl's exit status (a bit mask) → list of words; ``[]`` for 0, None for no status."""
    if rc is None:
        return None
    try:
        rc = int(rc)
    except (TypeError, ValueError):
        return ["not a smartctl exit status: %r" % (rc,)]
    if rc < 0 or rc > 255:
        return ["killed or not run (exit status %d)" % rc]
    return [words for bit, words in EXIT_BITS if rc & (1 << bit)]


def empty_device(name):
    record = dict((key, None) for key in FIELDS)
    record.update(name=name, backs_paths=[], messages=[], self_tests={"short": None, "long": None, "count": 0},
                  nand_type="unknown")
    return record


def parse_scan(lines):
    """``smartctl --scan-open`` lines → ``[(device, type)]`` (failed opens and comments skipped)."""
    found = []
    for line in lines or []:
        line = line.strip()
        if not line or line.startswith("#") or "failed:" in line.split("#")[0]:
            continue
        match = re.match(r"^(\S+)\s+-d\s+(\S+)", line)
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def interface_name(smartctl_type, protocol=None, transport=None, name=""):
    """Map smartctl's device type (``nvme``, ``sat``, ``scsi``, ``sntasmedia``...) to our interface word."""
    kind = (smartctl_type or "").lower()
    if kind in USB_TYPES or kind.startswith("usb") or kind.startswith("snt"):
        return "usb"
    if kind == "nvme" or (protocol or "").lower() == "nvme":
        return "nvme"
    if kind in ("sat", "ata", "sata", "csmi") or kind.startswith("sat+") or (protocol or "").upper() == "ATA":
        return "sata"
    if kind in ("scsi", "sas") or (protocol or "").upper() == "SCSI" or kind.startswith("megaraid"):
        return "sas" if kind == "sas" or "SAS" in (transport or "") else "scsi"
    return kind or None


def _int(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    match = re.search(r"-?\d[\d,]*", str(value))
    if not match:
        return None
    try:
        return int(match.group().replace(",", ""))
    except ValueError:
        return None


def self_test_passed(status):
    """A self-test status string → True (passed), False (failed) or None (aborted, running, unknown)."""
    text = (status or "").lower()
    if "without error" in text or text in ("completed", "completed: no error"):
        return True
    if any(word in text for word in ("fail", "error", "electrical", "servo", "damage", "segment")):
        return False
    return None


def self_test_kind(description):
    text = (description or "").lower()
    if "short" in text:
        return "short"
    if "extended" in text or "long" in text:
        return "long"
    if "conveyance" in text:
        return "conveyance"
    return text or None


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
        hours = _int(entry.get("lifetime_hours"))
        age = power_on_hours - hours if power_on_hours is not None and hours is not None and power_on_hours >= hours else None
        passed = entry.get("passed")
        result[kind] = {
            "status": entry.get("status"),
            "passed": self_test_passed(entry.get("status")) if passed is None else passed,
            "lifetime_hours": hours,
            "age_hours": age,
        }
    return result


def ata_wear(attributes):
    """ATA attributes ``{name: {value, raw}}`` → ``(wear_pct_used, source)`` from the vendor's life attribute."""
    for name in ATA_WEAR_ATTRIBUTES:
        attr = attributes.get(name)
        if attr and attr.get("value") is not None:
            value = _int(attr["value"])
            if value is None or value > 100 or value < 0:
                continue
            return 100 - value, "%s (normalised value %d)" % (name, value)
    return None, None


def ata_data_written(attributes, logical_block_size):
    """ATA attributes → ``(bytes, reason)``: a named-unit attribute, else LBAs × logical block size.

    ``bytes`` is None with a reason when no attribute counts writes or the block size is unknown;
    never a guessed 0.
    """
    for name, unit in ATA_WRITE_UNITS:
        attr = attributes.get(name)
        if attr and _int(attr.get("raw")) is not None:
            return _int(attr["raw"]) * unit, None
    for name in ATA_LBA_WRITES:
        attr = attributes.get(name)
        if attr and _int(attr.get("raw")) is not None:
            if not logical_block_size:
                return None, "%s is reported but the logical block size is not; data written unknown" % name
            return _int(attr["raw"]) * logical_block_size, None
    return None, "the drive reports no host-writes attribute"


def nvme_data_written(units, host_write_commands=None):
    """NVMe Data Units Written → ``(bytes, reason)``; a 0 next to host writes is refused as false."""
    if units is None:
        return None, "Data Units Written not reported"
    if units == 0 and host_write_commands:
        return None, ("Data Units Written reads 0 after %d host write commands; the counter is not "
                      "trustworthy on this drive" % host_write_commands)
    return units * NVME_DATA_UNIT_BYTES, None


# --------------------------------------------------------------------------- pySMART objects


def _ata_attributes_from_pysmart(device):
    attrs = {}
    if_attrs = getattr(device, "if_attributes", None)
    legacy = getattr(if_attrs, "legacyAttributes", None) or []
    for attr in legacy:
        if attr is None:
            continue
        try:
            value = attr.value_str
        except (AttributeError, ValueError):
            value = None
        attrs[attr.name] = {"id": attr.num, "value": _int(value), "raw": attr.raw,
                            "when_failed": getattr(attr, "when_failed", None)}
    return attrs


def from_pysmart(device):
    """A pySMART ``Device`` → the normalised fields it knows (others None)."""
    record = empty_device("/dev/%s" % device.name if not str(device.name).startswith("/") else device.name)
    smartctl_type = device.interface
    if smartctl_type is None:
        return record
    fine = device.dev_interface if smartctl_type in ("scsi", "sat", "ata") else smartctl_type
    record.update(
        model=device.model, serial=device.serial or None, firmware=device.firmware,
        smartctl_type=smartctl_type, interface=interface_name(fine),
        capacity_bytes=device._capacity,  # pylint: disable=protected-access
        temperature_c=device.temperature,
    )
    if device.assessment in ("PASS", "WARN"):
        record["health_passed"] = True
    elif device.assessment == "FAIL":
        record["health_passed"] = False
    if device.rotation_rate:
        record["rotational"] = True
    elif device.is_ssd:
        record["rotational"] = False
    messages = [m for m in (device.messages or []) if m]
    record["messages"] = messages
    if_attrs = device.if_attributes
    kind = type(if_attrs).__name__ if if_attrs is not None else None
    tests = []
    if kind == "NvmeAttributes":
        record.update(
            rotational=False,
            power_on_hours=if_attrs.powerOnHours, power_cycles=if_attrs.powerCycles,
            unsafe_shutdowns=if_attrs.unsafeShutdowns, media_errors=if_attrs.integrityErrors,
            error_log_entries=if_attrs.errorEntries, percentage_used=if_attrs.percentageUsed,
            available_spare_pct=if_attrs.availableSpare,
            available_spare_threshold_pct=if_attrs.availableSpareThreshold,
            logical_block_size=getattr(if_attrs, "_logical_sector_size", None) or device.logical_sector_size,
            wear_pct_used=if_attrs.percentageUsed,
            wear_source="NVMe Percentage Used" if if_attrs.percentageUsed is not None else None,
        )
        written, reason = nvme_data_written(if_attrs.dataUnitsWritten, if_attrs.hostWriteCommands)
        record.update(data_written_bytes=written, data_written_reason=reason)
        for test in if_attrs.tests or []:
            tests.append({"type": test.description, "status": test.status, "lifetime_hours": test.powerOnHours})
        if record["temperature_c"] is None:
            record["temperature_c"] = if_attrs.temperature
        record["smart_supported"] = True
    elif kind == "AtaAttributes":
        attrs = _ata_attributes_from_pysmart(device)
        block = getattr(if_attrs, "_logical_sector_size", None) or device.logical_sector_size
        record["logical_block_size"] = block
        record["_ata_attributes"] = attrs
        record.update(_ata_counters(attrs, block, record["rotational"]))
        tests = [{"type": t.type, "status": t.status, "lifetime_hours": t.hours} for t in device.tests or []]
        record["smart_supported"] = bool(device.smart_capable or device.smart_enabled)
    elif kind == "SCSIAttributes":
        record["logical_block_size"] = getattr(if_attrs, "_logical_sector_size", None) or device.logical_sector_size
        tests = [{"type": t.type, "status": t.status, "lifetime_hours": t.hours} for t in device.tests or []]
        record["smart_supported"] = bool(device.smart_capable or device.smart_enabled or device.assessment)
        diags = getattr(if_attrs, "diagnostics", None)
        defects = getattr(diags, "grown_defects", None) if diags is not None else None
        record["reallocated_sectors"] = _int(defects)
    else:
        record["smart_supported"] = bool(device.smart_capable or device.smart_enabled) or None
    record["_tests"] = tests
    return record


def _ata_counters(attrs, block, rotational):
    def raw(*names):
        for name in names:
            if name in attrs:
                return _int(attrs[name].get("raw"))
        return None

    out = {
        "power_on_hours": raw("Power_On_Hours", "Power_On_Hours_and_Msec", "Power_On_Minutes"),
        "power_cycles": raw("Power_Cycle_Count"),
        "reallocated_sectors": raw("Reallocated_Sector_Ct"),
        "pending_sectors": raw("Current_Pending_Sector", "Total_Pending_Sectors"),
        "crc_errors": raw("UDMA_CRC_Error_Count", "CRC_Error_Count"),
        "unsafe_shutdowns": raw("Unexpect_Power_Loss_Ct", "Unsafe_Shutdown_Count"),
    }
    if "Power_On_Minutes" in attrs and "Power_On_Hours" not in attrs and out["power_on_hours"] is not None:
        out["power_on_hours"] //= 60
    if rotational is not True:
        wear, source = ata_wear(attrs)
        out.update(wear_pct_used=wear, wear_source=source)
    written, reason = ata_data_written(attrs, block)
    out.update(data_written_bytes=written, data_written_reason=reason)
    return out


# --------------------------------------------------------------------------- smartctl --json


def from_json(doc):
    """A ``smartctl --json -a`` document → the normalised fields it knows (others None)."""
    if not isinstance(doc, dict):
        return None
    device = doc.get("device") or {}
    record = empty_device(device.get("name"))
    smartctl = doc.get("smartctl") or {}
    record["exit_status"] = smartctl.get("exit_status")
    record["messages"] = [m.get("string") for m in smartctl.get("messages") or [] if isinstance(m, dict) and m.get("string")]
    if not device:
        return record
    rotation = doc.get("rotation_rate")
    nvme = doc.get("nvme_smart_health_information_log")
    record.update(
        smartctl_type=device.get("type"),
        interface=interface_name(device.get("type"), device.get("protocol"),
                                 (doc.get("scsi_transport_protocol") or {}).get("name")),
        model=doc.get("model_name") or doc.get("scsi_model_name") or doc.get("product"),
        serial=doc.get("serial_number"),
        firmware=doc.get("firmware_version") or doc.get("scsi_revision") or doc.get("revision"),
        capacity_bytes=(doc.get("user_capacity") or {}).get("bytes") or doc.get("nvme_total_capacity"),
        logical_block_size=doc.get("logical_block_size"),
        temperature_c=(doc.get("temperature") or {}).get("current"),
        power_on_hours=(doc.get("power_on_time") or {}).get("hours"),
        power_cycles=doc.get("power_cycle_count"),
    )
    if isinstance(rotation, int):
        record["rotational"] = rotation > 0
    status = doc.get("smart_status")
    if isinstance(status, dict) and "passed" in status:
        record["health_passed"] = bool(status["passed"])
    support = doc.get("smart_support")
    if isinstance(support, dict) and "available" in support:
        record["smart_supported"] = bool(support["available"])
    tests = []
    if isinstance(nvme, dict):
        record.update(
            rotational=False, smart_supported=True,
            unsafe_shutdowns=nvme.get("unsafe_shutdowns"), media_errors=nvme.get("media_errors"),
            error_log_entries=nvme.get("num_err_log_entries"), percentage_used=nvme.get("percentage_used"),
            available_spare_pct=nvme.get("available_spare"),
            available_spare_threshold_pct=nvme.get("available_spare_threshold"),
            wear_pct_used=nvme.get("percentage_used"),
            wear_source="NVMe Percentage Used" if nvme.get("percentage_used") is not None else None,
        )
        for key, field in (("power_on_hours", "power_on_hours"), ("power_cycles", "power_cycles"),
                           ("temperature", "temperature_c")):
            if record[field] is None:
                record[field] = nvme.get(key)
        written, reason = nvme_data_written(nvme.get("data_units_written"), nvme.get("host_writes"))
        record.update(data_written_bytes=written, data_written_reason=reason)
        for entry in (doc.get("nvme_self_test_log") or {}).get("table") or []:
            result = entry.get("self_test_result") or {}
            tests.append({"type": (entry.get("self_test_code") or {}).get("string"), "status": result.get("string"),
                          "passed": (result.get("value") == 0) if "value" in result else None,
                          "lifetime_hours": entry.get("power_on_hours")})
    table = (doc.get("ata_smart_attributes") or {}).get("table")
    if isinstance(table, list):
        attrs = {}
        for attr in table:
            if isinstance(attr, dict) and attr.get("name"):
                attrs[attr["name"]] = {"id": attr.get("id"), "value": attr.get("value"),
                                       "raw": (attr.get("raw") or {}).get("value")}
        counters = _ata_counters(attrs, record["logical_block_size"], record["rotational"])
        for key, value in counters.items():
            if record.get(key) is None or key in ("data_written_reason",):
                record[key] = value
        log = (doc.get("ata_smart_error_log") or {}).get("summary") or (doc.get("ata_smart_error_log") or {}).get("extended") or {}
        record["error_log_entries"] = log.get("count")
        for entry in ((doc.get("ata_smart_self_test_log") or {}).get("standard") or {}).get("table") or []:
            status = entry.get("status") or {}
            tests.append({"type": (entry.get("type") or {}).get("string"), "status": status.get("string"),
                          "passed": status.get("passed"), "lifetime_hours": entry.get("lifetime_hours")})
    if device.get("protocol") == "SCSI":
        record["reallocated_sectors"] = doc.get("scsi_grown_defect_list")
        if record["health_passed"] is not None or doc.get("scsi_error_counter_log"):
            record["smart_supported"] = True
    record["_tests"] = tests
    return record


def parse_json_text(text):
    """smartctl --json output → (dict or None, error or None)."""
    text = (text or "").strip()
    if not text.startswith("{"):
        return None, "not JSON (smartctl before 7.0 has no --json)"
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, "garbled JSON: %s" % exc


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


# --------------------------------------------------------------------------- unsupported, standby

_UNSUPPORTED_PATTERNS = (
    "Unable to detect device type",
    "SMART support is: Unavailable",
    "does not support SMART",
    "Unknown USB bridge",
    "SMART support is: Disabled",
    "Operation not permitted",
    "Permission denied",
    "Open failed",
    "failed:",
)


def unsupported_reason(lines):
    """The line of smartctl's output that says why SMART cannot be read, or None."""
    for line in lines or []:
        text = " ".join(line.split())
        if any(pattern in text for pattern in _UNSUPPORTED_PATTERNS):
            return text
    return None


def text_block_size(lines):
    """The logical block size from smartctl's text (``Sector Size(s):``, ``Logical block size:``,
    ``Formatted LBA Size:``), for the layouts pySMART does not read; None when absent."""
    for line in lines or []:
        text = " ".join(line.split())
        match = (re.match(r"^Sector Sizes?: (\d+) bytes logical", text)
                 or re.match(r"^Logical block size: (\d+) bytes", text)
                 or re.match(r"^Namespace 1 Formatted LBA Size: (\d+)$", text))
        if match:
            return int(match.group(1))
    return None


def is_standby(lines):
    return any("STANDBY" in line and "mode" in line for line in lines or [])


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


def backing_disks(source, sysfs="/sys"):
    """The disk keys under a block device, following device-mapper/md slaves in sysfs."""
    if not source or not source.startswith("/dev/"):
        return []
    real = os.path.realpath(source)
    name = os.path.basename(real)
    slaves = os.path.join(sysfs, "class", "block", name, "slaves")
    if os.path.isdir(slaves):
        keys = []
        for slave in sorted(os.listdir(slaves)):
            for key in backing_disks("/dev/" + slave, sysfs):
                if key not in keys:
                    keys.append(key)
        if keys:
            return keys
    return [disk_key(real)]


def critical_path_disks(paths, mounts_text, sysfs="/sys"):
    """``{path: [disk keys]}`` for the critical paths that exist on this host."""
    mounts = parse_mounts(mounts_text)
    result = {}
    for path in paths or []:
        expanded = os.path.expanduser(path)
        if not os.path.exists(expanded):
            continue
        mount = mount_for(os.path.realpath(expanded), mounts) or {}
        result[path] = backing_disks(mount.get("device"), sysfs)
    return result


# --------------------------------------------------------------------------- running smartctl


def _make_smartctl_class():
    class RunnerSmartctl(_PySmartSmartctl):
        """pySMART's Smartctl with its process runs routed through ``_runner`` (C locale, timeout)."""

        def __init__(self, run_command, path, timeout, options):
            super(RunnerSmartctl, self).__init__(smartctl_path=path, options=list(options))
            self._run_command = run_command
            self._timeout = timeout
            self.calls = []
            self.errors = []

        def _exec(self, cmd):
            try:
                result = _runner.run(self._run_command, list(cmd), timeout=self._timeout)
            except _runner.ToolError as exc:
                self.errors.append(str(exc))
                self.calls.append((list(cmd), exc.rc, ""))
                return [], exc.rc if exc.rc is not None else 2
            self.calls.append((list(cmd), result.rc, result.stdout))
            return (result.stdout or "").splitlines(), result.rc

        def last(self, flag, device):
            for cmd, rc, out in reversed(self.calls):
                if flag in cmd and cmd and cmd[-1] == device:
                    return rc, (out or "").splitlines()
            return None, []

    return RunnerSmartctl


def read_device(smartctl, name, smartctl_type, wake=False):
    """Read one drive (pySMART text, then ``--json -a``) and return its normalised record."""
    warnings = []
    standby = [] if wake else ["-n", "standby"]
    record = None
    try:
        device = _PySmartDevice(name, interface=smartctl_type, smartctl=smartctl)
        record = from_pysmart(device)
    except Exception as exc:  # pylint: disable=broad-except  # pySMART raises many types on garbled text
        warnings.append("%s: pySMART could not parse smartctl's output (%s: %s); its fields are null"
                        % (name, type(exc).__name__, exc))
        record = empty_device(name)
        record["state"] = "garbled"
    record["name"] = name
    rc_text, lines = smartctl.last("--all", name)
    if rc_text is None:
        rc_text, lines = smartctl.last("test", name)
    argv = [smartctl.smartctl_path, "--json"] + standby + ["-a"]
    if smartctl_type or record.get("smartctl_type"):
        argv += ["-d", smartctl_type or record["smartctl_type"]]
    argv.append(name)
    doc = None
    try:
        result = _runner.run(smartctl._run_command, argv, timeout=smartctl._timeout)  # pylint: disable=protected-access
        doc, error = parse_json_text(result.stdout)
        json_rc = result.rc
        if doc is None and "UNRECOGNIZED OPTION" not in (result.stdout or "") and (result.stdout or "").strip():
            warnings.append("%s: smartctl --json: %s" % (name, error))
    except _runner.ToolError as exc:
        warnings.append("%s: %s" % (name, exc))
        json_rc = exc.rc
    if record.get("logical_block_size") is None and text_block_size(lines) is not None:
        record["logical_block_size"] = text_block_size(lines)
        if record.get("_ata_attributes") and record.get("data_written_bytes") is None:
            written, reason = ata_data_written(record["_ata_attributes"], record["logical_block_size"])
            record.update(data_written_bytes=written, data_written_reason=reason)
    record = merge(record, from_json(doc))
    record["name"] = name
    # The JSON document carries the exit status of the richer call; text-only smartctl (< 7.0) gives its own.
    rc = rc_text if rc_text is not None else json_rc
    if doc is not None and isinstance(doc.get("smartctl"), dict) and doc["smartctl"].get("exit_status") is not None:
        rc = doc["smartctl"]["exit_status"]
    record["exit_status"] = rc
    record["exit_status_words"] = decode_exit_status(rc)
    all_lines = list(lines) + list(record.get("messages") or [])
    if is_standby(all_lines):
        keep = dict((k, record.get(k)) for k in ("name", "smartctl_type", "interface", "model", "serial"))
        record = empty_device(name)
        record.update(keep)
        record.update(state="standby", smart_supported=None, exit_status=rc, exit_status_words=decode_exit_status(rc),
                      reason="in standby: not woken (smartctl -n standby); read it when the disk is spinning")
        return record, warnings
    if record.get("state") == "garbled":
        return record, warnings
    reason = None
    if record.get("smart_supported") is not True and not (record.get("model") and record.get("health_passed") is not None):
        reason = unsupported_reason(all_lines) or (
            "smartctl could not read SMART data (%s)" % ", ".join(decode_exit_status(rc) or ["no data"]))
    if reason:
        kept = ("name", "smartctl_type", "interface", "model", "serial", "firmware", "capacity_bytes",
                "logical_block_size", "_tests")
        keep = dict((k, record.get(k)) for k in kept)
        record = empty_device(name)
        record.update(keep)
        record.update(smart_supported=False, state="unsupported", reason=reason, exit_status=rc,
                      exit_status_words=decode_exit_status(rc))
    else:
        record.update(smart_supported=True, state="active")
        if rc is not None and rc & 0x04:
            warnings.append("%s: smartctl reports: %s" % (name, ", ".join(decode_exit_status(rc))))
    return record, warnings


def finish_record(record, rated_tbw, critical):
    """Add NAND type, rated TBW, TBW used and the critical paths a drive backs; drop private keys."""
    tests = record.pop("_tests", None) or []
    record.pop("_ata_attributes", None)
    record["self_tests"] = summarize_self_tests(tests, record.get("power_on_hours"))
    kind, source = nand_type(record.get("model"))
    if record.get("rotational") is True:
        kind, source = "unknown", "rotational disk (no NAND)"
    record["nand_type"], record["nand_source"] = kind, source
    rated = None
    for key in (record.get("serial"), record.get("model")):
        if key and key in (rated_tbw or {}):
            rated = rated_tbw[key]
            break
    record["rated_tbw"] = rated
    if rated and record.get("data_written_bytes") is not None:
        record["tbw_used_pct"] = round(100.0 * record["data_written_bytes"] / (float(rated) * 1e12), 2)
    key = disk_key(record.get("name"))
    record["backs_paths"] = sorted(path for path, keys in (critical or {}).items() if key in keys)
    return record


def collect(run_command, smartctl_path=None, devices=None, critical_paths=(), rated_tbw=None,
            euid=None, timeout=60, mounts_text=None, sysfs="/sys", now=None, wake=False):
    """Read every drive and return ``(fact_without_checks, warnings)``.

    ``devices`` None: the drives ``smartctl --scan-open`` lists; else paths, each optionally
    ``PATH:TYPE`` (``/dev/sda:sat``, ``/dev/bus/0:megaraid,16``).
    """
    warnings = []
    now = time.time() if now is None else now
    euid = os.geteuid() if euid is None else euid
    fact = {"schema_version": SCHEMA_VERSION, "present": False, "reason": None, "smartctl_path": None,
            "smartctl_version": None, "collected_epoch_s": int(now), "as_root": euid == 0, "devices": []}
    path = _runner.find_tool("smartctl", smartctl_path)
    if not path:
        fact["reason"] = ("smartctl %s: install smartmontools (ssd_wear_install: true, or apt-get install "
                          "smartmontools)" % ("not found at %s" % smartctl_path if smartctl_path else "not found"))
        return fact, warnings
    fact.update(present=True, smartctl_path=path)
    smartctl = _make_smartctl_class()(run_command, path, timeout, [] if wake else ["-n", "standby"])
    try:
        version = _runner.run(run_command, [path, "--version"], timeout=timeout)
        match = re.search(r"smartctl (\d+\.\d+)", version.stdout or "")
        fact["smartctl_version"] = match.group(1) if match else None
    except _runner.ToolError as exc:
        warnings.append("smartctl --version: %s" % exc)
    if devices is None:
        scan = smartctl.generic_call(["--scan-open"])[0]
        targets = parse_scan(scan)
    else:
        targets = []
        for entry in devices:
            name, sep, kind = entry.partition(":")
            targets.append((name, kind if sep else None))
    if mounts_text is None:
        try:
            with open("/proc/self/mounts") as handle:
                mounts_text = handle.read()
        except (IOError, OSError):
            mounts_text = ""
    critical = critical_path_disks(critical_paths, mounts_text, sysfs)
    for name, kind in targets:
        record, device_warnings = read_device(smartctl, name, kind, wake=wake)
        warnings.extend(device_warnings)
        if record.get("state") == "unsupported" and euid != 0 and (record.get("exit_status") or 0) & 0x02:
            record["reason"] = ("%s: smartctl could not open the drive as uid %d; smart_facts needs root "
                                "(become: true)" % (record.get("reason"), euid))
        fact["devices"].append(finish_record(record, rated_tbw, critical))
    warnings.extend(smartctl.errors)
    return fact, warnings
