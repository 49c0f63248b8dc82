"""A stand-in for a hung tool that ignores SIGTERM (an ``nvidia-smi`` on a wedged driver, issue 18)."""

import os


def ignoring_sigterm(directory, name="nvidia-smi"):
    """Write an executable ``<directory>/<name>`` that traps TERM and sleeps a minute; return its path."""
    os.makedirs(str(directory), exist_ok=True)
    path = os.path.join(str(directory), name)
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\n# stand-in for a hung %s that ignores SIGTERM\ntrap '' TERM\nsleep 60\n" % name)
    os.chmod(path, 0o755)
    return path
