# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the drives: smartctl (pySMART over its text, and ``--json``), the mounts and sysfs.

I/O only, through the smartctl tool (``_tools/smartctl.py``); records are combined and finished in
``parse.py``, verdicts are in ``checks.py``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import platform
import sys
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.host.parse import mount_for, parse_mounts
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.runner import ToolError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import smartctl
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.smartctl_record import (
    empty_device,
    from_pysmart,
)


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
    return [parse.disk_key(real)]


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


def read_device(reader, run_command, path, name, smartctl_type, timeout, wake=False, euid=0, version=None):
    """Read one drive (pySMART over the text, then ``--json -a``) → ``(record, warnings)``.

    ``reader`` None (pySMART is not installed): the drive is read from ``--json`` alone.
    """
    warnings = []
    record, rc_text, lines = empty_device(name), None, []
    if reader is not None:
        try:
            record = from_pysmart(smartctl.pysmart_device(reader, name, smartctl_type))
        except Exception as exc:  # pylint: disable=broad-except  # pySMART raises many types on garbled text
            warnings.append("%s: pySMART could not parse smartctl's output (%s: %s); its fields are null"
                            % (name, type(exc).__name__, exc))
            record = empty_device(name)
            record.update(state="garbled", reason="pySMART could not parse smartctl's text output (%s: %s)"
                          % (type(exc).__name__, exc))
        rc_text, lines = reader.last("--all", name)
        if rc_text is None:
            rc_text, lines = reader.last("test", name)
    doc, json_rc, note = smartctl.read_json(run_command, path, name, smartctl_type or record.get("smartctl_type"),
                                            wake=wake, timeout=timeout, version=version)
    if note:
        warnings.append("%s: %s" % (name, note))
    record, more = parse.combine(name, record, lines, rc_text, doc, json_rc, euid=euid, text_read=reader is not None)
    return record, warnings + more


def _read_mounts():
    try:
        with open("/proc/self/mounts") as handle:
            return handle.read()
    except (IOError, OSError):
        return ""


def collect(run_command, params, euid=None, mounts_text=None, sysfs="/sys", now=None, system=None):
    """``(data, warnings)``: every drive ``smartctl --scan-open`` lists (or ``params["devices"]``).

    ``devices`` entries are paths, each optionally ``PATH:TYPE`` (``/dev/sda:sat``,
    ``/dev/bus/0:megaraid,16``).
    """
    try:
        rated = parse.rated_tbw(params.get("rated_tbw"))
    except parse.RatedTbwError as exc:
        raise AreaError(str(exc))
    warnings = []
    if now is None:
        now = time.time() if params.get("now") is None else params["now"]
    euid = os.geteuid() if euid is None else euid
    timeout = params["timeout"]
    data = {"present": False, "reason": None, "smartctl_path": None, "smartctl_version": None,
            "collected_epoch_s": int(now), "as_root": euid == 0, "pysmart_present": smartctl.HAS_PYSMART, "devices": [],
            "_system": system or platform.system()}
    explicit = params.get("smartctl_path")
    path = smartctl.find(explicit)
    if not path:
        data["reason"] = ("smartctl %s: install smartmontools (ssd_wear_install: true, or apt-get install "
                          "smartmontools)" % ("not found at %s" % explicit if explicit else "not found"))
        return data, warnings
    data.update(present=True, smartctl_path=path)
    reader = smartctl.text_reader(run_command, path, timeout, wake=params["wake"])
    errors = reader.errors if reader is not None else []
    if reader is None:
        warnings.append("pySMART is not importable by %s (%s): drives are read from smartctl --json only"
                        % (sys.executable, smartctl.PYSMART_IMPORT_ERROR))
    try:
        data["smartctl_version"] = smartctl.version(run_command, path, timeout)
    except ToolError as exc:
        warnings.append("smartctl --version: %s" % exc)
    if params.get("devices") is None:
        targets = smartctl.scan(run_command, path, timeout, errors)
    else:
        targets = []
        for entry in params["devices"]:
            name, sep, kind = entry.partition(":")
            targets.append((name, kind if sep else None))
    critical = critical_path_disks(params.get("critical_paths"), _read_mounts() if mounts_text is None else mounts_text,
                                   sysfs)
    for name, kind in targets:
        record, device_warnings = read_device(reader, run_command, path, name, kind, timeout,
                                              wake=params["wake"], euid=euid, version=data["smartctl_version"])
        warnings.extend(device_warnings)
        data["devices"].append(parse.finish_record(record, rated, critical))
    warnings.extend(errors)
    return data, warnings
