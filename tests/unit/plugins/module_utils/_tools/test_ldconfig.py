"""_tools/ldconfig: ld.so.conf read the way glibc's ldconfig reads it, its includes walked, the cache of ldconfig -p."""

import os
import subprocess

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import ldconfig
from testlib.wsl_tree import make_tree


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    return str(tmp_path_factory.mktemp("libcuda-standins"))


# One line of an ld.so.conf file and what glibc's ldconfig makes of it (elf/ldconfig.c, parse_conf and
# add_dir_1 of glibc 2.36, the one Debian 12 ships; the tree test below asks that ldconfig itself).
@pytest.mark.parametrize("line, items", [
    ("", []),
    ("# only a comment", []),
    ("   \t  ", []),
    ("/usr/local/lib", [("dir", "/usr/local/lib")]),
    ("  /usr/local/lib/  # trailing comment", [("dir", "/usr/local/lib")]),
    ("/opt/x=libc6", [("dir", "/opt/x")]),                      # a library type after '=' is cut off
    ("/opt/y = glibc2", [("dir", "/opt/y")]),
    ("/opt/z#=libc6", [("dir", "/opt/z")]),                     # '#' ends the line before the '='
    ("/", []),                                                   # every trailing slash goes: nothing is left
    ("include /etc/ld.so.conf.d/*.conf", [("include", "/etc/ld.so.conf.d/*.conf")]),
    ("include\tld.so.conf.d/*.conf  other.conf", [("include", "ld.so.conf.d/*.conf"), ("include", "other.conf")]),
    ("include   ", []),                                          # an include with no pattern includes nothing
    ("include", [("dir", "include")]),                           # no blank after it: a (relative) directory
    ("includes /x", [("dir", "includes /x")]),
    ("hwcap 0 nosegneg", []),                                    # "hwcap directive ignored"
    ("HWCAP 0 nosegneg", []),                                    # in any case
    ("hwcaps", [("dir", "hwcaps")]),
])
def test_parse_ld_so_conf_line_by_line(line, items):
    assert ldconfig.parse_ld_so_conf(line + "\n") == items


def test_parse_ld_so_conf_keeps_the_order_of_the_file():
    text = "# comment\ninclude /etc/ld.so.conf.d/*.conf other/*.conf\n/usr/local/lib/\n/opt/x=elf\nhwcap 1 foo\n\n"
    assert ldconfig.parse_ld_so_conf(text) == [
        ("include", "/etc/ld.so.conf.d/*.conf"), ("include", "other/*.conf"),
        ("dir", "/usr/local/lib"), ("dir", "/opt/x")]


def _rooted(root):
    """read/expand below ``root``, seeing paths as the host does (what the areas pass in)."""
    def read(path):
        try:
            with open(os.path.join(root, path.lstrip("/"))) as handle:
                return handle.read()
        except OSError:
            return ""

    def expand(pattern):
        import glob
        return sorted("/" + os.path.relpath(p, root) for p in glob.glob(os.path.join(root, pattern.lstrip("/"))))

    return read, expand


def test_conf_dirs_agree_with_the_real_ldconfig(tmp_path):
    """The directories ldconfig -v itself scans from a tree's configuration, in its order: absolute includes
    nested two deep, an include that matches nothing, a file ld.so.conf.d holds but no include names,
    library types, comments, trailing slashes, an upper-case hwcap line and a directory named twice."""
    root = str(tmp_path)
    files = {
        "etc/ld.so.conf": "include /etc/ld.so.conf.d/*.conf\ninclude /opt/vendor/ld.conf /opt/none/*.conf\n"
                          "/opt/last/  # named last\n",
        "etc/ld.so.conf.d/000_cuda.conf": "/usr/local/cuda/compat\n",
        "etc/ld.so.conf.d/libc.conf": "# libc default configuration\n/usr/local/lib\nHWCAP 0 nosegneg\n",
        "etc/ld.so.conf.d/zz.conf.dpkg-old": "/opt/stale\n",
        "opt/vendor/ld.conf": "/opt/typed=libc6\ninclude /opt/vendor/more.conf\n/usr/local/lib\n",
        "opt/vendor/more.conf": "/usr/local/nvidia/lib64\n",
    }
    for path, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as handle:
            handle.write(text)
    for directory in ("usr/local/cuda/compat", "usr/local/lib", "opt/typed", "usr/local/nvidia/lib64", "opt/last",
                      "opt/stale"):
        os.makedirs(os.path.join(root, directory), exist_ok=True)
    proc = subprocess.run(["ldconfig", "-r", root, "-N", "-X", "-v"], capture_output=True, text=True, check=False)
    scanned = [line.split(":", 1)[0] for line in proc.stdout.splitlines()
               if line.startswith("/") and "(from <builtin>" not in line]
    assert scanned == ["/usr/local/cuda/compat", "/usr/local/lib", "/opt/typed", "/usr/local/nvidia/lib64", "/opt/last"], \
        proc.stdout + proc.stderr
    assert ldconfig.conf_dirs(*_rooted(root)) == scanned


def test_relative_includes_are_relative_to_the_including_file():
    """glibc joins a relative pattern to the including file's directory (ldconfig -r refuses them, so no tree test)."""
    files = {"/etc/ld.so.conf": "include ld.so.conf.d/*.conf\n",
             "/etc/ld.so.conf.d/a.conf": "include ../extra.conf\n/a\n",
             "/etc/extra.conf": "/from-extra\n"}

    def expand(pattern):
        import fnmatch
        pattern = os.path.normpath(pattern)
        return sorted(p for p in files if fnmatch.fnmatch(p, pattern))

    assert ldconfig.conf_dirs(lambda p: files.get(p, ""), expand) == ["/from-extra", "/a"]


def test_ld_search_dirs_expands_includes_in_order():
    files = {
        "/etc/ld.so.conf": "include /etc/ld.so.conf.d/*.conf\n/opt/last\n",
        "/etc/ld.so.conf.d/000_cuda.conf": "/usr/local/cuda/compat\n",
        "/etc/ld.so.conf.d/ld.wsl.conf": "/usr/lib/wsl/lib\n",
        "/etc/ld.so.conf.d/x86_64-linux-gnu.conf": "/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n",
    }

    def expand(pattern):
        import fnmatch
        return sorted(p for p in files if fnmatch.fnmatch(p, pattern))

    dirs = ldconfig.ld_search_dirs(lambda p: files.get(p, ""), expand)
    assert dirs == ["/usr/local/cuda/compat", "/usr/lib/wsl/lib", "/lib/x86_64-linux-gnu",
                    "/usr/lib/x86_64-linux-gnu", "/opt/last", "/lib", "/usr/lib", "/lib64", "/usr/lib64"]


def test_ld_search_dirs_survives_an_include_loop():
    files = {"/etc/ld.so.conf": "include /etc/ld.so.conf\n/a\n"}
    dirs = ldconfig.ld_search_dirs(lambda p: files.get(p, ""), lambda p: [p] if p in files else [])
    assert dirs[0] == "/a"


def test_parse_ldconfig_p_and_resolve():
    text = ("3 libs found in cache `/etc/ld.so.cache'\n"
            "\tlibcuda.so.1 (libc6) => /usr/lib/i386-linux-gnu/libcuda.so.1\n"
            "\tlibcuda.so.1 (libc6,x86-64) => /usr/local/cuda/compat/libcuda.so.1\n"
            "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/wsl/lib/libcuda.so.1\n"
            "\tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6\n")
    entries = ldconfig.parse_ldconfig_p(text)
    assert [e["path"] for e in entries][-1] == "/lib/x86_64-linux-gnu/libc.so.6"
    assert len(entries) == 4
    assert ldconfig.resolve_from_cache(entries, "libcuda.so.1", "x86_64") == "/usr/local/cuda/compat/libcuda.so.1"
    assert ldconfig.resolve_from_cache(entries, "libnothing.so.1", "x86_64") is None
    assert ldconfig.resolve_from_cache([], "libcuda.so.1", "x86_64") is None


def test_parse_ldconfig_p_of_a_real_cache(tmp_path, libs):
    root = make_tree(tmp_path, libs, linux_variant="insufficient_driver")
    proc = subprocess.run(["ldconfig", "-p", "-C", os.path.join(root, "etc/ld.so.cache")],
                          capture_output=True, text=True, check=True)
    entries = ldconfig.parse_ldconfig_p(proc.stdout)
    cuda = [e["path"] for e in entries if e["name"] == "libcuda.so.1"]
    # The driver package's directory is listed first (000_...conf sorts before ld.wsl.conf).
    assert cuda == ["/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"]
    assert {"libnvidia-ml.so.1", "libdxcore.so"} <= {e["name"] for e in entries}
