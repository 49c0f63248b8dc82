"""wsl_facts and the wsl_guard role through the real Ansible on this machine (not WSL) and on built trees.

The trees carry gcc-built libcuda stand-ins; the module loads them with ctypes in a child process,
runs ldconfig -p -C, reads their dpkg database, and replays nvidia-smi captures.
"""

import json
import os
import platform

import pytest

from testlib.ansible_run import run_module, run_playbook
from testlib.wsl_tree import make_tree

pytestmark = pytest.mark.integration

MODULE = "gpufleet.maintenance.wsl_facts"


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    return str(tmp_path_factory.mktemp("libcuda-standins"))


def checks_of(fact):
    return {c["check"]: c for c in fact["checks"]}


def test_this_machine_is_not_wsl():
    result = run_module(MODULE)
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    fact = result["ansible_facts"]["gpufleet_wsl"]
    assert fact["is_wsl"] is False and fact["wsl_version"] is None
    assert fact["kernel_release"] == platform.release()
    assert [c["check"] for c in fact["checks"]] == ["wsl"] and fact["status"] == "ok"
    assert fact["cuda_init"] is None


def test_shadowed_tree_through_ansible(tmp_path, libs):
    root = make_tree(tmp_path, libs, linux_variant="insufficient_driver",
                     packages=[("libnvidia-compute-550", "550.54.14-0ubuntu1", "install ok installed")])
    for check_mode in (False, True):
        result = run_module(MODULE, {"root": root}, check=check_mode)
        assert result.get("failed") is not True, result
        assert result["changed"] is False
        fact = result["ansible_facts"]["gpufleet_wsl"]
        checks = checks_of(fact)
        assert fact["is_wsl"] and fact["wsl_version"] == 2
        assert fact["libcuda_source"] == "ld.so.cache"
        assert fact["libcuda_path"] == "/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1"
        assert fact["cuda_init"]["name"] == "CUDA_ERROR_INSUFFICIENT_DRIVER"
        assert fact["cuda_init"]["result"] == 35
        assert checks["libcuda_shadowed"]["status"] == "crit"
        assert checks["linux_driver_inside_wsl"]["status"] == "crit"
        assert checks["nvidia_smi_ok_cuda_broken"]["status"] == "crit"
        assert fact["status"] == "crit"


def test_healthy_tree_through_ansible(tmp_path, libs):
    root = make_tree(tmp_path, libs)
    fact = run_module(MODULE, {"root": root})["ansible_facts"]["gpufleet_wsl"]
    assert fact["cuda_init"]["name"] == "CUDA_SUCCESS" and fact["status"] == "ok"
    assert fact["driver_version"] == "555.99"


def test_hanging_cuinit_does_not_stall_the_module(tmp_path, libs):
    root = make_tree(tmp_path, libs, wsl_variant="hang")
    result = run_module(MODULE, {"root": root, "cuda_init_timeout_s": 1})
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_wsl"]
    assert fact["cuda_init"]["outcome"] == "timeout"
    assert checks_of(fact)["nvidia_smi_ok_cuda_broken"]["status"] == "crit"


def test_crashing_cuinit_is_a_verdict_not_a_traceback(tmp_path, libs):
    root = make_tree(tmp_path, libs, wsl_variant="crash")
    result = run_module(MODULE, {"root": root})
    assert result.get("failed") is not True, result
    assert "Traceback" not in str(result)
    assert result["ansible_facts"]["gpufleet_wsl"]["cuda_init"]["outcome"] == "crashed"


def test_an_unreadable_kernel_string_is_unknown_not_ok(tmp_path):
    """issue 18: with nothing to read, the module says it could not look instead of "not a WSL host"."""
    result = run_module(MODULE, {"root": str(tmp_path)})
    assert result.get("failed") is not True, result
    fact = result["ansible_facts"]["gpufleet_wsl"]
    assert fact["status"] == "unknown" and [c["status"] for c in fact["checks"]] == ["unknown"]
    assert "could not look: the kernel string could not be read" in fact["checks"][0]["message"]


def test_bad_timeout_fails_cleanly():
    result = run_module(MODULE, {"cuda_init_timeout_s": 0})
    assert result["failed"] is True
    assert result["msg"] == "gathering wsl facts: wsl: cuda_init_timeout_s must be at least 1, not 0"


def test_wsl_guard_is_a_reported_no_op_here(tmp_path):
    playbook = tmp_path / "guard.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: gpufleet.maintenance.wsl_guard\n"
        "      wsl_guard_state_path: %s/state.json\n"
        "      wsl_guard_apt_preferences_path: %s/pref\n"
        "      wsl_guard_ld_conf_path: %s/ld.conf\n" % (tmp_path, tmp_path, tmp_path))
    proc = run_playbook(str(playbook))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shown = " ".join(proc.stdout.split())  # the YAML result format folds long messages
    assert "wsl_guard skipped: localhost is not a WSL host (kernel %s); nothing changed" % platform.release() in shown
    assert "changed=0" in proc.stdout and "failed=0" in proc.stdout
    assert not any(os.path.exists(tmp_path / name) for name in ("state.json", "pref", "ld.conf"))


def test_wsl_guard_refuses_an_unknown_action(tmp_path):
    playbook = tmp_path / "guard.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  roles:\n"
                        "    - role: gpufleet.maintenance.wsl_guard\n      wsl_guard_linux_driver_action: purge-everything\n")
    proc = run_playbook(str(playbook))
    assert proc.returncode != 0
    assert "wsl_guard_linux_driver_action" in proc.stdout and "hold, remove" in proc.stdout


def _daily_report(tmp_path, extra):
    reports = tmp_path / "reports"
    extra = dict({"gpufleet_daily_areas": ["host", "wsl"], "gpufleet_disk_paths": ["/"],
                  "gpufleet_report_dir": str(reports), "gpufleet_report_formats": ["json"],
                  "gpufleet_history_path": str(tmp_path / "history.db")}, **extra)
    proc = run_playbook("playbooks/daily.yml", ["-e", json.dumps(extra)])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    [name] = os.listdir(str(reports))
    with open(str(reports / name)) as handle:
        return proc, json.load(handle)


def test_the_daily_on_a_host_that_is_not_wsl_reports_no_wsl_area(tmp_path):
    # This machine is not WSL. A gpufleet_wsl from an earlier run (the quarterly's wsl_guard sets one on
    # every host) is in the fact cache for a day: the daily must not show it as today's reading.
    cached = run_module(MODULE)
    assert cached["ansible_facts"]["gpufleet_wsl"]["is_wsl"] is False
    proc, report = _daily_report(tmp_path, {})
    assert report["areas"] == ["host"]
    assert [row["areas"] for row in report["hosts"]] == [{"host": report["hosts"][0]["areas"]["host"]}]
    assert not [p for p in report["problems"] if p["area"] == "wsl"]
    assert "wsl: not a WSL host" not in proc.stdout and "failed=0" in proc.stdout


def test_the_daily_looks_at_cuda_init_on_a_wsl_host(tmp_path, libs):
    # A WSL tree whose nvidia-smi works and whose libcuda's cuInit fails (CUDA_ERROR_INSUFFICIENT_DRIVER
    # from the gcc-built stand-in): the guides' "nvidia-smi works, CUDA broken", found by the daily.
    root = make_tree(tmp_path / "wsl", libs, wsl_variant="insufficient_driver")
    _proc, report = _daily_report(tmp_path, {"host_health_wsl_root": root})
    assert report["areas"] == ["host", "wsl"]
    assert report["hosts"][0]["areas"]["wsl"] == "crit"
    # Only this problem: no wsl_host_changed either, the snapshot comparison stays with the quarterly guard.
    [problem] = [p for p in report["problems"] if p["area"] == "wsl"]
    assert (problem["check"], problem["status"], problem["value"]) == (
        "nvidia_smi_ok_cuda_broken", "crit", "CUDA_ERROR_INSUFFICIENT_DRIVER")
    assert problem["message"].startswith("nvidia-smi works but CUDA does not (")


# ------------------------------------------------------------------ the Windows host side (tasks_from: windows)

# No Windows machine here: roles/wsl_guard/tasks/windows.yml runs through the real ansible-playbook on
# localhost, with a stand-in ansible.windows collection put first on the collections path. Its one
# module, win_regedit, takes the real module's options and keeps the "registry" in a JSON file
# (changed only when a value differs, as win_regedit reports). What the tasks would write to a real
# registry, and the validation of the settings, are tested; PowerShell and Windows Update are not.
WIN_REGEDIT = r'''#!/usr/bin/python
# Stand-in for ansible.windows.win_regedit (gpufleet tests): a JSON file is the registry.
import json, os
from ansible.module_utils.basic import AnsibleModule

def main():
    module = AnsibleModule(argument_spec=dict(path=dict(type="str", required=True), name=dict(type="str"),
                                              data=dict(type="raw"), type=dict(type="str", default="string")),
                           supports_check_mode=True)
    p = module.params
    store = os.environ["GPUFLEET_WINREG"]
    registry = json.load(open(store)) if os.path.exists(store) else {}
    key = registry.setdefault(p["path"], {})
    value = {"data": int(p["data"]) if p["type"] == "dword" else p["data"], "type": p["type"]}
    changed = key.get(p["name"]) != value
    if changed and not module.check_mode:
        key[p["name"]] = value
        json.dump(registry, open(store, "w"), indent=1, sort_keys=True)
    module.exit_json(changed=changed, data_changed=changed)

main()
'''

POLICY = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate"


@pytest.fixture
def windows_standin(tmp_path):
    root = tmp_path / "collections" / "ansible_collections" / "ansible" / "windows"
    (root / "plugins" / "modules").mkdir(parents=True)
    (root / "meta").mkdir()
    (root / "meta" / "runtime.yml").write_text("requires_ansible: '>=2.16'\n")
    (root / "MANIFEST.json").write_text('{"collection_info": {"namespace": "ansible", "name": "windows", "version": "0.0.0-standin"}}')
    (root / "plugins" / "modules" / "win_regedit.py").write_text(WIN_REGEDIT)
    from testlib.ansible_run import REPO_ROOT
    env = {"ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (tmp_path / "collections", os.path.join(REPO_ROOT, ".collections")),
           "GPUFLEET_WINREG": str(tmp_path / "registry.json")}
    playbook = tmp_path / "windows.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.include_role:\n"
                        "        name: gpufleet.maintenance.wsl_guard\n        tasks_from: windows\n")
    return str(playbook), env, tmp_path / "registry.json"


def test_windows_update_settings_through_a_registry_standin(windows_standin):
    import json

    playbook, env, registry = windows_standin
    check = run_playbook(playbook, ["--check"], env=env)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    assert not registry.exists()  # check mode wrote nothing
    first = run_playbook(playbook, ["-e", "wsl_guard_exclude_driver_updates=true"], env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    # The role's defaults: active hours 06:00 to 00:00 (18 hours, Windows' longest), feature updates
    # deferred 90 days; drivers excluded as asked on the command line.
    assert json.loads(registry.read_text()) == {POLICY: {
        "SetActiveHours": {"data": 1, "type": "dword"}, "ActiveHoursStart": {"data": 6, "type": "dword"},
        "ActiveHoursEnd": {"data": 0, "type": "dword"}, "DeferFeatureUpdates": {"data": 1, "type": "dword"},
        "DeferFeatureUpdatesPeriodInDays": {"data": 90, "type": "dword"},
        "ExcludeWUDriversInQualityUpdate": {"data": 1, "type": "dword"}}}
    assert "changed=3" in first.stdout  # three tasks (six values) changed the registry
    again = run_playbook(playbook, ["-e", "wsl_guard_exclude_driver_updates=true"], env=env)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]


@pytest.mark.parametrize("extra, words", [
    ({"wsl_guard_active_hours_start": 6, "wsl_guard_active_hours_end": 6}, "got 6 to 6"),      # 0 hours
    ({"wsl_guard_active_hours_start": 1, "wsl_guard_active_hours_end": 23}, "got 1 to 23"),    # 22 hours
    ({"wsl_guard_feature_update_deferral_days": 400}, "must be 0-365, got 400"),
])
def test_windows_settings_out_of_range_fail_before_any_write(windows_standin, extra, words):
    import json

    playbook, env, registry = windows_standin
    proc = run_playbook(playbook, ["-e", json.dumps(extra)], env=env)
    assert proc.returncode != 0 and words in proc.stdout, proc.stdout[-3000:]
    assert not registry.exists()
