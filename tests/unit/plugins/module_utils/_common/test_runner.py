import os
import stat
import subprocess

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.runner import ToolError, find_tool, run


def run_command(args, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
    """Stand-in for AnsibleModule.run_command with the same contract (no Ansible needed)."""
    env = dict(os.environ)
    env.update(environ_update or {})
    proc = subprocess.run(args, input=data, capture_output=True, text=True, env=env, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_run_returns_rc_stdout_stderr_and_forces_c_locale():
    result = run(run_command, ["sh", "-c", 'echo "$LC_ALL"; echo err >&2; exit 3'])
    rc, out, err = result
    assert (rc, out, err) == (3, "C\n", "err\n")
    assert result.cmd == ["sh", "-c", 'echo "$LC_ALL"; echo err >&2; exit 3']


def test_run_does_not_use_a_shell():
    rc, out, _err = run(run_command, ["echo", "$HOME; rm -rf /"])
    assert rc == 0
    assert out == "$HOME; rm -rf /\n"


def test_run_kills_a_hanging_tool():
    with pytest.raises(ToolError, match="did not answer within 1 s and was killed"):
        run(run_command, ["sleep", "30"], timeout=1)


def test_run_missing_program_is_a_tool_error():
    with pytest.raises(ToolError, match="could not run /nonexistent/tool: not found"):
        run(run_command, ["/nonexistent/tool"])
    with pytest.raises(ToolError, match="could not run /nonexistent/tool"):
        run(run_command, ["/nonexistent/tool"], timeout=None)


def test_run_passes_extra_env_and_stdin():
    rc, out, _err = run(run_command, ["sh", "-c", 'cat; echo "$GPUFLEET_X"'], env={"GPUFLEET_X": "y"}, data="in\n")
    assert (rc, out) == (0, "in\ny\n")


def test_run_refuses_a_string_argv():
    with pytest.raises(ToolError, match="argv must be a non-empty list"):
        run(run_command, "echo hi")


def test_find_tool(tmp_path):
    tool = tmp_path / "mytool"
    tool.write_text("#!/bin/sh\n")
    assert find_tool("mytool", explicit=str(tool)) is None  # not executable
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    assert find_tool("mytool", explicit=str(tool)) == str(tool)
    assert find_tool("sh") is not None
    assert find_tool("no-such-tool-gpufleet", extra_paths=(str(tmp_path),)) is None
    assert find_tool("mytool", extra_paths=(str(tmp_path),)) == os.path.join(str(tmp_path), "mytool")
