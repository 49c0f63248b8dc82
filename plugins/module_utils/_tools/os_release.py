# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The distribution facts of a Debian or Ubuntu host, as ``ansible.builtin.setup`` reports them.

``setup`` (``ansible.module_utils.facts.system.distribution`` with the bundled ``distro`` 1.9) reads
``/etc/os-release``, ``/etc/debian_version``, every other ``/etc/*-release``/``*_version`` file and
runs ``lsb_release -a`` and ``uname -rs``. On Debian 12 and Ubuntu 22.04/24.04 only two files
decide what it reports:

* ``distribution``: ``Debian`` when the os-release text names ``Debian`` (or ``Raspbian``), else
  ``Ubuntu`` when it names ``Ubuntu``;
* ``distribution_version``: Ubuntu: ``VERSION_ID`` (``22.04``). Debian: the candidate with the most
  dots among ``VERSION_ID`` (``12``), the version in ``PRETTY_NAME`` and the first line of
  ``/etc/debian_version`` (``12.15``), the first one keeping a tie (``distro.version(best=True)``);
* ``distribution_major_version``: the version up to its first dot;
* ``distribution_release``: Debian: the codename in brackets in ``PRETTY_NAME``; Ubuntu:
  ``VERSION_CODENAME``;
* ``os_family``: ``Debian``.

:func:`distribution_facts` answers for those two distributions and returns ``None`` for anything
else, and :func:`release_files_ansible_reads` names the other files that would make Ansible answer
differently; the caller then asks Ansible's own collector. Pure functions, no Ansible import,
Python 3.6 syntax (the module runs with the distribution's python3).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex

OS_RELEASE = "/etc/os-release"
DEBIAN_VERSION = "/etc/debian_version"
ETC = "/etc"

# distro 1.9: a distro release file is /etc/<name>-release or <name>_version (any such file, not
# only the known ones), except these, which distro reads otherwise or never.
_RELEASE_BASENAME = re.compile(r"(\w+)[-_](release|version)$")
_RELEASE_IGNORED = frozenset(("debian_version", "lsb-release", "oem-release", "os-release", "system-release",
                              "plesk-release", "iredmail-release", "board-release", "ec2_version"))
# Ansible's own list (DistributionFiles.OSDIST_LIST) checks these before /etc/os-release; the
# pattern above covers them, "system-release" (Amazon) is named separately.
_CHECKED_BEFORE_OS_RELEASE = ("system-release",)
# distro 1.9's reversed pattern for "Name 1.2.3 (codename)" lines (PRETTY_NAME, release files).
_RELEASE_CONTENT_REVERSED = re.compile(r"(?:[^)]*\)(.*)\()? *(?:STL )?([\d.+\-a-z]*\d) *(?:esaeler *)?(.+)")
# ansible's Debian parser: the codename of "Debian GNU/Linux 12 (bookworm)".
_DEBIAN_RELEASE = re.compile(r"PRETTY_NAME=[^(]+ \(?([^)]+?)\)")


def parse_os_release(text):
    """os-release text → ``{lowercased key: value}``, shell-quoted values unquoted (as distro does)."""
    lexer = shlex.shlex(text or "", posix=True)
    lexer.whitespace_split = True
    props = {}
    try:
        tokens = list(lexer)
    except ValueError:  # an unbalanced quote: not understood (the caller asks Ansible)
        return {}
    for token in tokens:
        if "=" in token:
            key, value = token.split("=", 1)
            props[key.lower()] = value
    return props


def release_content_version(line):
    """The version distro reads in a "Name 1.2 (codename)" line (``PRETTY_NAME``), or ``""``."""
    match = _RELEASE_CONTENT_REVERSED.match((line or "").strip()[::-1])
    if match and match.group(2):
        return match.group(2)[::-1]
    return ""


def best_version(candidates):
    """distro's ``version(best=True)``: the most dots wins, the earlier candidate keeps a tie."""
    version = ""
    for candidate in candidates:
        if candidate.count(".") > version.count(".") or version == "":
            version = candidate
    return version


def release_files_ansible_reads(basenames):
    """Of the names in /etc, the release files that could change Ansible's answer (sorted)."""
    return sorted(name for name in basenames
                  if (_RELEASE_BASENAME.match(name) and name not in _RELEASE_IGNORED) or name in _CHECKED_BEFORE_OS_RELEASE)


def _claimed_by_an_earlier_parser(text):
    # OSDIST_LIST reads /etc/os-release as Amazon, Arch Linux and SUSE before Debian.
    return "Amazon" in text or "Arch Linux" in text or "suse" in text.lower()


def distribution_facts(os_release_text, debian_version_text=None):
    """``{distribution, distribution_version, distribution_major_version, distribution_release,
    os_family}`` as ``setup`` reports them, for Debian and Ubuntu; ``None`` for anything else (and
    for an os-release without ``ID`` or ``VERSION_ID``: Ansible then guesses from other sources)."""
    text = os_release_text or ""
    props = parse_os_release(text)
    distro_id = props.get("id", "").lower().replace(" ", "_")
    version_id = props.get("version_id", "")
    if not version_id or _claimed_by_an_earlier_parser(text):
        return None
    if distro_id == "debian" and ("Debian" in text or "Raspbian" in text):
        debian_version = (debian_version_text or "").splitlines()[:1]
        version = best_version([version_id, release_content_version(props.get("pretty_name", "")),
                                debian_version[0].rstrip() if debian_version else ""])
        release = _DEBIAN_RELEASE.search(text)
        release = release.group(1) if release else props.get("version_codename")
        if not release:
            return None  # Ansible then asks dpkg about tzdata
        facts = {"distribution": "Debian", "distribution_release": release}
    elif distro_id == "ubuntu" and "Ubuntu" in text and "Debian" not in text and "Raspbian" not in text:
        version = version_id
        codename = props.get("version_codename", props.get("ubuntu_codename"))
        if codename is None:
            return None  # Ansible then asks lsb_release
        facts = {"distribution": "Ubuntu", "distribution_release": codename}
    else:
        return None
    facts.update({"distribution_version": version, "distribution_major_version": version.split(".")[0] or "NA",
                  "os_family": "Debian"})
    return facts
