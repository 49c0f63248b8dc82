# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Installed Debian packages with versions and held flags, from ``dpkg-query`` or the status file.

Two sources give the same list of package dicts
``{name, arch, version, upstream_version, status, want, installed, held}``:

* ``dpkg-query -W -f=<QUERY_FORMAT>`` on the live host (:func:`query_argv`, :func:`parse_query`);
* ``<root>/var/lib/dpkg/status`` for a mounted image or a built tree (:func:`parse_status_file`),
  which needs no command at all.

``held`` is dpkg's selection state ``hold`` (what ``apt-mark hold`` and ``dpkg --set-selections``
write). Used by the driver_stack and wsl areas and by package_pin. Pure functions, no Ansible
import; :func:`list_packages` runs the query through the collection's runner (``_common/runner.py``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner

QUERY_FORMAT = "${binary:Package}\\t${Version}\\t${Status}\\n"
# "want flag status", e.g. "hold ok installed", "install ok half-configured", "deinstall ok config-files"
_INSTALLED_STATES = ("installed", "half-configured", "unpacked", "triggers-awaited", "triggers-pending")
_EPOCH = re.compile(r"^\d+:")


class DpkgError(Exception):
    """dpkg could not be queried (tool missing, failed, or output not understood)."""


def query_argv(dpkg_query="dpkg-query"):
    """argv listing every package dpkg knows, one tab-separated line each."""
    return [dpkg_query, "-W", "-f=" + QUERY_FORMAT]


def upstream_version(version):
    """Debian version → upstream part: ``1:535.183.01-0ubuntu1`` → ``535.183.01``."""
    if not version:
        return None
    version = _EPOCH.sub("", version)
    if "-" in version:
        version = version.rsplit("-", 1)[0]
    return version


def make_package(name, version, status, arch=None):
    """One package dict from dpkg's name (``name[:arch]``), version and ``Status`` field."""
    if arch is None and ":" in name:
        name, arch = name.split(":", 1)
    words = (status or "").split()
    want = words[0] if words else None
    state = words[-1] if len(words) >= 3 else None
    return {
        "name": name,
        "arch": arch or None,
        "version": version or None,
        "upstream_version": upstream_version(version),
        "want": want,
        "status": state,
        "installed": state in _INSTALLED_STATES,
        "held": want == "hold",
    }


def parse_query(text):
    """``dpkg-query -W -f=QUERY_FORMAT`` output → (packages, warnings); bad lines are skipped."""
    packages = []
    warnings = []
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not fields[0]:
            warnings.append("dpkg-query line %d not understood, skipped: %r" % (number, line[:200]))
            continue
        packages.append(make_package(fields[0], fields[1], fields[2]))
    return packages, warnings


def parse_status_file(text):
    """``/var/lib/dpkg/status`` (RFC822 stanzas) → (packages, warnings)."""
    packages = []
    warnings = []
    for stanza in re.split(r"\n\s*\n", text or ""):
        fields = {}
        last = None
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t"):
                continue  # continuation of a multi-line field (Description, Conffiles)
            key, sep, value = line.partition(":")
            if not sep:
                continue
            last = key.strip()
            fields[last] = value.strip()
        if not fields:
            continue
        if "Package" not in fields or "Status" not in fields:
            warnings.append("dpkg status stanza without Package/Status, skipped: %r" % stanza[:120])
            continue
        arch = fields.get("Architecture")
        packages.append(make_package(fields["Package"], fields.get("Version"), fields["Status"], arch=arch))
    return packages, warnings


# patterns -> the match method of one regular expression for all of them (fnmatch.fnmatchcase's meaning)
_MATCHERS = {}


def _matcher(patterns):
    """One compiled expression per pattern list: a host's dpkg database has hundreds of packages and the
    driver_stack area selects from it about fifteen times per run (one fnmatchcase call per package and
    pattern was a tenth of the daily's module CPU on a host)."""
    key = tuple(patterns)
    match = _MATCHERS.get(key)
    if match is None:
        match = _MATCHERS[key] = re.compile("|".join(fnmatch.translate(p) for p in key)).match if key else (lambda name: None)
    return match


def select(packages, patterns, installed_only=True):
    """Packages whose name matches any shell pattern in ``patterns`` (``nvidia-*``), sorted by name."""
    match = _matcher(patterns)
    chosen = [package for package in packages
              if (package["installed"] or not installed_only) and match(package["name"])]
    return sorted(chosen, key=lambda p: (p["name"], p["arch"] or ""))


def by_name(packages):
    """``{name: package}`` (the first seen per name, e.g. amd64 before i386 when sorted)."""
    result = {}
    for package in packages:
        result.setdefault(package["name"], package)
    return result


def list_packages(run_command, dpkg_query=None, timeout=60):
    """Run dpkg-query on the live host; return (packages, warnings). Raises :class:`DpkgError`."""
    tool = dpkg_query or _runner.find_tool("dpkg-query")
    if not tool:
        raise DpkgError("dpkg-query not found (not a Debian/Ubuntu host?)")
    try:
        result = _runner.run(run_command, query_argv(tool), timeout=timeout)
    except _runner.ToolError as exc:
        raise DpkgError("%s: %s" % (" ".join(query_argv(tool)[:2]), exc))
    if result.rc != 0:
        raise DpkgError("%s -W: exit %s: %s" % (tool, result.rc, (result.stderr or "").strip()[:300]))
    return parse_query(result.stdout)


# The prerequisites role's question, "which of these packages are installed?", answered as its
# dpkg-query task always did: a package counts as installed when one of its lines reads "ii "
# (selection install, status installed, no error flag). "hi " (held), "rc " (removed, config files
# left), "iU " (unpacked) and names dpkg does not know (rc 1, "no packages found matching") do not.
STATUS_ABBREV_FORMAT = "${Package} ${db:Status-Abbrev}\\n"


def status_abbrev_argv(names, dpkg_query="dpkg-query"):
    """argv asking dpkg for the status abbreviation of each of ``names`` (a non-empty list)."""
    return [dpkg_query, "--show", "--showformat=" + STATUS_ABBREV_FORMAT] + list(names)


def parse_status_abbrev(text):
    """``dpkg-query --show --showformat=STATUS_ABBREV_FORMAT`` output → ``{name: [abbrev, ...]}``.

    One entry per line dpkg printed (a Multi-Arch package installed for two architectures has two);
    the abbreviation keeps its three characters, the trailing space of "no error" included."""
    found = {}
    for line in (text or "").splitlines():
        name, sep, abbrev = line.partition(" ")
        if name and sep:
            found.setdefault(name, []).append(abbrev)
    return found


def installed_names(statuses):
    """The names in ``{name: [abbrev, ...]}`` with an "ii " line, sorted."""
    return sorted(name for name, abbrevs in statuses.items() if "ii " in abbrevs)
