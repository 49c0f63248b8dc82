"""_tools/os_release: the distribution facts ansible.builtin.setup reports, from real os-release files.

The expected values are what `ansible -m setup -a 'gather_subset=!all,!min,distribution'` (ansible-core
2.21.5) reported on containers holding the same files (tests/unit/fixtures/prerequisites/PROVENANCE.md);
tests/integration/test_prerequisites_facts.py makes that comparison live.
"""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import os_release as _os_release

SETUP_SAID = {
    "debian-12-bookworm": {"distribution": "Debian", "distribution_version": "12.15", "distribution_major_version": "12",
                           "distribution_release": "bookworm", "os_family": "Debian"},
    "ubuntu-22.04-jammy": {"distribution": "Ubuntu", "distribution_version": "22.04", "distribution_major_version": "22",
                           "distribution_release": "jammy", "os_family": "Debian"},
    "ubuntu-24.04-noble": {"distribution": "Ubuntu", "distribution_version": "24.04", "distribution_major_version": "24",
                           "distribution_release": "noble", "os_family": "Debian"},
}


def _read(fixture_path, name):
    with open(fixture_path("prerequisites", name)) as handle:
        return handle.read()


@pytest.mark.parametrize("system", sorted(SETUP_SAID))
def test_the_facts_of_real_files_are_what_setup_reported(fixture_path, system):
    facts = _os_release.distribution_facts(_read(fixture_path, "os-release-" + system),
                                           _read(fixture_path, "debian_version-" + system))
    assert facts == SETUP_SAID[system]


def test_debian_takes_the_point_release_from_debian_version(fixture_path):
    text = _read(fixture_path, "os-release-debian-12-bookworm")
    assert _os_release.distribution_facts(text, "12.15\n")["distribution_version"] == "12.15"
    # no debian_version (or no dots in it): VERSION_ID, as distro's "best" version then is
    assert _os_release.distribution_facts(text, None)["distribution_version"] == "12"
    assert _os_release.distribution_facts(text, "bookworm/sid\n")["distribution_version"] == "12"


def test_ubuntu_ignores_debian_version_which_names_the_debian_it_branched_from(fixture_path):
    facts = _os_release.distribution_facts(_read(fixture_path, "os-release-ubuntu-24.04-noble"), "13.1\n")
    assert facts["distribution_version"] == "24.04"


def test_parse_os_release_unquotes_like_a_shell():
    props = _os_release.parse_os_release('ID=debian\nNAME="Debian GNU/Linux"\nX=\'single\'\n# comment\nVERSION_ID="12"\n')
    assert props == {"id": "debian", "name": "Debian GNU/Linux", "x": "single", "version_id": "12"}
    assert _os_release.parse_os_release('NAME="unbalanced\n') == {}
    assert _os_release.parse_os_release(None) == {}


@pytest.mark.parametrize("candidates, best", [
    (["12", "12", "12.15"], "12.15"),
    (["12.15", "12.2"], "12.15"),    # a tie: the earlier one stays (strictly more dots replace it)
    (["", "12"], "12"),
    (["12", ""], "12"),
    ([], ""),
])
def test_best_version_is_distros(candidates, best):
    assert _os_release.best_version(candidates) == best


def test_release_content_version_reads_pretty_name():
    assert _os_release.release_content_version("Debian GNU/Linux 12 (bookworm)") == "12"
    assert _os_release.release_content_version("Ubuntu 22.04.5 LTS") == "22.04.5"
    assert _os_release.release_content_version("Debian GNU/Linux trixie/sid") == ""


def test_release_files_that_could_change_ansibles_answer():
    names = ["os-release", "debian_version", "lsb-release", "dgx-release", "redhat-release", "system-release",
             "ec2_version", "issue", "hostname", "openwrt_release"]
    assert _os_release.release_files_ansible_reads(names) == ["dgx-release", "openwrt_release", "redhat-release",
                                                              "system-release"]


@pytest.mark.parametrize("text", [
    'NAME="Fedora Linux"\nVERSION_ID=40\nID=fedora\nPRETTY_NAME="Fedora Linux 40"\n',
    'NAME="Raspbian GNU/Linux"\nVERSION_ID="11"\nID=raspbian\nID_LIKE=debian\nPRETTY_NAME="Raspbian GNU/Linux 11 (bullseye)"\n',
    'NAME="Debian GNU/Linux"\nID=debian\nPRETTY_NAME="Debian GNU/Linux trixie/sid"\n',   # testing: no VERSION_ID
    'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nPRETTY_NAME="Ubuntu 24.04 on Debian"\nVERSION_CODENAME=noble\n',
    'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nPRETTY_NAME="Ubuntu 24.04"\n',   # no codename: Ansible asks lsb_release
    'NAME="openSUSE Leap"\nVERSION_ID="15.5"\nID=opensuse-leap\n',
    "",
])
def test_anything_else_is_left_to_ansibles_collector(text):
    assert _os_release.distribution_facts(text, "12.15\n") is None
