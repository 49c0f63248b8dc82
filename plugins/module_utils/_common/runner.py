# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One runner for external tools: argv as a list (never a shell), ``LC_ALL=C``, a timeout.

Commands go through ``AnsibleModule.run_command`` (passed in as ``run_command``), wrapped in
coreutils ``timeout`` so that a tool that hangs (``nvidia-smi`` on a lost GPU, ``smartctl`` on a
dying disk, ``softwareupdate`` without a network) is killed instead of stalling the play. Where there
is no coreutils ``timeout`` (macOS), the module's own Python runs the tool under the same rules
(:data:`TIMEOUT_CHILD`). No Ansible import here, so tests can pass any callable with ``run_command``'s
signature.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import sys
import time

# Paths searched in addition to PATH: sbin directories are often missing from a non-login PATH, and
# Homebrew's (macOS, Apple Silicon) from the PATH of an SSH session.
EXTRA_PATHS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
               "/opt/homebrew/sbin", "/opt/homebrew/bin")
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}
# Exit statuses of coreutils timeout: 124 timed out (TERM), 137 killed after the grace period. A tool
# that ignores TERM is killed with its whole process group after the grace period, coreutils timeout
# itself included: the caller then sees "killed by SIGKILL" (-9) instead of 137.
_TIMED_OUT = (124, 137)
_KILLED = -9
_KILL_GRACE_S = 5

# coreutils timeout's contract, for hosts without it (macOS): run argv[3:] in its own session; after
# argv[2] seconds TERM its process group, after argv[1] more KILL it; exit 124 (TERM was enough) or 137
# (KILL was needed), 126/127 when it cannot be started, else the tool's status (a tool killed by a
# signal kills this process with the same signal, as timeout does). Python 3.6 syntax.
TIMEOUT_CHILD = r"""
import os, signal, subprocess, sys
grace, limit, argv = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
try:
    child = subprocess.Popen(argv, start_new_session=True)
except OSError as exc:
    sys.stderr.write("%s: %s\n" % (argv[0], exc.strerror or exc))
    sys.exit(127 if isinstance(exc, FileNotFoundError) else 126)
def group(sig):
    try:
        os.killpg(child.pid, sig)
    except OSError:
        pass
try:
    rc = child.wait(limit)
except subprocess.TimeoutExpired:
    group(signal.SIGTERM)
    try:
        child.wait(grace)
        sys.exit(124)
    except subprocess.TimeoutExpired:
        group(signal.SIGKILL)
        child.wait()
        sys.exit(137)
if rc < 0:
    try:
        signal.signal(-rc, signal.SIG_DFL)
    except (OSError, ValueError):
        pass
    os.kill(os.getpid(), -rc)
sys.exit(rc)
"""


class ToolError(Exception):
    """A tool could not be run to completion (not found, timed out, could not start)."""

    def __init__(self, message, cmd=None, rc=None, stdout="", stderr=""):
        super(ToolError, self).__init__(message)
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr


class ToolResult:
    """The outcome of one command: ``rc``, ``stdout``, ``stderr`` and the ``cmd`` run."""

    __slots__ = ("cmd", "rc", "stdout", "stderr")

    def __init__(self, cmd, rc, stdout, stderr):
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    def __iter__(self):
        return iter((self.rc, self.stdout, self.stderr))


def find_tool(name, explicit=None, extra_paths=EXTRA_PATHS):
    """Return the absolute path of ``name`` (or ``explicit`` when given and executable), else None."""
    if explicit:
        return explicit if os.path.isfile(explicit) and os.access(explicit, os.X_OK) else None
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_paths:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def run(run_command, argv, timeout=20, env=None, data=None):
    """Run ``argv`` (a list) with ``LC_ALL=C`` under a timeout; return a :class:`ToolResult`.

    ``run_command`` is ``AnsibleModule.run_command`` (or a callable with its signature).
    Raises :class:`ToolError` when the program cannot be started or runs past ``timeout``
    seconds (it is killed). A non-zero exit status is *not* an error here: many tools (smartctl,
    rocm-smi) use it for information, so callers decide.
    """
    if not isinstance(argv, (list, tuple)) or not argv:
        raise ToolError("internal error: argv must be a non-empty list", cmd=argv)
    cmd = [str(part) for part in argv]
    wrapper = find_tool("timeout") if timeout else None
    if wrapper:
        full = ["%s" % wrapper, "-k", str(_KILL_GRACE_S), str(timeout)] + cmd
    elif timeout and sys.executable:
        wrapper = sys.executable
        full = [wrapper, "-c", TIMEOUT_CHILD, str(_KILL_GRACE_S), str(timeout)] + cmd
    else:
        full = cmd
    environ = dict(C_LOCALE)
    environ.update(env or {})
    started = time.monotonic()
    try:
        rc, out, err = run_command(full, check_rc=False, environ_update=environ, data=data,
                                   handle_exceptions=False)
    except (OSError, IOError) as exc:
        raise ToolError("could not run %s: %s" % (cmd[0], exc), cmd=cmd)
    # coreutils kills itself with its tool after the grace period (-9); the Python stand-in exits 137
    ignored_term = wrapper and (rc == _KILLED or (wrapper == sys.executable and rc == 137)) \
        and time.monotonic() - started >= timeout
    if wrapper and (rc in _TIMED_OUT or ignored_term):
        raise ToolError("%s timed out after %s s and was killed%s"
                        % (cmd[0], timeout, " (it ignored SIGTERM)" if ignored_term else ""),
                        cmd=cmd, rc=rc, stdout=out, stderr=err)
    if wrapper and rc in (126, 127) and not os.access(cmd[0], os.X_OK) and not find_tool(cmd[0]):
        raise ToolError("could not run %s: not found or not executable" % cmd[0], cmd=cmd, rc=rc, stdout=out, stderr=err)
    return ToolResult(cmd, rc, out, err)
