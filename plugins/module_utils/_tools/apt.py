# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""apt and dpkg on a Debian/Ubuntu host: parsers of their output and files, their runner operations,
and the dpkg lock.

Parsers (``parse_*``) take text and return plain dicts; :class:`Apt` runs ``dpkg-query``,
``apt-mark``, ``apt-cache`` and ``apt-get -s`` through the one runner; :func:`wait_for_lock` waits
for the dpkg lock and names its holder. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import read_text
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import dpkg as _dpkg

LOCK_FILES = ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock")
DPKG_FORMAT = "${Package}\\t${Version}\\t${Status}\\n"


class AptError(Exception):
    """apt/dpkg could not do what was asked; ``str()`` is the message for ``fail_json``."""

    def __init__(self, message, cmd=None, rc=None, stdout="", stderr="", results=None):
        super(AptError, self).__init__(message)
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.results = results


# ---------------------------------------------------------------- parsers (pure)

def parse_showhold(text):
    """``apt-mark showhold`` output → sorted list of held package names (``:arch`` kept)."""
    return sorted(set(line.strip() for line in (text or "").splitlines() if line.strip()))


def parse_dpkg_query(text):
    """``dpkg-query -W -f '${Package}\\t${Version}\\t${Status}\\n'`` → ``{name: {version, selection, state}}``.

    Lines are read by the collection's shared dpkg parser (``_dpkg``). Packages whose files are on
    disk count (``installed``, and ``half-configured``/``unpacked``..., which apt sees too); packages
    that are only known (``config-files``, ``not-installed``) are left out. The first architecture
    of a multi-arch package wins.
    """
    packages = {}
    for package in _dpkg.parse_query(text)[0]:
        if package["status"] in (None, "not-installed", "config-files"):
            continue
        packages.setdefault(package["name"], {"version": package["version"], "selection": package["want"],
                                              "state": package["status"]})
    return packages


def parse_policy(text):
    """``apt-cache policy NAME...`` → ``{name: {installed, candidate, versions}}`` (``None`` for ``(none)``).

    ``versions`` is the version table in apt's order, newest first: ``[{version, priority,
    installed}]`` (``priority`` the version's pin priority, ``installed`` for the ``***`` line). The
    candidate alone does not say whether something newer exists: an APT preferences pin
    (``Pin-Priority`` over 1000) makes the pinned version the candidate, and the newer one is then
    only in the table.
    """
    result = {}
    current = None
    in_table = False
    for line in (text or "").splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            current = line.rstrip()[:-1].strip()
            result[current] = {"installed": None, "candidate": None, "versions": []}
            in_table = False
            continue
        if current is None:
            continue
        if in_table:
            # "     VERSION PRIORITY" or " *** VERSION PRIORITY"; the indented source lines under it have
            # a number first ("500 file:/srv/repo ./ Packages", "100 /var/lib/dpkg/status").
            match = re.match(r"^ (\*\*\*| {3}) (\S+) (-?\d+)\s*$", line)
            if match:
                result[current]["versions"].append({"version": match.group(2), "priority": int(match.group(3)),
                                                    "installed": match.group(1) == "***"})
            continue
        key, sep, value = line.strip().partition(":")
        if key == "Version table" and sep:
            in_table = True
            continue
        if not sep or key not in ("Installed", "Candidate"):
            continue
        value = value.strip()
        result[current][key.lower()] = None if value in ("(none)", "") else value
    return result


def newer_version(entry):
    """The newest version apt could install that is newer than the installed one, or ``None``.

    Read from the version table of :func:`parse_policy` (apt sorts it newest first, so every version
    above the ``***`` line is newer than the installed one), not from the candidate: a preferences
    pin keeps the candidate at the pinned version. Versions with a negative priority are never
    installed by apt and do not count. ``None`` as well when nothing is installed, or the installed
    version is not in the table (nothing to compare with).
    """
    versions = (entry or {}).get("versions") or []
    installed = [index for index, version in enumerate(versions) if version["installed"]]
    if not installed:
        return None
    for version in versions[:installed[0]]:
        if version["priority"] >= 0:
            return version["version"]
    return None


def parse_simulation(text):
    """``apt-get -s upgrade|dist-upgrade`` output → ``{name: {from, to, action}}``.

    Reads the ``Inst``/``Remv`` lines: ``Inst nvidia-driver-535 [535.1-1] (535.2-1 repo [amd64])``
    is an upgrade from 535.1-1 to 535.2-1; ``Inst foo (1.0 repo)`` a new install; ``Remv foo [1.0]``
    a removal. Also returns the packages apt says it keeps back under ``__kept_back__``.
    """
    moves = {}
    kept = []
    in_kept = False
    for line in (text or "").splitlines():
        match = re.match(r"^(Inst|Remv)\s+(\S+)(?:\s+\[([^\]]+)\])?(?:\s+\((\S+))?", line)
        if match:
            in_kept = False
            verb, name, old, new = match.groups()
            if verb == "Remv":
                moves[name] = {"from": old, "to": None, "action": "remove"}
            else:
                moves[name] = {"from": old, "to": new, "action": "upgrade" if old else "install"}
            continue
        if line.startswith("The following packages have been kept back") or line.startswith(
                "The following held packages will be changed"):
            in_kept = line.startswith("The following packages have been kept back")
            continue
        if in_kept and line.startswith(" "):
            kept.extend(line.split())
        elif not line.startswith(" "):
            in_kept = False
    if kept:
        moves["__kept_back__"] = sorted(set(kept))
    return moves


def parse_preferences(text):
    """An APT preferences file → ``{package: version}`` for its ``Pin: version X`` stanzas."""
    pins = {}
    for stanza in re.split(r"\n\s*\n", text or ""):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, _sep, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        pin = fields.get("pin", "")
        if fields.get("package") and pin.startswith("version "):
            for name in fields["package"].split():
                pins[name] = pin[len("version "):].strip()
    return pins


def parse_proc_locks(text, inode):
    """``/proc/locks`` → PIDs holding a lock on ``inode`` (int); PID 0 (not visible here) left out."""
    pids = []
    for line in (text or "").splitlines():
        fields = line.split()
        if "->" in fields:  # a waiter, not a holder
            continue
        for index, field in enumerate(fields):
            if field.count(":") == 2 and index > 0:
                try:
                    file_inode = int(field.split(":")[2])
                    pid = int(fields[index - 1])
                except ValueError:
                    break
                if file_inode == inode and pid > 0 and pid not in pids:
                    pids.append(pid)
                break
    return pids


# ---------------------------------------------------------------- the dpkg lock

def lock_holders(lock_files=LOCK_FILES, proc_locks="/proc/locks"):
    """``{lock file: [pids]}`` for the dpkg lock files someone holds right now (fcntl test + /proc/locks)."""
    import fcntl  # POSIX-only module; imported here so the parsers load anywhere

    held = {}
    for path in lock_files:
        if not os.path.exists(path):
            continue
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except (IOError, OSError):
                inode = os.fstat(fd).st_ino
                try:
                    held[path] = parse_proc_locks(read_text(proc_locks, missing=""), inode)
                except (IOError, OSError):
                    held[path] = []
            else:
                fcntl.lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    return held


def lock_message(held, waited):
    """A message naming the dpkg lock and its holder."""
    parts = []
    for path, pids in sorted(held.items()):
        if pids:
            parts.append("%s is held by PID %s" % (path, ", ".join(str(p) for p in pids)))
        else:
            parts.append("%s is held by a process not visible here" % path)
    return ("waiting for the dpkg lock: %s after %s s: another apt/dpkg run (unattended-upgrades, apt-get) "
            "is active; let it finish or raise lock_timeout" % ("; ".join(parts), waited))


def wait_for_lock(lock_timeout, lock_files=LOCK_FILES, sleep=time.sleep, clock=time.time):
    """Wait until no dpkg lock is held, up to ``lock_timeout`` s; raise :class:`AptError` naming the holder."""
    start = clock()
    while True:
        held = lock_holders(lock_files)
        if not held:
            return round(clock() - start, 1)
        waited = clock() - start
        if waited >= lock_timeout:
            raise AptError(lock_message(held, int(round(waited))))
        sleep(min(1.0, max(0.1, lock_timeout - waited)))


# ---------------------------------------------------------------- the tools (runner operations)

class Apt:
    """apt/dpkg on this host through the runner (``run_command`` from AnsibleModule); ``tools`` maps a
    tool name (``apt-mark``) to its path."""

    def __init__(self, run_command, tools, timeout=120):
        self.run_command = run_command
        self.tools = tools
        self.timeout = timeout

    def _run(self, what, argv, ok=(0,)):
        try:
            result = runner.run(self.run_command, argv, timeout=self.timeout)
        except runner.ToolError as exc:
            raise AptError("%s: %s: %s" % (what, " ".join(argv), exc), cmd=exc.cmd, rc=exc.rc,
                           stdout=exc.stdout, stderr=exc.stderr)
        if result.rc not in ok:
            raise AptError("%s: %s: %s" % (what, " ".join(result.cmd), (result.stderr or result.stdout).strip()),
                           cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr)
        return result

    def installed(self):
        out = self._run("listing installed packages", [self.tools["dpkg-query"], "-W", "-f", DPKG_FORMAT]).stdout
        return parse_dpkg_query(out)

    def holds(self):
        return parse_showhold(self._run("reading holds", [self.tools["apt-mark"], "showhold"]).stdout)

    def policy(self, names):
        if not names:
            return {}
        return parse_policy(self._run("reading candidates", [self.tools["apt-cache"], "policy"] + sorted(names)).stdout)

    def mark(self, action, names):
        return self._run("apt-mark %s" % action, [self.tools["apt-mark"], action] + sorted(names))

    def simulate(self, command):
        argv = [self.tools["apt-get"], "-s", "-o", "Debug::NoLocking=1", command]
        return parse_simulation(self._run("simulating apt-get %s" % command, argv).stdout)


PIN_FILE_HEADER = "gpufleet.maintenance.package_pin manages this file: edits are overwritten on the next run."
PIN_PRIORITY = 1001


# ---------------------------------------------------------------- the pin files package_pin writes (pure)

def render_preferences(pins):
    """``{package: version}`` → the preferences file text (``""`` when there are no pins)."""
    if not pins:
        return ""
    stanzas = ["# %s" % PIN_FILE_HEADER]
    for name in sorted(pins):
        stanzas.append("Package: %s\nPin: version %s\nPin-Priority: %d" % (name, pins[name], PIN_PRIORITY))
    return "\n\n".join(stanzas) + "\n"


def blacklist_pattern(name):
    """Package name → the anchored regular expression unattended-upgrades matches (no backslashes)."""
    return "^" + re.sub(r"([.+])", r"[\1]", name) + "$"


def parse_blacklist(text):
    """Our apt.conf.d blacklist file → sorted package names (patterns we wrote are turned back)."""
    names = set()
    block = re.search(r"Unattended-Upgrade::Package-Blacklist\s*\{(.*?)\}\s*;", text or "", re.S)
    if not block:
        return []
    for entry in re.findall(r'"([^"]*)"', block.group(1)):
        name = entry
        if name.startswith("^"):
            name = name[1:]
        if name.endswith("$"):
            name = name[:-1]
        names.add(re.sub(r"\[([.+])\]", r"\1", name))
    return sorted(names)


def render_blacklist(names):
    """Package names → the apt.conf.d text adding them to ``Unattended-Upgrade::Package-Blacklist``."""
    if not names:
        return ""
    lines = ["// %s" % PIN_FILE_HEADER, "Unattended-Upgrade::Package-Blacklist {"]
    lines.extend('    "%s";' % blacklist_pattern(name) for name in sorted(set(names)))
    lines.append("};")
    return "\n".join(lines) + "\n"
