"""Debian's own packages of a program, fetched from the Debian archive and unpacked into a directory of
their own (no apt, no root, no change to this machine): the tests' llama-server is Debian's
``llama.cpp-tools`` with the libraries it needs (scripts/llama-server-build), instead of a compile of
several minutes of CPU.

The chain of trust is apt's: the suite's ``InRelease`` checked with ``gpgv`` against Debian's archive
keyring, the ``Packages.xz`` index against the SHA256 that ``InRelease`` lists, and every ``.deb`` against
the SHA256 the index lists. A package whose version moved while we read is fetched again on the next
call (the archive keeps only the current version of a suite).

Usage: python -m testlib.debian_packages --dest DIR [--suite testing] [--mirror URL] [--keyring FILE] ROOT...
prints ``<package> <version>`` of the first ROOT on success; exits 2 with one line on stderr otherwise.
"""

import argparse
import hashlib
import lzma
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

MIRROR = "http://deb.debian.org/debian"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# Dependencies a program that is only run, never installed, does not need: the package manager's own
# (debconf), the helper a wrapper script downloads with, and what every Debian system has.
NOT_NEEDED = frozenset(("debconf", "debconf-2.0", "wget", "curl", "perl-base", "dpkg", "base-files"))


class FetchError(Exception):
    pass


def parse_index(text):
    """A Packages index as {name: {field: value}} (the first stanza of a name wins; continuation lines,
    which the fields read here never use, are skipped)."""
    packages = {}
    stanza = {}
    for line in text.splitlines() + [""]:
        if not line.strip():
            if "Package" in stanza:
                packages.setdefault(stanza["Package"], stanza)
            stanza = {}
        elif not line[0].isspace() and ":" in line:
            key, value = line.split(":", 1)
            stanza[key] = value.strip()
    return packages


def _names(depends):
    """Package names a Depends/Pre-Depends field needs, the first alternative of each clause."""
    names = []
    for clause in depends.split(","):
        first = clause.split("|")[0].strip()
        if first:
            names.append(re.split(r"[\s(:]", first, maxsplit=1)[0])
    return names


def closure(index, roots, not_needed=NOT_NEEDED):
    """The packages ``roots`` need to run, themselves included, sorted by name. A dependency that the
    index does not carry is an error (a virtual package would be one: none of the roots asked for here
    needs one)."""
    seen = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name in not_needed:
            continue
        if name not in index:
            raise FetchError("the index carries no package %s" % name)
        stanza = index[name]
        seen[name] = stanza
        todo.extend(_names(stanza.get("Pre-Depends", "")) + _names(stanza.get("Depends", "")))
    return [seen[name] for name in sorted(seen)]


def release_sha256(inrelease, path):
    """(sha256, size) of ``path`` in the SHA256 list of a Release/InRelease text."""
    in_list = False
    for line in inrelease.splitlines():
        if not line.startswith(" "):
            in_list = line.startswith("SHA256:")
            continue
        if in_list:
            fields = line.split()
            if len(fields) == 3 and fields[2] == path:
                return fields[0], int(fields[1])
    raise FetchError("the Release file lists no SHA256 for %s" % path)


def _get(url, timeout=120):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except OSError as exc:
        raise FetchError("could not fetch %s: %s" % (url, exc)) from exc


def _check(data, sha256, what):
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise FetchError("%s: SHA256 %s, the archive says %s" % (what, got, sha256))


def fetch(dest, roots, suite="testing", mirror=MIRROR, keyring=KEYRING, arch="amd64"):
    """Unpack ``roots`` and what they need into ``dest`` (created); returns the stanzas unpacked."""
    with tempfile.TemporaryDirectory() as work:
        inrelease = os.path.join(work, "InRelease")
        with open(inrelease, "wb") as handle:
            handle.write(_get("%s/dists/%s/InRelease" % (mirror, suite)))
        signed = os.path.join(work, "Release")
        proc = subprocess.run(["gpgv", "--keyring", keyring, "--output", signed, inrelease],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise FetchError("gpgv refused %s's InRelease: %s" % (suite, proc.stderr.strip()[-300:]))
        with open(signed) as handle:
            release = handle.read()
        path = "main/binary-%s/Packages.xz" % arch
        sha256, _size = release_sha256(release, path)
        packed = _get("%s/dists/%s/%s" % (mirror, suite, path))
        _check(packed, sha256, path)
        stanzas = closure(parse_index(lzma.decompress(packed).decode("utf-8", "replace")), roots)
        os.makedirs(dest, exist_ok=True)
        for stanza in stanzas:
            deb = os.path.join(work, os.path.basename(stanza["Filename"]))
            data = _get("%s/%s" % (mirror, stanza["Filename"]))
            _check(data, stanza["SHA256"], stanza["Filename"])
            with open(deb, "wb") as handle:
                handle.write(data)
            proc = subprocess.run(["dpkg-deb", "-x", deb, dest], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise FetchError("dpkg-deb -x %s: %s" % (stanza["Filename"], proc.stderr.strip()))
    # A merged-/usr tree as Debian's base-files leaves it: the programs' interpreter is /lib64/ld-linux...
    for link in ("bin", "lib", "lib64", "sbin"):
        if not os.path.lexists(os.path.join(dest, link)) and os.path.isdir(os.path.join(dest, "usr", link)):
            os.symlink(os.path.join("usr", link), os.path.join(dest, link))
    return stanzas


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--dest", required=True)
    parser.add_argument("--suite", default="testing")
    parser.add_argument("--mirror", default=MIRROR)
    parser.add_argument("--keyring", default=KEYRING)
    parser.add_argument("roots", nargs="+")
    args = parser.parse_args(argv)
    try:
        stanzas = fetch(args.dest, args.roots, args.suite, args.mirror, args.keyring)
    except FetchError as exc:
        print("debian_packages: %s" % exc, file=sys.stderr)
        return 2
    first = [s for s in stanzas if s["Package"] == args.roots[0]][0]
    print("%s %s" % (first["Package"], first["Version"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
