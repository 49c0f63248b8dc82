"""Run driver_stack_facts' gathering on a REAL GPU machine (no Ansible needed there).

    PYTHONPATH=<dir holding ansible_collections/gpufleet/maintenance> python3 tests/device/driver_stack_probe.py [PYTHON_PREFIX...]

Prints the gpufleet_driver_stack fact as JSON (the verdict, checks and every link), with the
Python prefixes given (for example the PyTorch venv) inspected for torch and CUDA wheels.
"""

import json
import os
import subprocess
import sys

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import AREA


def run_command(args, check_rc=False, environ_update=None, data=None, handle_exceptions=False):
    """AnsibleModule.run_command's signature, enough for the collection's runner."""
    env = dict(os.environ)
    env.update(environ_update or {})
    proc = subprocess.run(args, input=data, env=env, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def main():
    fact, warnings = AREA.gather(run_command, AREA.validate({"python_envs": sys.argv[1:]}))
    print(json.dumps({"fact": fact, "warnings": warnings}, indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
