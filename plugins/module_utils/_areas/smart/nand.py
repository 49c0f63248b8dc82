# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NAND type of known SSD models (``qlc``, ``tlc``, ``mlc``, ``slc``), with the source of each entry.

SMART does not report the NAND type, so the collection keeps this table. Each entry is a regular
expression matched (case-insensitively, anywhere) against the model string smartctl prints, the
type, and where the type was read (the vendor's data sheet or product brief). A model that no
entry matches is ``unknown``: never guessed. Add drives at the end; the first match wins, so put
specific patterns before general ones. Pure data and one function, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

NAND_TYPES = ("qlc", "tlc", "mlc", "slc", "unknown")

# (pattern, nand_type, product, source)
KNOWN_MODELS = (
    # QLC: the drives the cadence warns about when they back a model store or checkpoints.
    (r"SSDPEKNW\d", "qlc", "Intel SSD 660p", "Intel SSD 660p Series product brief (64-layer Intel 3D NAND QLC)"),
    (r"SSDPEKNU\d+T?\d*8", "qlc", "Intel SSD 665p", "Intel SSD 665p product brief (96-layer Intel 3D NAND QLC)"),
    (r"SSDPEKNU\d+\w*F", "qlc", "Intel SSD 670p", "Intel SSD 670p product brief (144-layer Intel 3D NAND QLC)"),
    (r"SSDPFKNU", "qlc", "Solidigm P41 Plus", "Solidigm P41 Plus product brief (144-layer QLC 3D NAND)"),
    (r"860 QVO|MZ-76Q", "qlc", "Samsung 860 QVO", "Samsung 860 QVO data sheet (4-bit MLC V-NAND, i.e. QLC)"),
    (r"870 QVO|MZ-77Q", "qlc", "Samsung 870 QVO", "Samsung 870 QVO data sheet (4-bit MLC V-NAND, i.e. QLC)"),
    (r"CT\d+P1SSD8", "qlc", "Crucial P1", "Crucial P1 product flyer (Micron 3D QLC NAND)"),
    (r"MTFDDA[KV]\d+QDE", "qlc", "Micron 5210 ION", "Micron 5210 ION product brief (QLC NAND)"),
    # TLC
    (r"970 EVO", "tlc", "Samsung 970 EVO / EVO Plus", "Samsung 970 EVO Plus data sheet (3-bit MLC V-NAND, i.e. TLC)"),
    (r"860 EVO|MZ-76E", "tlc", "Samsung 860 EVO", "Samsung 860 EVO data sheet (3-bit MLC V-NAND, i.e. TLC)"),
    (r"870 EVO|MZ-77E", "tlc", "Samsung 870 EVO", "Samsung 870 EVO data sheet (3-bit MLC V-NAND, i.e. TLC)"),
    (r"990 PRO|980 PRO", "tlc", "Samsung 980/990 PRO", "Samsung 980 PRO / 990 PRO data sheets (3-bit MLC V-NAND, i.e. TLC)"),
    (r"MZVL2\w+", "tlc", "Samsung PM9A1", "Samsung PM9A1 product brief (6th-gen V-NAND TLC)"),
    (r"MZ7L3\w+", "tlc", "Samsung PM893", "Samsung PM893 product brief (V6 TLC V-NAND)"),
    (r"SSDPE2KX\w+", "tlc", "Intel SSD DC P4500", "Intel SSD DC P4500 product brief (64-layer 3D NAND TLC)"),
    (r"Micron_7450", "tlc", "Micron 7450", "Micron 7450 product brief (176-layer TLC NAND)"),
    (r"CT\d+MX500", "tlc", "Crucial MX500", "Crucial MX500 product flyer (Micron 3D TLC NAND)"),
    (r"WDS\d+\w*G0E|SN850X", "tlc", "WD_BLACK SN850X", "WD_BLACK SN850X product brief (BiCS5 TLC)"),
    (r"WDS\d+\w*B0C|SN550", "tlc", "WD Blue SN550", "WD Blue SN550 product brief (3D TLC NAND)"),
    (r"SA400", "tlc", "Kingston A400", "Kingston A400 data sheet (TLC NAND)"),
    (r"ZP\d+GM3", "tlc", "Seagate FireCuda 530", "Seagate FireCuda 530 data sheet (3D TLC NAND)"),
    # MLC
    (r"SSDPEDMD\w+|SSDPE2MD\w+", "mlc", "Intel SSD DC P3700", "Intel SSD DC P3700 product brief (20nm HET MLC)"),
    (r"970 PRO|960 PRO|860 PRO|850 PRO", "mlc", "Samsung PRO (850-970)", "Samsung 850/860/960/970 PRO data sheets (2-bit MLC V-NAND)"),
    (r"SSDSC2BB\w+", "mlc", "Intel SSD DC S3500/S3510", "Intel SSD DC S3510 product brief (16nm MLC)"),
)

_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), kind, product, source)
                  for pattern, kind, product, source in KNOWN_MODELS)


def nand_type(model):
    """Return ``(nand_type, source)`` for a model string; ``('unknown', None)`` when not in the table."""
    if not model:
        return "unknown", None
    for regex, kind, product, source in _COMPILED:
        if regex.search(model):
            return kind, "%s: %s" % (product, source)
    return "unknown", None
