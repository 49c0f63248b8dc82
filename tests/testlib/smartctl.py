"""Install the stand-in smartctl (tests/testlib/fake_smartctl.py) with a scenario of real captures."""

import json
import os
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "unit", "fixtures", "smartctl")
FAKE = os.path.join(HERE, "fake_smartctl.py")


def install_fake_smartctl(directory, devices, interpreter=None):
    """Write ``directory/smartctl`` and its ``scenario.json``; return ``(path, log_path)``.

    ``devices`` maps device paths to ``{"type", "text", "json", "rc", "standby"}`` (capture file
    names under tests/unit/fixtures/smartctl). The log gets one JSON argv per call.
    """
    directory = str(directory)
    os.makedirs(directory, exist_ok=True)
    log = os.path.join(directory, "calls.log")
    with open(os.path.join(directory, "scenario.json"), "w") as handle:
        json.dump({"fixtures": os.path.abspath(FIXTURES), "log": log, "devices": devices}, handle, indent=2)
    path = os.path.join(directory, "smartctl")
    with open(FAKE) as source, open(path, "w") as target:
        target.write("#!%s\n%s" % (interpreter or sys.executable, source.read()))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path, log


def calls(log):
    """The argv lists the stand-in received, in order."""
    if not os.path.exists(log):
        return []
    with open(log) as handle:
        return [json.loads(line) for line in handle if line.strip()]
