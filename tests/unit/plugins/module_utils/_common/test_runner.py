import os
import stat
import subprocess

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.runner import ToolError, find_tool, run
from testlib import stuck_tool


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
    with pytest.raises(ToolError, match=r"^sleep timed out after 1 s and was killed$"):
        run(run_command, ["sleep", "30"], timeout=1)


def test_run_kills_a_hanging_tool_that_ignores_sigterm_and_says_it_timed_out(tmp_path):
    # A hung nvidia-smi that ignores TERM (issue 18): coreutils timeout kills the whole process group,
    # itself included, after the grace period, so run_command sees -9 ("exited -9: no output" before).
    tool = stuck_tool.ignoring_sigterm(tmp_path)
    with pytest.raises(ToolError) as info:
        run(run_command, [tool, "-q", "-x"], timeout=1)
    assert str(info.value) == "%s timed out after 1 s and was killed (it ignored SIGTERM)" % tool
    assert info.value.rc == -9 and info.value.cmd == [tool, "-q", "-x"]


def test_a_tool_killed_by_sigkill_before_its_timeout_is_not_a_timeout():
    result = run(run_command, ["sh", "-c", "kill -KILL $$"], timeout=30)
    assert result.rc == -9


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


# Hosts without coreutils timeout (macOS): the module's Python runs the tool under the same contract.
@pytest.fixture
def no_coreutils_timeout(monkeypatch):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as runner_module
    real = runner_module.find_tool
    monkeypatch.setattr(runner_module, "find_tool", lambda name, *a, **k: None if name == "timeout" else real(name, *a, **k))
    seen = []

    def recording(args, **kwargs):
        seen.append(args)
        return run_command(args, **kwargs)
    return seen, recording


def test_without_coreutils_timeout_the_python_stand_in_wraps_the_tool(no_coreutils_timeout):
    import sys
    seen, recording = no_coreutils_timeout
    result = run(recording, ["sh", "-c", 'echo "$LC_ALL"; echo err >&2; exit 3'], timeout=30)
    assert (result.rc, result.stdout, result.stderr) == (3, "C\n", "err\n")
    assert seen[0][:2] == [sys.executable, "-c"] and seen[0][-3:] == ["sh", "-c", 'echo "$LC_ALL"; echo err >&2; exit 3']
    assert run(recording, ["sh", "-c", "cat"], data="in\n").stdout == "in\n"


def test_without_coreutils_timeout_a_hanging_tool_is_killed(no_coreutils_timeout):
    _seen, recording = no_coreutils_timeout
    with pytest.raises(ToolError, match=r"^sleep timed out after 1 s and was killed$"):
        run(recording, ["sleep", "30"], timeout=1)


def test_without_coreutils_timeout_a_tool_ignoring_sigterm_is_killed_and_said_so(no_coreutils_timeout, tmp_path):
    _seen, recording = no_coreutils_timeout
    tool = stuck_tool.ignoring_sigterm(tmp_path)
    with pytest.raises(ToolError) as info:
        run(recording, [tool], timeout=1)
    assert str(info.value) == "%s timed out after 1 s and was killed (it ignored SIGTERM)" % tool


def test_without_coreutils_timeout_missing_tools_and_signals_read_as_with_it(no_coreutils_timeout):
    _seen, recording = no_coreutils_timeout
    with pytest.raises(ToolError, match="could not run /nonexistent/tool: not found"):
        run(recording, ["/nonexistent/tool"])
    assert run(recording, ["sh", "-c", "kill -KILL $$"], timeout=30).rc == -9
