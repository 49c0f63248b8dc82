# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform gate of the area ``macos``: is this host macOS at all? The one place that says it.

``_areas/gather.py`` asks :func:`may_apply` before it imports the area when ``only_on_macos`` is true,
so a Linux host pays for one ``uname(2)`` call and not for compiling the area. The area's own
``collect.py`` reads the kernel name and judges it with the functions here, so the gate and the area
cannot disagree.

Standard library only, Python 3.6 syntax (macOS's ``/usr/bin/python3`` runs it), and no import of the
area (importing ``_areas/macos`` would import all of it): this file lies beside the area's folder.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

DARWIN = "Darwin"


def kernel_name():
    """This host's kernel name, what ``uname -s`` prints (``Darwin`` on macOS), or None when it cannot be read."""
    try:
        return os.uname()[0] or None
    except (AttributeError, OSError):
        return None


def certainly_not(kernel):
    """Whether a host whose kernel name is ``kernel`` is certainly not macOS (None: not read, cannot tell)."""
    return bool(kernel) and kernel != DARWIN


def may_apply(options):
    """False only when this host is certainly not macOS; True when it is, or when that cannot be told.

    ``options``: the area's raw options (not validated). With ``bin_dir`` (stand-in tools that replay a
    Mac, for tests) the stand-ins' ``uname`` says which kernel this is, not this host: cannot be told here.
    """
    if options.get("bin_dir"):
        return True
    return not certainly_not(kernel_name())
