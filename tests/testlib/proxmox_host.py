"""Proxmox VE nodes and guests made of captures, for the proxmox area's tests.

A node is a tree under a root (``/etc/pve``, the PCI bus and IOMMU groups written by ``pci_tree``)
and the answers of ``pvesh`` and ``qm``: a map from the command line (``pvesh get /nodes/testnode/qemu
--output-format json``) to what it prints. The unit tests replay the map through :class:`Replay`
(a ``run_command``); the integration tests install it behind stand-in ``pvesh`` and ``qm`` programs
(:func:`write_standins`) that print the answer of their command line and fail on any other, as an
unknown API path fails. The answers are captures (tests/unit/fixtures/proxmox/PROVENANCE.md); a test
that writes one of its own says so.
"""

import json
import os
import stat

from testlib import pci_tree

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO_ROOT, "tests", "unit", "fixtures")
NODE = "testnode"   # the node of the PVE 6.2 recording


def read(*parts):
    with open(os.path.join(FIXTURES, *parts)) as handle:
        return handle.read()


def api_pve62():
    """The PVE 6.2 API replies recorded for community.proxmox's inventory tests, by API path."""
    return json.loads(read("proxmox", "api-pve62-community-proxmox-inventory-tests.json"))


def vm_list_answer():
    """``pvesh get /nodes/testnode/qemu --output-format json`` of the PVE 6.2 recording (VMs 101-103, template 9001)."""
    return {"pvesh get /nodes/%s/qemu --output-format json" % NODE: {"out": json.dumps(api_pve62()["/nodes/%s/qemu" % NODE])}}


def qm_config_answers(configs):
    """``{vmid: config text}`` → the answers of ``qm config <vmid>``."""
    return dict(("qm config %s" % vmid, {"out": text}) for vmid, text in configs.items())


def node_tree(root, devices):
    """A Proxmox VE node's files under ``root``: ``/etc/pve`` and the PCI bus of ``devices``; returns ``root``."""
    os.makedirs(os.path.join(str(root), "etc", "pve"), exist_ok=True)
    return pci_tree.write(root, devices)


def dmi(text):
    """``name value`` lines (tests/unit/fixtures/proxmox/dmi-*.txt) → ``{name: value}``."""
    return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)


def guest_tree(root, devices, dmi_values):
    """A guest's files under ``root``: DMI strings and the PCI bus of ``devices``; returns ``root``."""
    base = os.path.join(str(root), "sys", "class", "dmi", "id")
    os.makedirs(base, exist_ok=True)
    for name, value in dmi_values.items():
        with open(os.path.join(base, name), "w") as handle:
            handle.write(value + "\n")
    return pci_tree.write(root, devices)


def _command(argv):
    """The command line an answer is keyed by: the program's base name and its arguments (the runner's
    ``timeout -k 5 N`` wrapper removed)."""
    argv = [str(a) for a in argv]
    if os.path.basename(argv[0]) == "timeout":
        argv = argv[4:]
    return " ".join([os.path.basename(argv[0])] + argv[1:])


class Replay:
    """A ``run_command`` answering from the map; records every command line it was asked."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, argv, **_kwargs):
        command = _command(argv)
        self.calls.append(command)
        answer = self.answers.get(command)
        if answer is None:
            return 2, "", "stand-in: no captured answer for %r\n" % command
        return answer.get("rc", 0), answer.get("out", ""), answer.get("err", "")


STANDIN = """#!/usr/bin/python3
# Stand-in for %(tool)s (gpufleet proxmox tests): prints the captured answer of its command line.
import json, os, sys
with open(os.path.join(os.path.dirname(os.path.realpath(__file__)), "answers.json")) as handle:
    answers = json.load(handle)
command = " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:])
answer = answers.get(command)
if answer is None:
    sys.stderr.write("stand-in: no captured answer for %%r\\n" %% command)
    sys.exit(2)
sys.stdout.write(answer.get("out", ""))
sys.stderr.write(answer.get("err", ""))
sys.exit(answer.get("rc", 0))
"""


def write_standins(bindir, answers):
    """``pvesh`` and ``qm`` stand-ins in ``bindir`` answering from ``answers``; returns their paths."""
    os.makedirs(str(bindir), exist_ok=True)
    with open(os.path.join(str(bindir), "answers.json"), "w") as handle:
        json.dump(answers, handle)
    paths = {}
    for tool in ("pvesh", "qm"):
        path = os.path.join(str(bindir), tool)
        with open(path, "w") as handle:
            handle.write(STANDIN % {"tool": tool})
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        paths[tool] = path
    return paths
