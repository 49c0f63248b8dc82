"""Stand-ins for the macOS tools the macos area runs, replaying captured macOS output.

No Mac is available to the tests: :func:`write_bin_dir` writes one small executable per tool (``uname``,
``sw_vers``, ``sysctl``, ``memory_pressure``, ``notifyutil``, ``pmset``, ``softwareupdate``, ``defaults``)
into a directory the module's ``bin_dir`` option points at. Each runs this file, which looks its
command line up in the scenario (a JSON file) and prints the capture recorded for it, with its exit
status; a command line the scenario does not know exits 64 with a message, so a test that runs
something unexpected fails loudly. The captures are in tests/unit/fixtures/macos/ (PROVENANCE.md).

A scenario combines captures of different Macs (public sources rarely show every command of one
machine); :data:`SCENARIOS` says which. Variants a test derives (a higher thermal level, less free
memory) replace one entry's text and are marked in the test.
"""

import json
import os
import stat
import sys

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "unit", "fixtures", "macos")
TOOLS = ("uname", "sw_vers", "sysctl", "memory_pressure", "notifyutil", "pmset", "softwareupdate", "defaults")
UNKNOWN_COMMAND_RC = 64

SOFTWARE_UPDATE = "defaults read /Library/Preferences/com.apple.SoftwareUpdate"
MANAGED_SOFTWARE_UPDATE = "defaults read /Library/Managed Preferences/com.apple.SoftwareUpdate"
MANAGED_RESTRICTIONS = "defaults read /Library/Managed Preferences/com.apple.applicationaccess"


def capture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def _absent(domain):
    # DERIVED (PROVENANCE.md): what `defaults read` says for a domain that does not exist, exit status 1
    return {"stdout": "", "stderr": "Domain %s does not exist\n" % domain, "rc": 1}


# A Mac on Ventura 13.5 (sw_vers: an M1, stoplightio/spectral#2520) offered macOS Ventura 13.6 and the
# major upgrade macOS Sonoma 14.0 (the list of another Ventura Mac, Macjutsu/super#151); chip M1 Pro
# (super-l/machine-code#1), model and thermal pressure of an M4 MacBook Air (mingrath/mbcheck), memory of
# a 32 GiB Mac mini, swap of walles/px#80, the Software Update preferences of a 10.15.7 Mac
# (AutomaticallyInstallMacOSUpdates = 0), no profile.
SCENARIOS = {
    "ventura_sonoma_offered": {
        "uname -s": {"stdout": "Darwin\n"},
        "sw_vers": {"file": "sw_vers-13.5-22G74.txt"},
        "sysctl machdep.cpu.brand_string": {"file": "sysctl-machdep.cpu.brand_string-m1-pro.txt"},
        "sysctl hw.model": {"file": "sysctl-n-hw.model-m4-air.txt"},
        "sysctl vm.swapusage": {"file": "sysctl-vm.swapusage-4g.txt"},
        "sysctl kern.memorystatus_vm_pressure_level": {"file": "sysctl-n-kern.memorystatus_vm_pressure_level-constructed.txt"},
        "memory_pressure": {"file": "memory_pressure-mac-mini-32g.txt"},
        "notifyutil -g com.apple.system.thermalpressurelevel": {"file": "notifyutil-thermalpressurelevel-m4-air.txt"},
        "pmset -g therm": {"file": "pmset-therm-apple-silicon.txt"},
        "softwareupdate --list": {"file": "softwareupdate-list-ventura-minor-and-sonoma.txt"},
        SOFTWARE_UPDATE: {"file": "defaults-read-SoftwareUpdate-10.15.7.txt"},
        MANAGED_SOFTWARE_UPDATE: _absent("/Library/Managed Preferences/com.apple.SoftwareUpdate"),
        MANAGED_RESTRICTIONS: _absent("/Library/Managed Preferences/com.apple.applicationaccess"),
    },
    # A Linux host: only uname answers (the module must not run anything else there).
    "linux": {
        "uname -s": {"stdout": "Linux\n"},
    },
}


def resolve(entry):
    """``(stdout, stderr, rc)`` of a scenario entry (``file`` is read from the fixtures)."""
    stdout = capture(entry["file"]) if "file" in entry else entry.get("stdout", "")
    return stdout, entry.get("stderr", ""), entry.get("rc", 0)


def scenario(name, **replace):
    """A copy of scenario ``name`` with entries replaced (``replace`` maps command lines to entries);
    an entry of None removes the command (the tool then answers 64)."""
    result = dict(SCENARIOS[name])
    for command, entry in replace.items():
        if entry is None:
            result.pop(command, None)
        else:
            result[command] = entry
    return result


def write_bin_dir(directory, entries):
    """Write the stand-in tools for ``entries`` (a scenario dict) into ``directory``; return it."""
    os.makedirs(str(directory), exist_ok=True)
    table = os.path.join(str(directory), "scenario.json")
    with open(table, "w") as handle:
        json.dump(dict((command, dict(zip(("stdout", "stderr", "rc"), resolve(entry))))
                       for command, entry in entries.items()), handle)
    for tool in TOOLS:
        path = os.path.join(str(directory), tool)
        with open(path, "w") as handle:
            handle.write('#!/bin/sh\nexec "%s" "%s" "%s" %s "$@"\n' % (sys.executable, os.path.abspath(__file__), table, tool))
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(directory)


def main(argv):
    table, tool, args = argv[1], argv[2], argv[3:]
    command = " ".join([tool] + args)
    with open(table) as handle:
        entries = json.load(handle)
    entry = entries.get(command)
    if entry is None:
        sys.stderr.write("macos stand-in: no capture for %r\n" % command)
        return UNKNOWN_COMMAND_RC
    sys.stdout.write(entry["stdout"])
    sys.stderr.write(entry["stderr"])
    return entry["rc"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
