# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of ``package_pin``: gather (dpkg, holds, pin files), plan, then apply in one step.

``build_plan`` is pure (the host's state in, the plan out); :func:`pin` gathers through
``_tools/apt.py``'s :class:`~.apt.Apt`, plans and, unless check mode or audit, applies; :func:`run`
is what the module calls. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import os

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.package_pin.checks import CHECKS
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import files
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.options import out_of_range
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.apt import (
    LOCK_FILES,
    Apt,
    AptError,
    parse_blacklist,
    parse_preferences,
    render_blacklist,
    newer_version,
    render_preferences,
    wait_for_lock,
)

PREFERENCES_PATH = "/etc/apt/preferences.d/gpufleet-package-pin.pref"
BLACKLIST_PATH = "/etc/apt/apt.conf.d/51gpufleet-package-pin"
REQUIRED_TOOLS = ("dpkg-query", "apt-mark", "apt-cache")
_GLOB_CHARS = "*?["

ARGUMENT_SPEC = dict(
    names=dict(type="list", elements="str", default=[]),
    packages=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        version=dict(type="str"),
    )),
    state=dict(type="str", choices=["held", "released"], default="held"),
    mode=dict(type="str", choices=["enforce", "audit"], default="enforce"),
    apt_preferences=dict(type="bool", default=True),
    unattended_upgrades_blacklist=dict(type="bool", default=True),
    preferences_path=dict(type="path", default=PREFERENCES_PATH),
    blacklist_path=dict(type="path", default=BLACKLIST_PATH),
    missing_ok=dict(type="bool", default=False),
    lock_timeout=dict(type="int", default=120),
    verify_upgrade=dict(type="list", elements="str", choices=["upgrade", "dist-upgrade"], default=[]),
)

# What the argument spec cannot say (issue 18): out-of-range options fail, naming the option.
BOUNDS = {"lock_timeout": (0, None)}


# ---------------------------------------------------------------- decisions (pure)

def is_glob(text):
    """True when ``text`` holds shell glob characters (``*``, ``?``, ``[``)."""
    return any(char in (text or "") for char in _GLOB_CHARS)


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


def unmatched_requests(requests, installed, recorded=()):
    """The names and patterns of ``requests`` that match no installed (or recorded) package."""
    universe = set(installed) | set(recorded)
    return [r["name"] for r in requests
            if not (r["name"] in universe if not is_glob(r["name"]) else any(fnmatch.fnmatchcase(n, r["name"]) for n in universe))]


def _held_entry(name, entry, target, installed_version, current_pins, recorded, mode, checks):
    """Fill ``entry`` for a package to hold; append its checks; return the error that stops enforce, if any."""
    held_before = entry["held_before"]
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
    subject = {"package": name}
    version_drift = bool(reasons) and (installed_version is None or not version_matches(installed_version, pinned))
    entry["held_after"] = True if mode == "enforce" else held_before
    if version_drift:
        checks.append(CHECKS["package_pin_drift"].result("crit", installed_version, pinned, reasons[0], subject=subject,
                                                         fix=""))
        return reasons[0] if mode == "enforce" else None
    if entry["drift"]:
        checks.append(CHECKS["package_pin_hold"].result("crit", "not held", "held", reasons[-1], subject=subject, fix=""))
    elif not held_before and mode == "audit":
        checks.append(CHECKS["package_pin_hold"].result("warn", "not held", "held", "%s is not held" % name,
                                                        subject=subject))
    if entry["held_after"] and entry.get("newer_version"):
        checks.append(CHECKS["package_pin_newer_candidate"].result(
            "warn", entry["newer_version"], installed_version, "a newer %s %s is available while %s is held"
            % (name, entry["newer_version"], installed_version), subject=subject))
    return None


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
        installed_version = (installed.get(name) or {}).get("version")
        entry = {
            "name": name,
            "pattern": target["pattern"],
            "installed_version": installed_version,
            "candidate_version": (policy.get(name) or {}).get("candidate"),
            "newer_version": newer_version(policy.get(name)),
            "held_before": name in holds,
            "drift": False,
            "drift_reason": None,
        }
        if state == "released":
            entry["pinned_version"] = None
            entry["held_after"] = False if mode == "enforce" else entry["held_before"]
            if entry["held_before"]:
                unhold.append(name)
            new_pins.pop(name, None)
            new_black.discard(name)
        else:
            error = _held_entry(name, entry, target, installed_version, current_pins, recorded, mode, checks)
            if error:
                errors.append(error)
            if not entry["held_before"]:
                hold.append(name)
            if apt_preferences:
                new_pins[name] = entry["pinned_version"]
            if unattended_upgrades_blacklist:
                new_black.add(name)
        packages.append(entry)
    file_changes = {}
    prefs_after = render_preferences(new_pins)
    black_after = render_blacklist(sorted(new_black))
    if (prefs_text or "") != prefs_after and (new_pins != current_pins or apt_preferences):
        file_changes[preferences_path] = {"before": prefs_text or "", "after": prefs_after}
    if (blacklist_text or "") != black_after and (new_black != set(current_black) or unattended_upgrades_blacklist):
        file_changes[blacklist_path] = {"before": blacklist_text or "", "after": black_after}
    if mode == "audit":
        apply_hold, apply_unhold, apply_files = [], [], {}
    else:
        apply_hold, apply_unhold, apply_files = hold, unhold, file_changes
    for entry in packages:
        entry["changed"] = entry["name"] in apply_hold or entry["name"] in apply_unhold
    unmatched_names = unmatched_requests(requests, installed, recorded if state == "released" else ())
    if state == "held" and requests and not packages:
        checks.append(CHECKS["package_pin_match"].result(
            "warn", 0, None, "nothing is held: no installed package matches %s" % ", ".join(unmatched_names)))
    return {
        "packages": packages,
        "hold": apply_hold,
        "unhold": apply_unhold,
        "files": apply_files,
        "pending": {"hold": hold, "unhold": unhold, "files": sorted(file_changes)},
        "unmatched": unmatched_names,
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


# ---------------------------------------------------------------- the host (files, tools)

def read_text(path):
    """A pin file's text, or ``""`` when it does not exist."""
    try:
        return files.read_text(path, missing="")
    except (IOError, OSError) as exc:
        raise AptError("reading %s: %s" % (path, exc))


def write_text(path, text):
    """Write ``text`` atomically (mode 0644, parent made 0755); ``""`` removes the file."""
    if not text:
        if os.path.exists(path):
            os.unlink(path)
        return
    files.atomic_write(path, text, mode=0o644, make_dirs=0o755)


def simulate(apt, params, result):
    """Add ``simulation`` and a ``package_pin_upgrade_moves`` check per pinned package apt-get would move."""
    result["simulation"] = {}
    names = [e["name"] for e in result["packages"]]
    for command in params["verify_upgrade"]:
        moves = apt.simulate(command)
        moving = dict((n, moves[n]) for n in names if n in moves)
        result["simulation"][command] = {"moves": moving, "kept_back": moves.get("__kept_back__", [])}
        for name, move in sorted(moving.items()):
            result["checks"].append(CHECKS["package_pin_upgrade_moves"].result(
                "crit", move["to"], move["from"], "apt-get %s would move %s from %s to %s despite the pin"
                % (command, name, move["from"], move["to"]), subject={"package": name}))
    result["status"] = worst_status(result["checks"])


def apply(apt, plan, params, result, lock_files=LOCK_FILES):
    """The one step with side effects: wait for the dpkg lock, apt-mark, write the files, check the holds."""
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
        "unmatched": plan["unmatched"],
        "checks": plan["checks"],
        "status": plan["status"],
        "diff": plan_diff(plan),
    }
    if plan["errors"]:
        raise AptError("package_pin (%s, %s mode): %s" % (params["state"], params["mode"], "; ".join(plan["errors"])),
                       results=dict(result, changed=False))
    if result["changed"] and not check_mode:
        apply(apt, plan, params, result, lock_files)
    # In check mode with a pending plan the simulation would describe the host before the pins: skip it.
    # With no package of the stack installed nothing pinned can move: no simulation (it reads the whole
    # APT cache twice, the slowest part of a monthly audit on a box without a GPU stack).
    if (params.get("verify_upgrade") and "apt-get" in apt.tools and result["packages"]
            and not (check_mode and result["changed"])):
        simulate(apt, params, result)
    return result


def run(run_command, params, check_mode=False, find=runner.find_tool):
    """The module's body: check the options, find apt and dpkg, then :func:`pin`. Raises :class:`AptError`."""
    problems = out_of_range(params, BOUNDS)
    if problems:
        raise AptError("; ".join(problems))
    tools = dict((name, find(name)) for name in REQUIRED_TOOLS + ("apt-get",))
    missing = missing_tools_message(tools)
    if missing:
        raise AptError(missing)
    return pin(Apt(run_command, dict((k, v) for k, v in tools.items() if v)), params, check_mode=check_mode)
