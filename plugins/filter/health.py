# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over health checks: worst_status, summary_lines."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import STATUSES
from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import worst_status as _worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._summary import summary_lines as _summary_lines


def worst_status(items):
    """Worst of a list of checks or statuses (``ok`` < ``warn`` < ``crit``)."""
    if items is None:
        return "ok"
    if isinstance(items, (str, dict)):
        items = [items]
    try:
        items = list(items)
    except TypeError:
        raise AnsibleFilterError("worst_status expects a list of checks or statuses, got %s" % type(items).__name__)
    for item in items:
        status = item.get("status") if isinstance(item, dict) else item
        if status not in STATUSES:
            raise AnsibleFilterError("worst_status: %r is not a status (expected one of %s)" % (status, ", ".join(STATUSES)))
    return _worst_status(items)


def summary_lines(facts):
    """Summary lines of a dict of gpufleet_* facts."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError("summary_lines expects a dict of gpufleet_* facts, got %s" % type(facts).__name__)
    return _summary_lines(facts)


class FilterModule(object):
    """Health filters."""

    def filters(self):
        return {
            "worst_status": worst_status,
            "summary_lines": summary_lines,
        }
