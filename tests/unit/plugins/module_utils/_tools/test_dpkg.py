"""_tools/dpkg: dpkg-query lines and the dpkg status file give the same package dicts, held flags included."""

import subprocess

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import dpkg as _dpkg

QUERY = (
    "nvidia-driver-535\t535.183.01-0ubuntu0.22.04.1\thold ok installed\n"
    "libnvidia-compute-535:amd64\t535.183.01-0ubuntu0.22.04.1\tinstall ok installed\n"
    "libnvidia-compute-535:i386\t535.183.01-0ubuntu0.22.04.1\tinstall ok installed\n"
    "nvidia-dkms-535\t535.183.01-0ubuntu0.22.04.1\thold ok installed\n"
    "amdgpu-dkms\t1:6.8.5.60200-2009582.22.04\tinstall ok installed\n"
    "nvidia-driver-470\t470.256.02-0ubuntu0.22.04.1\tdeinstall ok config-files\n"
    "garbled line without tabs\n"
    "\n"
)

STATUS = """Package: nvidia-driver-535
Status: hold ok installed
Priority: optional
Architecture: amd64
Version: 535.183.01-0ubuntu0.22.04.1
Depends: nvidia-dkms-535 (= 535.183.01-0ubuntu0.22.04.1),
 libnvidia-compute-535 (= 535.183.01-0ubuntu0.22.04.1)
Description: NVIDIA driver metapackage
 A continuation line: with a colon.

Package: cuda-toolkit-12-4
Status: install ok installed
Architecture: amd64
Version: 12.4.1-1

Package: nvidia-driver-470
Status: deinstall ok config-files
Architecture: amd64
Version: 470.256.02-0ubuntu0.22.04.1

Status: install ok installed
Version: 1.0
"""


def test_parse_query_reads_names_versions_and_holds():
    packages, warnings = _dpkg.parse_query(QUERY)
    names = [(p["name"], p["arch"], p["held"], p["installed"]) for p in packages]
    assert names == [
        ("nvidia-driver-535", None, True, True),
        ("libnvidia-compute-535", "amd64", False, True),
        ("libnvidia-compute-535", "i386", False, True),
        ("nvidia-dkms-535", None, True, True),
        ("amdgpu-dkms", None, False, True),
        ("nvidia-driver-470", None, False, False),
    ]
    assert packages[0]["upstream_version"] == "535.183.01"
    assert packages[4]["upstream_version"] == "6.8.5.60200"
    assert packages[5]["status"] == "config-files"
    assert len(warnings) == 1 and "line 7" in warnings[0]


def test_parse_status_file_matches_the_query_shape():
    packages, warnings = _dpkg.parse_status_file(STATUS)
    assert [(p["name"], p["version"], p["held"], p["installed"]) for p in packages] == [
        ("nvidia-driver-535", "535.183.01-0ubuntu0.22.04.1", True, True),
        ("cuda-toolkit-12-4", "12.4.1-1", False, True),
        ("nvidia-driver-470", "470.256.02-0ubuntu0.22.04.1", False, False),
    ]
    assert packages[1]["upstream_version"] == "12.4.1"
    assert len(warnings) == 1 and "without Package" in warnings[0]


def test_select_filters_installed_by_pattern_and_sorts():
    packages = _dpkg.parse_query(QUERY)[0]
    chosen = _dpkg.select(packages, ["nvidia-*", "libnvidia-compute-*"])
    assert [p["name"] for p in chosen] == ["libnvidia-compute-535", "libnvidia-compute-535", "nvidia-dkms-535",
                                           "nvidia-driver-535"]
    assert [p["name"] for p in _dpkg.select(packages, ["nvidia-driver-*"], installed_only=False)] == [
        "nvidia-driver-470", "nvidia-driver-535"]
    assert list(_dpkg.by_name(chosen)) == ["libnvidia-compute-535", "nvidia-dkms-535", "nvidia-driver-535"]


@pytest.mark.parametrize("version, upstream", [
    ("1:2.3-4", "2.3"), ("535.183.01-0ubuntu1", "535.183.01"), ("3.134", "3.134"),
    ("2.21.5-1+cuda12.4", "2.21.5"), ("1:6.3.6.60000-1697589.22.04", "6.3.6.60000"), (None, None), ("", None),
])
def test_upstream_version(version, upstream):
    assert _dpkg.upstream_version(version) == upstream


def test_list_packages_runs_the_real_dpkg_query():
    """This machine's real dpkg: the listing agrees with dpkg-query's own answer for a package."""
    def run_command(argv, check_rc=False, environ_update=None, data=None, handle_exceptions=True):
        proc = subprocess.run(argv, capture_output=True, text=True, env=dict(environ_update or {}, PATH="/usr/bin:/bin"), check=False)
        return proc.returncode, proc.stdout, proc.stderr

    packages, warnings = _dpkg.list_packages(run_command)
    assert warnings == []
    dpkg = _dpkg.by_name(packages)["dpkg"]
    expected = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "dpkg"], capture_output=True, text=True, check=True).stdout
    assert dpkg["version"] == expected and dpkg["installed"]


def test_list_packages_without_dpkg_query_raises(monkeypatch):
    monkeypatch.setattr(_dpkg._runner, "find_tool", lambda name, explicit=None: None)
    with pytest.raises(_dpkg.DpkgError, match="dpkg-query not found"):
        _dpkg.list_packages(None)


def test_list_packages_reports_a_failing_dpkg_query():
    def run_command(argv, **_kwargs):
        return 2, "", "dpkg-query: error: database is locked"
    with pytest.raises(_dpkg.DpkgError, match="database is locked"):
        _dpkg.list_packages(run_command, dpkg_query="/usr/bin/dpkg-query")


# The prerequisites role's question, on real dpkg-query 1.21.23 output (Debian 12 containers,
# tests/unit/fixtures/prerequisites/PROVENANCE.md).
WANTED = ["python3-apt", "python3-yaml", "smartmontools", "iproute2", "dmidecode", "pciutils", "rsync"]


def _capture(fixture_path, name):
    with open(fixture_path("prerequisites", name)) as handle:
        return handle.read()


def test_status_abbrev_argv_is_the_roles_former_dpkg_query_task():
    assert _dpkg.status_abbrev_argv(["smartmontools", "rsync"], "/usr/bin/dpkg-query") == [
        "/usr/bin/dpkg-query", "--show", "--showformat=${Package} ${db:Status-Abbrev}\\n", "smartmontools", "rsync"]


def test_installed_ii_only_held_removed_and_unknown_are_not(fixture_path):
    statuses = _dpkg.parse_status_abbrev(_capture(fixture_path, "dpkg-query-abbrev-held-removed-bookworm.stdout"))
    assert statuses == {"dmidecode": ["hi "], "rsync": ["rc "], "smartmontools": ["ii "]}
    assert _dpkg.installed_names(statuses) == ["smartmontools"]


def test_a_fresh_box_knows_none_of_them(fixture_path):
    assert _dpkg.parse_status_abbrev(_capture(fixture_path, "dpkg-query-abbrev-fresh-bookworm.stdout")) == {}
    stderr = _capture(fixture_path, "dpkg-query-abbrev-fresh-bookworm.stderr")
    assert stderr.count("no packages found matching") == len(WANTED)


def test_all_installed(fixture_path):
    statuses = _dpkg.parse_status_abbrev(_capture(fixture_path, "dpkg-query-abbrev-installed-bookworm.stdout"))
    assert _dpkg.installed_names(statuses) == ["iproute2", "python3-apt", "python3-yaml"]


def test_the_answer_is_the_roles_former_filter(fixture_path):
    # tasks/read.yml before: stdout_lines | select('search', ' ii $') | map('split', ' ') | map('first')
    import re
    for name in ("dpkg-query-abbrev-held-removed-bookworm.stdout", "dpkg-query-abbrev-installed-bookworm.stdout"):
        text = _capture(fixture_path, name)
        former = sorted(line.split(" ")[0] for line in text.splitlines() if re.search(" ii $", line))
        assert _dpkg.installed_names(_dpkg.parse_status_abbrev(text)) == former


def test_a_multi_arch_package_with_one_installed_instance_is_installed():
    statuses = _dpkg.parse_status_abbrev("libc6 ii \nlibc6 rc \n")
    assert statuses == {"libc6": ["ii ", "rc "]} and _dpkg.installed_names(statuses) == ["libc6"]


def test_select_means_what_fnmatchcase_means_for_every_pattern_form():
    # select matches all patterns with one expression per list; the oracle is the standard library's
    # fnmatch.fnmatchcase, name by name (case-sensitive, ?, [...], [!...], the whole name)
    import fnmatch
    names = ["nvidia-driver-550", "libnvidia-compute-550", "libnvidia-x", "cuda-toolkit-12-4", "cuda-toolkit",
             "NVIDIA-driver", "abc", "ac", "xdy", "xay", "nvidia", "nvidia-driver-550\n", "linux-image-6.1.0-18-amd64"]
    packages = [_dpkg.make_package(name, "1", "install ok installed") for name in names]
    for patterns in (["nvidia-*"], ["libnvidia-[0-9]*", "libnvidia-c*"], ["cuda-toolkit-[0-9]*", "a?c", "x[!a-c]y"],
                     ["linux-image-[0-9]*"], []):
        expected = sorted(n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns))
        assert [p["name"] for p in _dpkg.select(packages, patterns)] == expected, patterns
    assert [p["name"] for p in _dpkg.select(packages, ["x[!a-c]y", "a?c"])] == ["abc", "xdy"]
