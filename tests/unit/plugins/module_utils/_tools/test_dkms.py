"""_tools/dkms: dkms status in the legacy comma and the slash format, errors, and the /var/lib/dkms tree."""

import os

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import dkms as _dkms


def _read(fixture_path, name):
    with open(fixture_path("dkms", name)) as handle:
        return handle.read()


def test_legacy_comma_format(fixture_path):
    parsed = _dkms.parse_status(_read(fixture_path, "dkms-status-legacy-comma-format-fedora28.txt"))
    assert parsed["errors"] == [] and parsed["warnings"] == []
    assert [(e["module"], e["version"], e["kernel"], e["arch"], e["status"]) for e in parsed["entries"]] == [
        ("nvidia", "396.45", "4.17.11-200.fc28.x86_64", "x86_64", "installed"),
        ("nvidia", "396.45", "4.17.12-200.fc28.x86_64", "x86_64", "installed"),
        ("nvidia", "396.45", "4.17.14-202.fc28.x86_64", "x86_64", "installed"),
    ]


def test_slash_format_with_added_built_installed(fixture_path):
    parsed = _dkms.parse_status(_read(fixture_path, "dkms-status-slash-format-added-built-installed.txt"))
    assert parsed["errors"] == [] and parsed["warnings"] == []
    assert parsed["entries"] == [
        {"module": "nvidia", "version": "390.157", "kernel": None, "arch": None, "status": "added", "note": None},
        {"module": "vboxhost", "version": "7.0.8_OSE", "kernel": "6.4.1-zen1-1-zen", "arch": "x86_64",
         "status": "installed", "note": None},
        {"module": "vhba-module", "version": "20211218", "kernel": "6.4.1-zen1-1-zen", "arch": "x86_64",
         "status": "built", "note": None},
    ]


def test_error_output_is_an_error_not_an_entry(fixture_path):
    parsed = _dkms.parse_status(_read(fixture_path, "dkms-status-error-missing-dkms-conf.txt"))
    assert parsed["entries"] == []
    assert parsed["errors"] == ["Error! Could not locate dkms.conf file. "
                                "File: /var/lib/dkms/nvidia/390.48/source/dkms.conf does not exist."]


def test_garbled_lines_are_warned_and_skipped():
    text = ("nvidia/535.104.05, 6.2.0-33-generic, x86_64: installed (original_module exists)\n"
            "nvidia, 535.104.05, 6.2.0-33-generic: installed\n"   # three fields: not a dkms line
            "something odd\n"
            "amdgpu/6.8.5-2009582.22.04, 6.8.0-45-generic, x86_64: exploded\n"
            "WARNING: kernel headers missing\n")
    parsed = _dkms.parse_status(text)
    assert parsed["entries"] == [{"module": "nvidia", "version": "535.104.05", "kernel": "6.2.0-33-generic",
                                  "arch": "x86_64", "status": "installed", "note": "original_module exists"}]
    assert len(parsed["warnings"]) == 4
    assert "line 2" in parsed["warnings"][0] and "line 4" in parsed["warnings"][2]


def test_scan_tree_reads_built_installed_and_added(tmp_path):
    base = tmp_path / "dkms"
    (base / "nvidia" / "550.120" / "6.8.0-45-generic" / "x86_64" / "module").mkdir(parents=True)
    (base / "nvidia" / "550.120" / "6.8.0-48-generic" / "x86_64" / "module").mkdir(parents=True)
    (base / "nvidia" / "550.120" / "source").mkdir()
    os.symlink("550.120/6.8.0-45-generic/x86_64", str(base / "nvidia" / "kernel-6.8.0-45-generic-x86_64"))
    (base / "amdgpu" / "6.8.5-2009582.22.04" / "source").mkdir(parents=True)
    entries, warnings = _dkms.scan_tree(str(base))
    assert warnings == []
    assert [(e["module"], e["version"], e["kernel"], e["status"]) for e in entries] == [
        ("amdgpu", "6.8.5-2009582.22.04", None, "added"),
        ("nvidia", "550.120", "6.8.0-45-generic", "installed"),
        ("nvidia", "550.120", "6.8.0-48-generic", "built"),
    ]
    assert _dkms.modules_for_kernel(entries, "nvidia", "6.8.0-48-generic")[0]["status"] == "built"
    assert _dkms.modules_for_kernel(entries, "nvidia", "6.8.0-50-generic") == []


def test_scan_tree_of_a_missing_directory_is_empty(tmp_path):
    assert _dkms.scan_tree(str(tmp_path / "nope")) == ([], [])


def test_status_runs_the_tool_and_reads_stderr_errors():
    calls = []

    def run_command(argv, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
        calls.append(argv)
        return 0, "nvidia/550.120, 6.8.0-45-generic, x86_64: installed\n", "Error! Bad return status for module build\n"

    parsed = _dkms.status(run_command, dkms="/usr/sbin/dkms")
    assert calls[0][-2:] == ["/usr/sbin/dkms", "status"]
    assert parsed["rc"] == 0 and len(parsed["entries"]) == 1 and parsed["errors"][0].startswith("Error! Bad return")
