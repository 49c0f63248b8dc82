# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One normalised record per drive, from a ``smartctl --json -a`` document or a pySMART ``Device``.

The record's keys are :data:`FIELDS` (always present, None when not reported). What the vendor
attributes mean is read here: wear from the life attributes (:func:`ata_wear`), data written from
named-unit or LBA counters (:func:`ata_data_written`) and NVMe data units
(:func:`nvme_data_written`), self-test outcomes (:func:`self_test_passed`). ``from_json`` and
``from_pysmart`` return records with two private keys, ``_tests`` (the self-test log) and
``_ata_attributes``, which the smart area removes when it finishes a record. Pure functions, no
Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

NVME_DATA_UNIT_BYTES = 512000  # NVMe "Data Units" are thousands of 512-byte units, whatever the LBA size
GIB = 1024 ** 3
MIB = 1024 ** 2

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
    "power_on_hours", "power_cycles", "unsafe_shutdowns", "critical_warning", "media_errors", "error_log_entries",
    "percentage_used", "available_spare_pct", "available_spare_threshold_pct", "data_written_bytes",
    "data_written_reason", "wear_pct_used", "wear_source", "reallocated_sectors", "pending_sectors",
    "crc_errors", "nand_type", "nand_source", "rated_tbw", "tbw_used_pct", "write_rate_bytes_per_day",
    "projected_days_to_rated_tbw", "rate_reason", "backs_paths", "self_tests", "self_test_supported", "exit_status",
    "exit_status_words", "messages",
)


def empty_device(name):
    record = dict((key, None) for key in FIELDS)
    record.update(name=name, backs_paths=[], messages=[], self_tests={"short": None, "long": None, "count": 0},
                  nand_type="unknown")
    return record


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


def to_int(value):
    """An int from a number or a string like ``1,234`` or ``43 Celsius``; None when there is none."""
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


def ata_wear(attributes):
    """ATA attributes ``{name: {value, raw}}`` → ``(wear_pct_used, source)`` from the vendor's life attribute."""
    for name in ATA_WEAR_ATTRIBUTES:
        attr = attributes.get(name)
        if attr and attr.get("value") is not None:
            value = to_int(attr["value"])
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
        if attr and to_int(attr.get("raw")) is not None:
            return to_int(attr["raw"]) * unit, None
    for name in ATA_LBA_WRITES:
        attr = attributes.get(name)
        if attr and to_int(attr.get("raw")) is not None:
            if not logical_block_size:
                return None, "%s is reported but the logical block size is not; data written unknown" % name
            return to_int(attr["raw"]) * logical_block_size, None
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
        attrs[attr.name] = {"id": attr.num, "value": to_int(value), "raw": attr.raw,
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
            critical_warning=if_attrs.criticalWarning,
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
        # pySMART makes NVMe attributes for any NVMe drive; only a health log read means SMART was read.
        read = [if_attrs.percentageUsed, if_attrs.availableSpare, if_attrs.powerOnHours, if_attrs.criticalWarning,
                record["health_passed"]]
        record["smart_supported"] = True if any(value is not None for value in read) else None
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
        record["reallocated_sectors"] = to_int(defects)
    else:
        record["smart_supported"] = bool(device.smart_capable or device.smart_enabled) or None
    record["_tests"] = tests
    return record


def _ata_counters(attrs, block, rotational):
    def raw(*names):
        for name in names:
            if name in attrs:
                return to_int(attrs[name].get("raw"))
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
    # Whether the drive can run self-tests at all (Apple's NVMe controllers cannot): NVMe's optional admin
    # commands, ATA's SMART capabilities. None where the document does not say.
    admin = doc.get("nvme_optional_admin_commands")
    capabilities = (doc.get("ata_smart_data") or {}).get("capabilities")
    if isinstance(admin, dict) and isinstance(admin.get("self_test"), bool):
        record["self_test_supported"] = admin["self_test"]
    elif isinstance(capabilities, dict) and isinstance(capabilities.get("self_tests_supported"), bool):
        record["self_test_supported"] = capabilities["self_tests_supported"]
    tests = []
    if isinstance(nvme, dict):
        record.update(
            rotational=False, smart_supported=True,
            unsafe_shutdowns=nvme.get("unsafe_shutdowns"), media_errors=nvme.get("media_errors"),
            critical_warning=nvme.get("critical_warning"),
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
