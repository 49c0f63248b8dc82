"""Shared test helpers: run the collection's modules and playbooks through the real Ansible."""

import json
import os
import subprocess
import sys
import tempfile

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)


_FACT_CACHE = tempfile.mkdtemp(prefix="gpufleet-test-facts-")


def ansible_env(**extra):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(REPO_ROOT, "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        # Keep the tests' facts out of the checkout's fact cache (.cache/facts), which users' runs read.
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": _FACT_CACHE,
    })
    env.update(extra)
    return env


def run_module(module, args=None, check=False, env=None, host="localhost", prefix=()):
    """Run one module ad hoc against the embedded inventory; return the host's result dict.

    ``prefix``: a command that runs ``ansible`` (``unshare --user --map-root-user``, a namespace set-up)."""
    cmd = list(prefix) + [os.path.join(BIN, "ansible"), host, "-m", module]
    if args:
        cmd += ["-a", json.dumps(args)]
    if check:
        cmd.append("--check")
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=ansible_env(**(env or {})), capture_output=True, text=True, timeout=300, check=False)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        pytest.fail("ansible did not print JSON (rc %s):\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))
    return data["plays"][0]["tasks"][0]["hosts"][host]


# Cadence playbooks write reports and a history: in tests they go to a scratch directory unless a
# test's own -e, given later, says otherwise. Metrics export keeps the playbooks' default (off, as
# for users); tests that turn it on point metrics_export_dir at their own directory.
# The prerequisites role stays off: against localhost it would install packages and /opt/gpufleet on
# the machine running the tests (testlib.ssh_fleet turns it on for its container hosts).
_RUNS_DIR = tempfile.mkdtemp(prefix="gpufleet-test-runs-")
CADENCE_DEFAULTS = {
    "gpufleet_report_dir": os.path.join(_RUNS_DIR, "reports"),
    "gpufleet_history_path": os.path.join(_RUNS_DIR, "history.db"),
    "gpufleet_prerequisites": False,
}


def run_playbook(playbook, extra_args=(), env=None, json_output=False):
    """Run a playbook from the checkout; return the CompletedProcess."""
    cmd = [os.path.join(BIN, "ansible-playbook"), playbook, "-e", json.dumps(CADENCE_DEFAULTS)] + list(extra_args)
    run_env = ansible_env(**(env or {})) if json_output else dict(ansible_env(**(env or {})), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    return subprocess.run(cmd, cwd=REPO_ROOT, env=run_env, capture_output=True, text=True, timeout=900, check=False)
