"""``AnsibleModule.run_command``'s contract on top of subprocess, for calling a body or gather() directly.

The one stand-in for new tests (older ones keep their own copy until they are touched).
"""

import os
import subprocess


def run_command(args, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
    """Run ``args`` (no shell) with ``environ_update`` added; ``(rc, stdout, stderr)`` as text."""
    env = dict(os.environ)
    env.update(environ_update or {})
    proc = subprocess.run(args, env=env, input=data, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr
