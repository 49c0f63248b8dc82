# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Attributes shared by the read-only ``*_facts`` modules."""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
  facts:
    support: full
    description: Sets one namespaced fact (see RETURN) with a C(schema_version).
notes:
  - Every check has the shape C({check, subject, status, value, threshold, message}); C(status) is
    C(ok) (looked, fine), C(warn) or C(crit) (looked, a problem) or C(unknown) (could not look; the
    message says why and how to fix it), and the fact's C(status) is the worst of them, in the order
    ok < unknown < warn < crit. C(subject) names what the check is about, a dict such as C(gpu=0) or C(device=/dev/nvme0) written as key and value, empty for the host.
  - C(null) in a fact means "not reported"; units are in the key names (C(_c), C(_w), C(_mib),
    C(_bytes), C(_pct), C(_s)).
"""
