# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Package holds and pins through apt/dpkg: parsers, renderers, the pin plan and its apply step.

Pure functions (``parse_*``, ``render_*``, ``build_plan``) take text and dicts and return plain
dicts; :class:`Apt` runs ``dpkg-query``, ``apt-mark``, ``apt-cache`` and ``apt-get -s`` through
``_runner.run``. ``pin()`` is what the ``package_pin`` module calls: gather, plan, then apply in
one step. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import os
import re
import tempfile
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import make_check, worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import dpkg as _dpkg

PREFERENCES_PATH = "/etc/apt/preferences.d/gpufleet-package-pin.pref"
BLACKLIST_PATH = "/etc/apt/apt.conf.d/51gpufleet-package-pin"
LOCK_FILES = ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock")
PIN_PRIORITY = 1001
REQUIRED_TOOLS = ("dpkg-query", "apt-mark", "apt-cache")
_HEADER = "gpufleet.maintenance.package_pin manages this file: edits are overwritten on the next run."
_GLOB_CHARS = "*?["
_DPKG_FORMAT = "${Package}\\t${Version}\\t${Status}\\n"


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

def is_glob(text):
    """True when ``text`` holds shell glob characters (``*``, ``?``, ``[``)."""
    return any(char in (text or "") for char in _GLOB_CHARS)


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
    """``apt-cache policy NAME...`` → ``{name: {installed, candidate}}`` (``None`` for ``(none)``)."""
    result = {}
    current = None
    for line in (text or "").splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            current = line.rstrip()[:-1].strip()
            result[current] = {"installed": None, "candidate": None}
            continue
        if current is None:
            continue
        key, sep, value = line.strip().partition(":")
        if not sep or key not in ("Installed", "Candidate"):
            continue
        value = value.strip()
        result[current][key.lower()] = None if value in ("(none)", "") else value
    return result


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


# ---------------------------------------------------------------- renderers (pure)

def render_preferences(pins):
    """``{package: version}`` → the preferences file text (``""`` when there are no pins)."""
    if not pins:
        return ""
    stanzas = ["# %s" % _HEADER]
    for name in sorted(pins):
        stanzas.append("Package: %s\nPin: version %s\nPin-Priority: %d" % (name, pins[name], PIN_PRIORITY))
    return "\n\n".join(stanzas) + "\n"


def render_blacklist(names):
    """Package names → the apt.conf.d text adding them to ``Unattended-Upgrade::Package-Blacklist``."""
    if not names:
        return ""
    lines = ["// %s" % _HEADER, "Unattended-Upgrade::Package-Blacklist {"]
    lines.extend('    "%s";' % blacklist_pattern(name) for name in sorted(set(names)))
    lines.append("};")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- decisions (pure)

def version_matches(installed, wanted):
    """``installed`` matches ``wanted`` (exact, or a glob such as ``535.183.*``)."""
    if installed is None or wanted is None:
        return False
    return installed == wanted or (is_glob(wanted) and fnmatch.fnmatchcase(installed, wanted))


def expand_requests(requests, installed, recorded=()):
    """``[{name, version}]`` (names may be globs) → ``(targets, unmatched)``.

    ``targets`` is an ordered ``{name: {pattern, version}}``; an exact name wins over a glob that
    also matches it; globs match installed packages (and, for a release, names recorded in our
    files). ``unmatched`` lists exact names that are not installed.
    """
    targets = {}
    unmatched = []
    exact = [r for r in requests if not is_glob(r["name"])]
    globs = [r for r in requests if is_glob(r["name"])]
    for request in exact:
        name = request["name"]
        if name not in installed and name not in recorded:
            unmatched.append(name)
            continue
        targets[name] = {"pattern": name, "version": request.get("version")}
    universe = sorted(set(installed) | set(recorded))
    for request in globs:
        for name in universe:
            if name not in targets and fnmatch.fnmatchcase(name, request["name"]):
                targets[name] = {"pattern": request["name"], "version": request.get("version")}
    return targets, unmatched


def build_plan(requests, state, mode, installed, holds, policy, prefs_text, blacklist_text,
               apt_preferences=True, unattended_upgrades_blacklist=True, missing_ok=False,
               preferences_path=PREFERENCES_PATH, blacklist_path=BLACKLIST_PATH):
    """Compare the wanted pins with the host's state; return the plan (no side effects).

    Returns ``{packages, hold, unhold, files, errors, drift, checks, status}``: ``hold``/``unhold``
    are the names apt-mark must change, ``files`` maps a path to ``{before, after}`` for files
    whose content must change (``after`` ``""`` removes the file), ``errors`` are per-package
    problems that stop the run (missing packages; version drift in enforce mode).
    """
    holds = set(holds)
    current_pins = parse_preferences(prefs_text)
    current_black = parse_blacklist(blacklist_text)
    recorded = set(current_pins) | set(current_black)
    targets, unmatched = expand_requests(requests, installed, recorded if state == "released" else ())
    errors = []
    checks = []
    for name in unmatched:
        if not missing_ok:
            errors.append("%s is not installed: install it first, fix the name, or set missing_ok" % name)
    new_pins = dict(current_pins)
    new_black = set(current_black)
    packages = []
    hold, unhold = [], []
    for name, target in targets.items():
        info = installed.get(name) or {}
        installed_version = info.get("version")
        held_before = name in holds
        entry = {
            "name": name,
            "pattern": target["pattern"],
            "installed_version": installed_version,
            "candidate_version": (policy.get(name) or {}).get("candidate"),
            "held_before": held_before,
            "drift": False,
            "drift_reason": None,
        }
        if state == "released":
            entry["pinned_version"] = None
            entry["held_after"] = False if mode == "enforce" else held_before
            if held_before:
                unhold.append(name)
            new_pins.pop(name, None)
            new_black.discard(name)
        else:
            pinned = target["version"] or current_pins.get(name) or installed_version
            entry["pinned_version"] = pinned
            reasons = []
            if installed_version is None:
                reasons.append("%s is not installed (pinned at %s)" % (name, pinned))
            elif not version_matches(installed_version, pinned):
                reasons.append("%s is installed at %s but pinned at %s: it moved behind the pin; install the pinned "
                               "version (apt-get install %s=%s) or bump it on purpose with a new version"
                               % (name, installed_version, pinned, name, pinned))
            if not held_before and name in recorded:
                reasons.append("%s lost its hold (it is in the pin files but not held): re-run in enforce mode" % name)
            if reasons:
                entry["drift"] = True
                entry["drift_reason"] = "; ".join(reasons)
            version_drift = bool(reasons) and (installed_version is None or not version_matches(installed_version, pinned))
            if version_drift:
                checks.append(make_check("package_pin_drift", "crit", installed_version, pinned, reasons[0], package=name))
                if mode == "enforce":
                    errors.append(reasons[0])
            elif entry["drift"]:
                checks.append(make_check("package_pin_hold", "crit", "not held", "held", reasons[-1], package=name))
            elif not held_before and mode == "audit":
                checks.append(make_check("package_pin_hold", "warn", "not held", "held",
                                         "%s is not held: run package_pin (or the driver_pin role) in enforce mode" % name,
                                         package=name))
            if not held_before:
                hold.append(name)
            entry["held_after"] = True if mode == "enforce" else held_before
            if apt_preferences:
                new_pins[name] = pinned
            if unattended_upgrades_blacklist:
                new_black.add(name)
        packages.append(entry)
    files = {}
    prefs_after = render_preferences(new_pins)
    black_after = render_blacklist(sorted(new_black))
    if (prefs_text or "") != prefs_after and (new_pins != current_pins or apt_preferences):
        files[preferences_path] = {"before": prefs_text or "", "after": prefs_after}
    if (blacklist_text or "") != black_after and (new_black != set(current_black) or unattended_upgrades_blacklist):
        files[blacklist_path] = {"before": blacklist_text or "", "after": black_after}
    if mode == "audit":
        apply_hold, apply_unhold, apply_files = [], [], {}
    else:
        apply_hold, apply_unhold, apply_files = hold, unhold, files
    for entry in packages:
        entry["changed"] = entry["name"] in apply_hold or entry["name"] in apply_unhold
    return {
        "packages": packages,
        "hold": apply_hold,
        "unhold": apply_unhold,
        "files": apply_files,
        "pending": {"hold": hold, "unhold": unhold, "files": sorted(files)},
        "errors": errors,
        "drift": [p["name"] for p in packages if p["drift"]],
        "checks": checks,
        "status": worst_status(checks),
    }


def plan_diff(plan):
    """The plan → Ansible's ``diff`` list: hold states, then one entry per file written."""
    diffs = []
    if plan["hold"] or plan["unhold"]:
        before = []
        after = []
        for entry in plan["packages"]:
            if entry["name"] in plan["hold"] or entry["name"] in plan["unhold"]:
                before.append("%s: %s" % (entry["name"], "held" if entry["held_before"] else "not held"))
                after.append("%s: %s" % (entry["name"], "held" if entry["held_after"] else "not held"))
        diffs.append({"before_header": "apt-mark showhold", "after_header": "apt-mark showhold",
                      "before": "\n".join(before) + "\n", "after": "\n".join(after) + "\n"})
    for path in sorted(plan["files"]):
        change = plan["files"][path]
        diffs.append({"before_header": path, "after_header": path if change["after"] else "%s (removed)" % path,
                      "before": change["before"], "after": change["after"]})
    return diffs


def missing_tools_message(found):
    """``{tool: path or None}`` → an error message naming the missing ones, or None."""
    missing = [name for name in REQUIRED_TOOLS if not found.get(name)]
    if not missing:
        return None
    return ("package_pin needs apt and dpkg (a Debian or Ubuntu host): %s not found; this host cannot be pinned "
            "with apt-mark" % ", ".join(missing))


# ---------------------------------------------------------------- the host (runs tools)

def read_text(path):
    """A file's text, or ``""`` when it does not exist."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if getattr(exc, "errno", None) == 2:
            return ""
        raise AptError("reading %s: %s" % (path, exc))


def write_text(path, text):
    """Write ``text`` atomically (mode 0644); ``""`` removes the file."""
    if not text:
        if os.path.exists(path):
            os.unlink(path)
        return
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    handle, tmp = tempfile.mkstemp(prefix=".gpufleet-", dir=directory)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except (IOError, OSError):
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def lock_holders(lock_files=LOCK_FILES, proc_locks="/proc/locks"):
    """``{lock file: [pids]}`` for the dpkg lock files someone holds right now (fcntl test + /proc/locks)."""
    import fcntl  # Debian-only module; imported here so the parsers load anywhere

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
                held[path] = parse_proc_locks(read_text(proc_locks), inode)
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


class Apt:
    """apt/dpkg on this host through ``_runner.run`` (``run_command`` from AnsibleModule)."""

    def __init__(self, run_command, tools, timeout=120):
        self.run_command = run_command
        self.tools = tools
        self.timeout = timeout

    def _run(self, what, argv, ok=(0,)):
        try:
            result = _runner.run(self.run_command, argv, timeout=self.timeout)
        except _runner.ToolError as exc:
            raise AptError("%s: %s: %s" % (what, " ".join(argv), exc), cmd=exc.cmd, rc=exc.rc,
                           stdout=exc.stdout, stderr=exc.stderr)
        if result.rc not in ok:
            raise AptError("%s: %s: %s" % (what, " ".join(result.cmd), (result.stderr or result.stdout).strip()),
                           cmd=result.cmd, rc=result.rc, stdout=result.stdout, stderr=result.stderr)
        return result

    def installed(self):
        out = self._run("listing installed packages", [self.tools["dpkg-query"], "-W", "-f", _DPKG_FORMAT]).stdout
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


def pin(apt, params, check_mode=False, lock_files=LOCK_FILES):
    """Gather, plan and (unless check mode or audit) apply; return the module result dict.

    Raises :class:`AptError` for faults (missing packages, enforce-mode drift, tool failures).
    """
    installed = apt.installed()
    holds = apt.holds()
    prefs_path = params.get("preferences_path") or PREFERENCES_PATH
    black_path = params.get("blacklist_path") or BLACKLIST_PATH
    prefs_text = read_text(prefs_path)
    black_text = read_text(black_path)
    requests = [dict(name=name, version=None) for name in params.get("names") or []] + list(params.get("packages") or [])
    targets, _unmatched = expand_requests(requests, installed,
                                          set(parse_preferences(prefs_text)) | set(parse_blacklist(black_text)))
    policy = apt.policy([n for n in targets if n in installed])
    plan = build_plan(requests, params["state"], params["mode"], installed, holds, policy, prefs_text, black_text,
                      apt_preferences=params["apt_preferences"],
                      unattended_upgrades_blacklist=params["unattended_upgrades_blacklist"],
                      missing_ok=params["missing_ok"], preferences_path=prefs_path, blacklist_path=black_path)
    result = {
        "changed": bool(plan["hold"] or plan["unhold"] or plan["files"]),
        "packages": plan["packages"],
        "drift": plan["drift"],
        "plan": {"hold": plan["hold"], "unhold": plan["unhold"], "files": sorted(plan["files"])},
        "pending": plan["pending"],
        "checks": plan["checks"],
        "status": plan["status"],
        "diff": plan_diff(plan),
    }
    if plan["errors"]:
        raise AptError("package_pin (%s, %s mode): %s" % (params["state"], params["mode"], "; ".join(plan["errors"])),
                       results=dict(result, changed=False))
    if result["changed"] and not check_mode:
        result["lock_waited_s"] = wait_for_lock(params["lock_timeout"], lock_files)
        if plan["unhold"]:
            apt.mark("unhold", plan["unhold"])
        if plan["hold"]:
            apt.mark("hold", plan["hold"])
        for path in sorted(plan["files"]):
            try:
                write_text(path, plan["files"][path]["after"])
            except (IOError, OSError) as exc:
                raise AptError("writing %s: %s" % (path, exc), results=result)
        after = set(apt.holds())
        for entry in result["packages"]:
            entry["held_after"] = entry["name"] in after
        wrong = [e["name"] for e in result["packages"] if e["name"] in plan["hold"] and not e["held_after"]]
        if wrong:
            raise AptError("apt-mark hold: %s still not held afterwards; check dpkg --get-selections" % ", ".join(wrong),
                           results=result)
    # In check mode with a pending plan the simulation would describe the host before the pins: skip it.
    if params.get("verify_upgrade") and "apt-get" in apt.tools and not (check_mode and result["changed"]):
        result["simulation"] = {}
        for command in params["verify_upgrade"]:
            moves = apt.simulate(command)
            names = [e["name"] for e in result["packages"]]
            moving = dict((n, moves[n]) for n in names if n in moves)
            result["simulation"][command] = {"moves": moving, "kept_back": moves.get("__kept_back__", [])}
            for name, move in sorted(moving.items()):
                result["checks"].append(make_check(
                    "package_pin_upgrade_moves", "crit", move["to"], move["from"],
                    "apt-get %s would move %s from %s to %s despite the pin: check the hold (apt-mark showhold) and "
                    "the preferences file" % (command, name, move["from"], move["to"]), package=name))
        result["status"] = worst_status(result["checks"])
    return result
