"""testlib.debian_packages: the Packages index read, the dependency closure a program needs to run and the
SHA256 that a Release file lists (what scripts/llama-server-build relies on to fetch Debian's
llama-server), on index text written as the archive writes it; and a fetch from a local archive over
HTTP, signed with a key of the test's own, checked and unpacked."""

import functools
import hashlib
import http.server
import lzma
import os
import shutil
import subprocess
import threading

import pytest

from testlib import debian_packages as dp
from testlib import fake_debs

INDEX = """\
Package: tool
Version: 1:0.7.0+dfsg-2
Depends: libtool0 (= 1:0.7.0+dfsg-2), debconf, wget | curl, debconf (>= 0.5) | debconf-2.0, libc6 (>= 2.43)
Filename: pool/main/t/tool/tool_0.7.0_amd64.deb
SHA256: aa
Description: a tool
 with a long description: Depends: notapackage

Package: libtool0
Version: 1:0.7.0+dfsg-2
Pre-Depends: libzstd1
Depends: libggml0 (>= 0.27.0), libssl3t64:any (>= 3.3.0) | libssl-other, libc6 (>= 2.43)
Filename: pool/main/t/tool/libtool0_0.7.0_amd64.deb
SHA256: bb

Package: libggml0
Version: 0.27.0-1
Depends: libc6 (>= 2.43)
Filename: pool/main/g/ggml/libggml0_0.27.0-1_amd64.deb
SHA256: cc

Package: libssl3t64
Version: 3.6.5-1
Depends: libc6 (>= 2.38)
Filename: pool/main/o/openssl/libssl3t64_3.6.5-1_amd64.deb
SHA256: dd

Package: libzstd1
Version: 1.5.7+dfsg-4
Depends: libc6 (>= 2.34)
Filename: pool/main/libz/libzstd/libzstd1_1.5.7_amd64.deb
SHA256: ee

Package: libc6
Version: 2.43-7
Filename: pool/main/g/glibc/libc6_2.43-7_amd64.deb
SHA256: ff

Package: libc6
Version: 2.42-1
Filename: pool/main/g/glibc/libc6_2.42-1_amd64.deb
SHA256: 00

Package: unrelated
Version: 1
Filename: pool/main/u/unrelated_1_amd64.deb
SHA256: 11
"""


def test_parse_index_keeps_the_first_stanza_of_a_name_and_skips_continuation_lines():
    index = dp.parse_index(INDEX)
    assert sorted(index) == ["libc6", "libggml0", "libssl3t64", "libtool0", "libzstd1", "tool", "unrelated"]
    assert index["libc6"]["Version"] == "2.43-7"
    assert index["tool"]["Description"] == "a tool"
    assert index["libtool0"]["Filename"] == "pool/main/t/tool/libtool0_0.7.0_amd64.deb"


def test_closure_follows_depends_and_pre_depends_first_alternatives_and_drops_what_running_needs_not():
    names = [s["Package"] for s in dp.closure(dp.parse_index(INDEX), ["tool"])]
    # debconf and wget (the first of "wget | curl") are not needed to run the program; ":any" and
    # version constraints are read off; "unrelated" is nobody's dependency.
    assert names == ["libc6", "libggml0", "libssl3t64", "libtool0", "libzstd1", "tool"]


def test_closure_names_a_dependency_the_index_lacks():
    index = dp.parse_index(INDEX)
    del index["libggml0"]
    with pytest.raises(dp.FetchError, match="no package libggml0"):
        dp.closure(index, ["tool"])


RELEASE = """\
Origin: Debian
Suite: testing
MD5Sum:
 11c167e715f255b51ad5152442e2f44f 10093888 main/binary-amd64/Packages.xz
SHA256:
 3ee7e248a1323f66e6bbac87d686442bdc650d66f6a4ffc087a485d49d4c1493 10093888 main/binary-amd64/Packages.xz
 0123 42 main/binary-arm64/Packages.xz
"""


def test_release_sha256_reads_the_sha256_list_not_md5():
    assert dp.release_sha256(RELEASE, "main/binary-amd64/Packages.xz") == (
        "3ee7e248a1323f66e6bbac87d686442bdc650d66f6a4ffc087a485d49d4c1493", 10093888)
    with pytest.raises(dp.FetchError, match="no SHA256 for main/binary-i386/Packages.xz"):
        dp.release_sha256(RELEASE, "main/binary-i386/Packages.xz")


# A fetch end to end: a local archive served over HTTP on 127.0.0.1, its InRelease signed by a key made
# for the test (gpg), two real .deb files built with dpkg-deb (testlib.fake_debs).

@pytest.fixture
def archive(tmp_path):
    for tool in ("gpg", "gpgv", "dpkg-deb"):
        if not shutil.which(tool):
            pytest.fail("%s is missing: scripts/setup installs it" % tool)
    mirror = tmp_path / "mirror"
    debs = {}
    for name, files in (("prog", {"usr/bin/prog": "#!/bin/sh\necho prog\n"}), ("libprog0", {"usr/lib/libprog.so.0": "lib\n"})):
        with open(fake_debs.build_deb(str(tmp_path), name, "1.0", files=files), "rb") as handle:
            debs[name] = handle.read()
    stanzas = []
    for name, data in debs.items():
        filename = "pool/main/p/%s_1.0_amd64.deb" % name
        (mirror / "pool" / "main" / "p").mkdir(parents=True, exist_ok=True)
        (mirror / filename).write_bytes(data)
        depends = "Depends: libprog0 (= 1.0), debconf\n" if name == "prog" else ""
        stanzas.append("Package: %s\nVersion: 1.0\n%sFilename: %s\nSHA256: %s\n" % (
            name, depends, filename, hashlib.sha256(data).hexdigest()))
    packed = lzma.compress("\n".join(stanzas).encode())
    dists = mirror / "dists" / "testing"
    (dists / "main" / "binary-amd64").mkdir(parents=True)
    (dists / "main" / "binary-amd64" / "Packages.xz").write_bytes(packed)
    release = "Suite: testing\nSHA256:\n %s %d main/binary-amd64/Packages.xz\n" % (hashlib.sha256(packed).hexdigest(), len(packed))
    (dists / "Release").write_text(release)
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(home), "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(gpg + ["--quick-gen-key", "archive-test@localhost", "ed25519", "sign", "never"], check=True, capture_output=True)
    subprocess.run(gpg + ["--clearsign", "-o", str(dists / "InRelease"), str(dists / "Release")], check=True, capture_output=True)
    keyring = tmp_path / "keyring.gpg"
    subprocess.run(gpg + ["--export", "-o", str(keyring)], check=True, capture_output=True)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # pylint: disable=arguments-differ
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(mirror)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": "http://127.0.0.1:%d" % server.server_address[1], "keyring": str(keyring), "mirror": mirror}
    server.shutdown()


def test_fetch_checks_the_signature_and_hashes_and_unpacks_the_closure(archive, tmp_path, capsys):
    dest = tmp_path / "tree"
    rc = dp.main(["--dest", str(dest), "--mirror", archive["url"], "--keyring", archive["keyring"], "prog"])
    assert rc == 0
    assert capsys.readouterr().out == "prog 1.0\n"
    assert (dest / "usr" / "bin" / "prog").read_text() == "#!/bin/sh\necho prog\n"
    assert (dest / "usr" / "lib" / "libprog.so.0").read_text() == "lib\n"
    assert os.readlink(str(dest / "lib")) == "usr/lib"


def test_fetch_refuses_a_deb_that_is_not_the_one_the_index_lists(archive, tmp_path, capsys):
    (archive["mirror"] / "pool" / "main" / "p" / "libprog0_1.0_amd64.deb").write_bytes(b"not the package")
    rc = dp.main(["--dest", str(tmp_path / "tree"), "--mirror", archive["url"], "--keyring", archive["keyring"], "prog"])
    assert rc == 2
    assert "pool/main/p/libprog0_1.0_amd64.deb: SHA256" in capsys.readouterr().err


def test_fetch_refuses_an_index_signed_by_a_key_not_in_the_keyring(archive, tmp_path, capsys):
    other = tmp_path / "empty.gpg"
    other.write_bytes(b"")
    rc = dp.main(["--dest", str(tmp_path / "tree"), "--mirror", archive["url"], "--keyring", str(other), "prog"])
    assert rc == 2
    assert "gpgv refused testing's InRelease" in capsys.readouterr().err
    assert not (tmp_path / "tree").exists()
