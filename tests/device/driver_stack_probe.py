"""Run driver_stack_facts' gathering on a REAL GPU machine (no Ansible needed there).

    PYTHONPATH=<dir holding ansible_collections/gpufleet/maintenance> python3 tests/device/driver_stack_probe.py [PYTHON_PREFIX...]

Prints the gpufleet_driver_stack fact as JSON (the verdict, checks and every link), with the
Python prefixes given (for example the PyTorch venv) inspected for torch and CUDA wheels.
"""

import json
import os
import subprocess
import sys

from ansible_collections.gpufleet.maintenance.plugins.module_utils._driver_stack import DEFAULT_HOLD_PATTERNS, Context, gather


def run_command(args, check_rc=False, environ_update=None, data=None, handle_exceptions=False):
    """AnsibleModule.run_command's signature, enough for _runner.run."""
    env = dict(os.environ)
    env.update(environ_update or {})
    proc = subprocess.run(args, input=data, env=env, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def main():
    ctx = Context(root="/", run_command=run_command, python_envs=sys.argv[1:], probe_containers=False, timeout=30,
                  hold_patterns=list(DEFAULT_HOLD_PATTERNS))
    fact, warnings = gather(ctx)
    print(json.dumps({"fact": fact, "warnings": warnings}, indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
