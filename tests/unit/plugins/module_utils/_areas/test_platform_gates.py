"""The platform gates (_areas/wsl_gate.py, macos_gate.py, proxmox_gate.py): what each says on built trees,
and that the area's own collector says the same (the gate is its test, not a copy of it).

A gate says False ("certainly not this platform") only from what it read; where it cannot tell it says
True and the area runs. Expected values come from the fixtures (quoted) and the trees built here.
"""

import ast
import os
import sys

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import macos_gate, proxmox_gate, registry, wsl_gate
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos import AREA as MACOS
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.macos import collect as macos_collect
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.proxmox import AREA as PROXMOX
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.proxmox import collect as proxmox_collect
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import AREA as WSL
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import collect as wsl_collect
from testlib import proxmox_host, wsl_tree

AREAS = os.path.dirname(registry.__file__)


def no_command(args, **_kwargs):
    raise AssertionError("no command may run here, ran %r" % (args,))


# --- the table ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, option", sorted(registry.PLATFORM_OPTIONS.items()))
def test_each_platform_area_has_its_option_and_its_fact_is_known_without_importing_it(name, option):
    area = registry.area(name)
    assert name in registry.GATHERED
    assert registry.fact_name(name) == area.fact == "gpufleet_" + name
    assert area.argument_spec()[option] == {"type": "bool", "default": False}
    assert callable(registry.platform_gate(name))


def test_only_the_platform_areas_have_a_gate():
    assert sorted(registry.PLATFORM_OPTIONS) == ["macos", "proxmox", "wsl"]
    with pytest.raises(KeyError, match="area 'gpu' has no platform gate"):
        registry.platform_gate("gpu")


def _imports(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


@pytest.mark.parametrize("name", sorted(registry.PLATFORM_OPTIONS))
def test_a_gate_imports_the_standard_library_only_and_the_registry_imports_it_plainly(name):
    # No import of the area (that would import all of it) nor of Ansible, only the standard library and another
    # gate: a gate costs a host next to nothing.
    areas_package = registry.__name__.rsplit(".", 1)[0]
    for node in _imports(os.path.join(AREAS, name + "_gate.py")):
        modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module]
        for module in modules:
            if module.startswith(areas_package + "."):
                assert module.endswith("_gate") and module != "%s.%s_gate" % (areas_package, name), module
            else:
                assert module.split(".")[0] in sys.stdlib_module_names, module
    # AnsiballZ packages what a plain "from ... import" names, inside a function too (registry.py's note).
    plain = [(node.module, [alias.name for alias in node.names]) for node in _imports(registry.__file__)
             if isinstance(node, ast.ImportFrom)]
    assert (registry.__name__.rsplit(".", 1)[0], [name + "_gate"]) in plain


# --- wsl: /proc/version -------------------------------------------------------------------------

@pytest.mark.parametrize("proc_version, may_apply, reported", [
    ("proc-version-wsl2-5.4.72-oe-user.txt", True, True),       # "5.4.72-microsoft-standard-WSL2"
    ("proc-version-wsl1-4.4.0-19041.txt", True, True),          # "4.4.0-19041-Microsoft"
    ("proc-version-linux-6.18.44-this-ci-machine.txt", False, False),  # "6.18.44-fc-v657": no Microsoft
    (None, True, True),                                         # no /proc/version: cannot tell, unknown
    ("", False, False),                                         # read, and empty: no WSL kernel string
])
def test_the_wsl_gate_and_the_wsl_collector_agree(tmp_path, proc_version, may_apply, reported):
    root = str(tmp_path / "root")
    os.makedirs(root)
    if proc_version:
        wsl_tree.place(root, "/proc/version", wsl_tree.fixture(proc_version))
    elif proc_version == "":
        wsl_tree.place(root, "/proc/version", os.devnull)
    assert wsl_gate.may_apply({"only_on_wsl": True, "root": root}) is may_apply
    data, _warnings = wsl_collect.collect(wsl_tree.run_command, WSL.validate({"only_on_wsl": True, "root": root}),
                                          environ={}, python=None)
    assert (data is not None) is reported
    if proc_version is None:
        assert data["_unread"]["proc_version"].startswith("could not read /proc/version")


def test_the_wsl_gate_reads_proc_version_path_below_root(tmp_path):
    root = str(tmp_path)
    wsl_tree.place(root, "/captures/version", wsl_tree.fixture("proc-version-linux-6.18.44-this-ci-machine.txt"))
    assert wsl_gate.may_apply({"root": root, "proc_version_path": "/captures/version"}) is False
    assert wsl_gate.may_apply({"root": root}) is True   # /proc/version itself is not there
    # absolute, with root / (None: the default), as the daily's gather test passes a capture
    assert wsl_gate.may_apply({"root": None, "proc_version_path": os.path.join(root, "captures", "version")}) is False


@pytest.mark.parametrize("options", [
    {"root": 5}, {"root": ["/"]}, {"root": "~/image"}, {"root": "$IMAGE"}, {"proc_version_path": 7},
    {"proc_version_path": "~/version"}, {"root": "/no/such/tree"}, {"root": "/tmp/\0"},
])
def test_the_wsl_gate_says_may_apply_where_it_cannot_tell(options):
    assert wsl_gate.may_apply(options) is True


def test_a_mac_is_never_wsl_and_its_tree_is_read_only_at_the_root():
    assert wsl_gate.darwin("/", "Darwin") and wsl_gate.darwin("", "Darwin")
    assert not wsl_gate.darwin("/srv/wsl-image", "Darwin")   # a tree below a root is read, whatever runs
    assert not wsl_gate.darwin("/", "Linux")


@pytest.mark.parametrize("text, is_wsl", [
    ("Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1)", True),
    ("Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com)", True),
    ("Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)", False),
    ("", False), (None, False),
])
def test_the_wsl_kernel_string_test_is_the_parsers(text, is_wsl):
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import parse
    assert wsl_gate.wsl_kernel(text) is is_wsl
    assert parse.parse_proc_version(text)["is_wsl"] is is_wsl


# --- macos: the kernel name ---------------------------------------------------------------------

def test_what_the_macos_gate_makes_of_a_kernel_name():
    assert macos_gate.certainly_not("Linux") and macos_gate.certainly_not("FreeBSD")
    assert not macos_gate.certainly_not("Darwin")
    assert not macos_gate.certainly_not(None)   # not read: cannot tell


def test_on_a_linux_host_the_macos_gate_and_collector_agree_without_a_command(monkeypatch):
    # the host's uname(2) answers Linux (this machine's does; any machine's, patched, so the test runs everywhere)
    monkeypatch.setattr(os, "uname", lambda: ("Linux", "box1", "6.1.0-18-amd64", "#1 SMP", "x86_64"))
    assert macos_gate.kernel_name() == "Linux"
    assert macos_gate.may_apply({"only_on_macos": True}) is False
    assert MACOS.gather(no_command, MACOS.validate({"only_on_macos": True})) == (None, [])
    fact, warnings = MACOS.gather(no_command, MACOS.validate({}))
    assert warnings == [] and (fact["is_macos"], fact["kernel_name"], fact["status"]) == (False, "Linux", "ok")


def test_with_stand_ins_the_macos_gate_leaves_it_to_their_uname(tmp_path):
    # bin_dir replays a host (a Mac here): the kernel name is its uname's, not this machine's
    assert macos_gate.may_apply({"only_on_macos": True, "bin_dir": str(tmp_path)}) is True


def test_a_kernel_name_that_cannot_be_read_lets_the_macos_area_run_and_say_unknown(monkeypatch):
    def uname():
        raise OSError("uname(2) failed")

    monkeypatch.setattr(os, "uname", uname)
    assert macos_gate.kernel_name() is None and macos_gate.may_apply({"only_on_macos": True}) is True
    fact, _warnings = MACOS.gather(no_command, MACOS.validate({"only_on_macos": True, "check_updates": False}))
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("macos", "unknown")]
    assert "the kernel name could not be read" in fact["checks"][0]["message"]
    assert macos_collect.macos_gate is macos_gate


# --- proxmox: /etc/pve and DMI ------------------------------------------------------------------

def _dmi_tree(root, values):
    base = os.path.join(root, "sys", "class", "dmi", "id")
    os.makedirs(base)
    for name, value in values.items():
        with open(os.path.join(base, name), "w") as handle:
            handle.write(value + "\n")


@pytest.mark.parametrize("kind, may_apply, role", [
    ("node", True, "host"),      # /etc/pve exists
    ("guest", True, "guest"),    # DMI: sys_vendor QEMU (dmi-qemu-guest.txt)
    ("dell", False, "none"),     # DMI: Dell Inc., no /etc/pve
    ("bare", False, "none"),     # no DMI files, no /etc/pve
])
def test_the_proxmox_gate_and_the_proxmox_collector_agree(tmp_path, kind, may_apply, role):
    root = str(tmp_path / kind)
    os.makedirs(root)
    if kind == "node":
        os.makedirs(os.path.join(root, "etc", "pve"))
    elif kind == "guest":
        _dmi_tree(root, proxmox_host.dmi(proxmox_host.read("proxmox", "dmi-qemu-guest.txt")))
    elif kind == "dell":
        _dmi_tree(root, {"sys_vendor": "Dell Inc.", "product_name": "PowerEdge R740"})
    assert proxmox_gate.may_apply({"only_on_proxmox": True, "root": root}) is may_apply
    replay = proxmox_host.Replay({})
    data, _warnings = proxmox_collect.collect(replay, PROXMOX.validate({"root": root, "pvesh_path": "/nonexistent/pvesh"}))
    assert data["role"] == role
    if not may_apply:
        assert proxmox_collect.collect(replay, PROXMOX.validate({"root": root, "only_on_proxmox": True})) == (None, [])


@pytest.mark.parametrize("options", [{"root": 5}, {"root": "~/pve"}, {"root": "$PVE_ROOT"}, {"root": "/tmp/\0"}])
def test_the_proxmox_gate_says_may_apply_where_it_cannot_tell(options):
    assert proxmox_gate.may_apply(options) is True
