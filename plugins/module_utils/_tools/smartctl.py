# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""smartctl (smartmontools): its runner operations and pure parsers of its text and exit status.

Runner operations go through ``_common/runner.py`` (argv as a list, ``LC_ALL=C``, a timeout):
:func:`find`, :func:`version`, :func:`scan`, :func:`read_json`, and :func:`text_reader`, the
pySMART ``Smartctl`` whose process runs are routed through the runner. pySMART is imported here
and nowhere else (``HAS_PYSMART`` says whether it is installed). Pure functions take text or
numbers: :func:`decode_exit_status`, :func:`parse_version`, :func:`parse_scan`,
:func:`parse_json_text`, :func:`unsupported_reason`, :func:`open_failed_reason`, :func:`text_block_size`,
:func:`is_standby`, :func:`normalise_digit_groups`.
A drive record is built from a ``--json`` document or a pySMART ``Device`` in
``smartctl_record.py``. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner

try:
    from pySMART.device import Device as _PySmartDevice
    from pySMART.smartctl import Smartctl as _PySmartSmartctl
    HAS_PYSMART = True
    PYSMART_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised through the module on a host without pySMART
    _PySmartDevice = _PySmartSmartctl = None
    HAS_PYSMART = False
    PYSMART_IMPORT_ERROR = _exc

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

# Lines that say the drive has no SMART to read (a virtual disk, a RAID volume, a bridge without
# pass-through): nothing to check there.
_UNSUPPORTED_PATTERNS = (
    "Unable to detect device type",
    "SMART support is: Unavailable",
    "does not support SMART",
    "Unknown USB bridge",
    "SMART support is: Disabled",
)
# Lines that say smartctl could not open the drive: the drive may well have SMART; nobody could look.
_OPEN_FAILED_PATTERNS = (
    "Operation not permitted",
    "Permission denied",
    "Open failed",
    "failed:",
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


def parse_version(text):
    """``smartctl --version`` → ``7.3`` (None when the banner is not there)."""
    match = re.search(r"smartctl (\d+\.\d+)", text or "")
    return match.group(1) if match else None


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


def _before_7(version):
    try:
        return tuple(int(part) for part in str(version).split(".")[:2]) < (7, 0)
    except ValueError:
        return None


def parse_json_text(text, version=None):
    """smartctl --json output → (dict or None, error or None); ``version``: smartctl's, when known."""
    text = (text or "").strip()
    if not text.startswith("{"):
        if version is None or _before_7(version) is None:
            return None, "not JSON (smartctl before 7.0 has no --json, or its output is garbled)"
        if _before_7(version):
            return None, "not JSON (smartctl %s is older than 7.0, which added --json)" % version
        return None, "smartctl %s printed something that is not JSON: %r" % (version, text.splitlines()[0][:80])
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, "garbled JSON: %s" % exc


def _first_line(lines, patterns):
    for line in lines or []:
        text = " ".join(line.split())
        if any(pattern in text for pattern in patterns):
            return text
    return None


def unsupported_reason(lines):
    """The line of smartctl's output that says the drive has no SMART to read, or None."""
    return _first_line(lines, _UNSUPPORTED_PATTERNS)


def open_failed_reason(lines):
    """The line of smartctl's output that says it could not open the drive (``Permission denied``), or None."""
    return _first_line(lines, _OPEN_FAILED_PATTERNS)


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


# Thousands separators of some locales in smartctl's text (a capture or a wrapper outside LC_ALL=C):
# the right single quote U+2019 (de_CH), the no-break, narrow no-break and thin spaces, the ASCII
# apostrophe. pySMART 1.4 reads some of them and raises on, or misreads, the others (a thin space made
# a 2 TB namespace "2 bytes").
_DIGIT_GROUP = re.compile(u"(?<=\\d)[\u2019\u00a0\u202f\u2009'](?=\\d{3}(?!\\d))")


def normalise_digit_groups(text):
    """``2<U+2019>000<U+2019>398`` → ``2,000,398``: the locale-odd separators between digit groups become commas."""
    return _DIGIT_GROUP.sub(",", text or "")


def is_standby(lines):
    return any("STANDBY" in line and "mode" in line for line in lines or [])


# --------------------------------------------------------------------------- runner operations


def find(explicit=None):
    """The smartctl to run (``explicit`` when given and executable), or None."""
    return runner.find_tool("smartctl", explicit)


def version(run_command, path, timeout):
    """``smartctl --version`` → ``7.3`` or None; raises runner.ToolError when it cannot run."""
    return parse_version(runner.run(run_command, [path, "--version"], timeout=timeout).stdout)


def scan(run_command, path, timeout, errors):
    """``smartctl --scan-open`` → ``[(device, type)]``; a run that fails adds to ``errors``."""
    try:
        result = runner.run(run_command, [path, "--scan-open"], timeout=timeout)
    except runner.ToolError as exc:
        errors.append(str(exc))
        return []
    return parse_scan((result.stdout or "").splitlines())


def json_argv(path, name, smartctl_type=None, wake=False):
    """``smartctl --json [-n standby] -a [-d TYPE] NAME``."""
    argv = [path, "--json"] + ([] if wake else ["-n", "standby"]) + ["-a"]
    if smartctl_type:
        argv += ["-d", smartctl_type]
    return argv + [name]


def read_json(run_command, path, name, smartctl_type=None, wake=False, timeout=60, version=None):
    """Run ``smartctl --json -a`` on one drive → ``(document or None, rc, note or None)``.

    ``note`` says why there is no document (a smartctl without ``--json``, garbled output, a run
    that timed out); it is None when the answer is simply not JSON because the option is unknown.
    """
    try:
        result = runner.run(run_command, json_argv(path, name, smartctl_type, wake), timeout=timeout)
    except runner.ToolError as exc:
        return None, exc.rc, str(exc)
    doc, error = parse_json_text(result.stdout, version)
    if doc is None and ("UNRECOGNIZED OPTION" in (result.stdout or "") or not (result.stdout or "").strip()):
        error = None
    return doc, result.rc, (None if error is None else "smartctl --json: %s" % error)


def text_reader(run_command, path, timeout, wake=False):
    """A pySMART ``Smartctl`` whose runs go through the runner (None without pySMART).

    pySMART reads ``smartctl [-n standby] -d TYPE --all NAME`` (and ``-d test`` to find the type);
    ``reader.last(flag, name)`` gives the exit status and lines of the last such run, and
    ``reader.errors`` the runs that could not complete.
    """
    if not HAS_PYSMART:
        return None
    return _runner_smartctl_class()(run_command, path, timeout, [] if wake else ["-n", "standby"])


def pysmart_device(reader, name, smartctl_type):
    """pySMART's ``Device`` of one drive, read through ``reader``; raises what pySMART raises."""
    return _PySmartDevice(name, interface=smartctl_type, smartctl=reader)


def _runner_smartctl_class():
    class RunnerSmartctl(_PySmartSmartctl):
        """pySMART's Smartctl with its process runs routed through the runner (C locale, timeout)."""

        def __init__(self, run_command, path, timeout, options):
            super(RunnerSmartctl, self).__init__(smartctl_path=path, options=list(options))
            self._run_command = run_command
            self._timeout = timeout
            self.calls = []
            self.errors = []

        def _exec(self, cmd):
            try:
                result = runner.run(self._run_command, list(cmd), timeout=self._timeout)
            except runner.ToolError as exc:
                self.errors.append(str(exc))
                self.calls.append((list(cmd), exc.rc, ""))
                return [], exc.rc if exc.rc is not None else 2
            out = normalise_digit_groups(result.stdout)
            self.calls.append((list(cmd), result.rc, out))
            return out.splitlines(), result.rc

        def last(self, flag, device):
            for cmd, rc, out in reversed(self.calls):
                if flag in cmd and cmd and cmd[-1] == device:
                    return rc, (out or "").splitlines()
            return None, []

    return RunnerSmartctl
