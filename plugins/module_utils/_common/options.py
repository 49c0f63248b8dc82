# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an Ansible argument spec cannot say about options: ranges, and options that exclude each other.

Each function returns a list of problems, one sentence each naming the option, so that an area's
``check_options`` and an operation module can report every problem at once. Pure functions, no
Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import fmt_number


def out_of_range(params, bounds):
    """``bounds``: ``{option: (minimum, maximum)}`` (inclusive, either may be None); options not given
    (None) are not checked. ``{"timeout": 0}``, ``{"timeout": (1, None)}`` → ``["timeout must be at
    least 1 (got 0)"]``."""
    problems = []
    for name in sorted(bounds):
        value = params.get(name)
        if value is None:
            continue
        minimum, maximum = bounds[name]
        if minimum is not None and value < minimum:
            problems.append("%s must be at least %s (got %s)" % (name, fmt_number(minimum), fmt_number(value)))
        elif maximum is not None and value > maximum:
            problems.append("%s must be at most %s (got %s)" % (name, fmt_number(maximum), fmt_number(value)))
    return problems


def exclusive(params, *names):
    """``["since_s and since_days exclude each other: give one of them"]`` when more than one is given."""
    given = [name for name in names if params.get(name) is not None]
    if len(given) > 1:
        return ["%s exclude each other: give one of them" % " and ".join(given)]
    return []
