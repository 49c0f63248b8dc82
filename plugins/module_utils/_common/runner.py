# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One runner for external tools: argv as a list (never a shell), ``LC_ALL=C``, a timeout.

Commands go through ``AnsibleModule.run_command`` (passed in as ``run_command``), wrapped in
coreutils ``timeout`` so that a tool that hangs (``nvidia-smi`` on a lost GPU, ``smartctl`` on a
dying disk) is killed instead of stalling the play. No Ansible import here, so tests can pass any
callable with ``run_command``'s signature.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

# Paths searched in addition to PATH: sbin directories are often missing from a non-login PATH.
EXTRA_PATHS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}
# Exit statuses of coreutils timeout: 124 timed out (TERM), 137 killed after the grace period.
_TIMED_OUT = (124, 137)
_KILL_GRACE_S = 5


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
    full = ["%s" % wrapper, "-k", str(_KILL_GRACE_S), str(timeout)] + cmd if wrapper else cmd
    environ = dict(C_LOCALE)
    environ.update(env or {})
    try:
        rc, out, err = run_command(full, check_rc=False, environ_update=environ, data=data,
                                   handle_exceptions=False)
    except (OSError, IOError) as exc:
        raise ToolError("could not run %s: %s" % (cmd[0], exc), cmd=cmd)
    if wrapper and rc in _TIMED_OUT:
        raise ToolError("%s did not answer within %s s and was killed" % (cmd[0], timeout),
                        cmd=cmd, rc=rc, stdout=out, stderr=err)
    if wrapper and rc in (126, 127) and not os.access(cmd[0], os.X_OK) and not find_tool(cmd[0]):
        raise ToolError("could not run %s: not found or not executable" % cmd[0], cmd=cmd, rc=rc, stdout=out, stderr=err)
    return ToolResult(cmd, rc, out, err)
