"""_tools/ldconfig: ld.so.conf read the way glibc's ldconfig reads it, its includes walked, the cache of ldconfig -p."""

import os
import subprocess

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import ldconfig
from testlib.wsl_tree import make_tree


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    return str(tmp_path_factory.mktemp("libcuda-standins"))


def test_parse_ld_so_conf():
    text = "# comment\ninclude /etc/ld.so.conf.d/*.conf other/*.conf\n/usr/local/lib/\n/opt/x=elf\nhwcap 1 foo\n\n"
    assert ldconfig.parse_ld_so_conf(text) == [
        ("include", "/etc/ld.so.conf.d/*.conf"), ("include", "other/*.conf"),
        ("dir", "/usr/local/lib"), ("dir", "/opt/x")]


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
