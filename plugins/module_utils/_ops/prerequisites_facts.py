# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``prerequisites_facts``: everything the prerequisites role reads on a host, in one call.

The distribution (``_tools/os_release.py``, or Ansible's own collector where that file cannot say
what ``setup`` would), the Python running the module, the effective uid, the dpkg status of the
wanted packages (``_tools/dpkg.py``, the role's former ``dpkg-query`` task) and the virtual
environment's stamp. Read-only; never fails for a missing or unreadable stamp. Standard library only
and Python 3.6 syntax: it runs with the distribution's python3, before the virtual environment
exists.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import dpkg as _dpkg
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import os_release as _os_release

SCHEMA_VERSION = 1
FACT = "gpufleet_platform"
DISTRIBUTION_KEYS = ("distribution", "distribution_version", "distribution_major_version", "distribution_release",
                     "os_family")
# A stamp is a few hundred bytes; anything far larger is not one.
_STAMP_MAX_BYTES = 1024 * 1024

ARGUMENT_SPEC = {
    "packages": {"type": "list", "elements": "str", "default": []},
    "venv_stamp": {"type": "path"},
    "timeout": {"type": "int", "default": 60},
}


class PrerequisitesError(Exception):
    """The host could not be read (dpkg-query failed); the module fails with this message."""

    def __init__(self, message, cmd=None, rc=None, stderr=""):
        super(PrerequisitesError, self).__init__(message)
        self.cmd = cmd
        self.rc = rc
        self.stderr = stderr


def _read(path, limit=None):
    with open(path, "rb") as handle:
        data = handle.read(limit) if limit else handle.read()
    return data.decode("utf-8", "replace")


def read_distribution(ansible_collector, etc=_os_release.ETC):
    """``(facts, source)``: from /etc/os-release when that decides what ``setup`` says, else from
    ``ansible_collector()`` (Ansible's DistributionFactCollector, the code ``setup`` runs)."""
    try:
        others = _os_release.release_files_ansible_reads(
            name for name in os.listdir(etc) if os.path.isfile(os.path.join(etc, name)))
        os_release = _read(os.path.join(etc, "os-release")) if not others else None
    except (IOError, OSError):
        os_release = None
    facts = None
    if os_release is not None:
        try:
            debian_version = _read(os.path.join(etc, "debian_version"))
        except (IOError, OSError):
            debian_version = None
        facts = _os_release.distribution_facts(os_release, debian_version)
    if facts is not None:
        return facts, "os-release"
    collected = ansible_collector() or {}
    return dict((key, collected.get(key)) for key in DISTRIBUTION_KEYS), "ansible"


def read_packages(run_command, names, timeout):
    """``{present, reason, status, installed, missing}`` for ``names`` (the role's dpkg-query task)."""
    names = list(names)
    result = {"present": True, "reason": None, "status": {}, "installed": [], "missing": list(names)}
    if not names:
        return result
    tool = _runner.find_tool("dpkg-query")
    if not tool:
        result.update(present=False, reason="dpkg-query not found (not a Debian/Ubuntu host?)")
        return result
    argv = _dpkg.status_abbrev_argv(names, tool)
    try:
        ran = _runner.run(run_command, argv, timeout=timeout)
    except _runner.ToolError as exc:
        raise PrerequisitesError("reading which distribution packages are installed: %s" % exc, cmd=argv,
                                 rc=exc.rc, stderr=exc.stderr)
    if ran.rc not in (0, 1):   # 1: some names are unknown to dpkg (not installed)
        raise PrerequisitesError("reading which distribution packages are installed: %s: exit %s: %s"
                                 % (" ".join(argv[:2]), ran.rc, (ran.stderr or "").strip()[:600]),
                                 cmd=argv, rc=ran.rc, stderr=ran.stderr)
    statuses = _dpkg.parse_status_abbrev(ran.stdout)
    installed = _dpkg.installed_names(statuses)
    result.update(status=dict((name, statuses.get(name)) for name in names), installed=installed,
                  missing=[name for name in names if name not in installed])
    return result


def read_stamp(path):
    """``(stamp, reason)``: the stamp's JSON object, or ``None`` and why (missing, unreadable, not JSON)."""
    if not path:
        return None, "no venv_stamp given"
    try:
        text = _read(path, _STAMP_MAX_BYTES + 1)
    except (IOError, OSError) as exc:
        return None, "%s: %s" % (path, exc.strerror or exc)
    if len(text) > _STAMP_MAX_BYTES:
        return None, "%s: larger than %d bytes, not a stamp" % (path, _STAMP_MAX_BYTES)
    try:
        stamp = json.loads(text)
    except ValueError as exc:
        return None, "%s: not JSON (%s)" % (path, exc)
    if not isinstance(stamp, dict):
        return None, "%s: not a JSON object" % path
    return stamp, None


def gather(run_command, params, ansible_collector):
    """The fact: distribution, Python, effective uid, packages and stamp."""
    distribution, source = read_distribution(ansible_collector)
    stamp, stamp_reason = read_stamp(params.get("venv_stamp"))
    fact = {"schema_version": SCHEMA_VERSION}
    fact.update(distribution)
    fact.update({
        "distribution_source": source,
        "python": {"version": "%d.%d" % sys.version_info[:2], "version_full": "%d.%d.%d" % sys.version_info[:3],
                   "executable": sys.executable},
        "effective_user_id": os.geteuid(),
        "packages": read_packages(run_command, params.get("packages") or [], params.get("timeout") or 60),
        "venv_stamp": stamp,
        "venv_stamp_reason": stamp_reason,
    })
    return fact
