# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over health checks: worst_status, summary_lines, health_summary."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import STATUSES
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status as _worst_status
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._summary import summary as _summary


def worst_status(items):
    """Worst of a list of checks or statuses (``ok`` < ``unknown`` < ``warn`` < ``crit``)."""
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


def health_summary(facts):
    """``{status, lines, problems}`` of a dict of gpufleet_* facts."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError("health_summary expects a dict of gpufleet_* facts, got %s" % type(facts).__name__)
    return _summary(facts)


def summary_lines(facts):
    """Summary lines of a dict of gpufleet_* facts."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError("summary_lines expects a dict of gpufleet_* facts, got %s" % type(facts).__name__)
    return _summary(facts)["lines"]


class FilterModule(object):
    """Health filters."""

    def filters(self):
        return {
            "worst_status": worst_status,
            "summary_lines": summary_lines,
            "health_summary": health_summary,
        }
