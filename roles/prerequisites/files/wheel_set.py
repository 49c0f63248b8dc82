# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn pip's installation report of a resolved wheel set into what the hosts get (run on the controller).

    python wheel_set.py ARCHIVE SETFILE PYTHON_VERSION < report.json

``report.json`` is ``pip install --dry-run --report -`` output. Writes ARCHIVE, one tar of the
set's wheel files under their base names (one transfer per host instead of one per wheel), and
SETFILE, the set's description: Python version, pinned requirements, sha256 of every wheel and the
archive's path. Both are written atomically; SETFILE last, so a SETFILE always has its archive.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import sys
import tarfile

try:
    from urllib.parse import unquote, urlsplit
except ImportError:  # pragma: no cover - Python 2 has no place here, but sanity compiles for it
    from urlparse import urlsplit  # type: ignore
    from urllib import unquote  # type: ignore


def describe(report, python, archive):
    """The set's description from pip's report: {python, requirements, sha256, archive}."""
    requirements = []
    sha256 = {}
    files = []
    for item in report["install"]:
        meta = item["metadata"]
        info = item["download_info"]
        path = unquote(urlsplit(info["url"]).path)
        requirements.append("%s==%s" % (meta["name"], meta["version"]))
        sha256[os.path.basename(path)] = info["archive_info"]["hashes"]["sha256"]
        files.append(path)
    return {"python": python, "requirements": sorted(requirements), "sha256": sha256, "archive": archive}, files


def write(archive, setfile, python, report):
    description, files = describe(report, python, archive)
    for path in (archive, setfile):
        directory = os.path.dirname(path)
        if directory and not os.path.isdir(directory):
            os.makedirs(directory)
    with tarfile.open(archive + ".part", "w") as tar:
        for path in files:
            tar.add(path, arcname=os.path.basename(path))
    os.rename(archive + ".part", archive)
    with open(setfile + ".part", "w") as handle:
        json.dump(description, handle, indent=2, sort_keys=True)
    os.rename(setfile + ".part", setfile)
    return description


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: wheel_set.py ARCHIVE SETFILE PYTHON_VERSION < pip-report.json\n")
        return 2
    description = write(argv[1], argv[2], argv[3], json.load(sys.stdin))
    sys.stdout.write("%d wheels for Python %s in %s\n" % (len(description["sha256"]), argv[3], argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
