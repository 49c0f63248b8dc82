# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One shape for every health check of the collection.

A check is ``{check, status, value, threshold, message}`` (plus optional keys such as ``gpu``
or ``device``); ``status`` is ``ok``, ``warn`` or ``crit``. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

STATUSES = ("ok", "warn", "crit")
_RANK = {"ok": 0, "warn": 1, "crit": 2}


def make_check(check, status, value=None, threshold=None, message="", **extra):
    """Build one check dict; ``extra`` keys (``gpu``, ``device``, ``path``...) come first."""
    if status not in _RANK:
        raise ValueError("status must be one of %s, not %r" % (", ".join(STATUSES), status))
    result = dict(extra)
    result.update(
        check=check,
        status=status,
        value=value,
        threshold=threshold,
        message=message,
    )
    return result


def status_rank(status):
    """Rank of a status (ok=0, warn=1, crit=2); unknown values rank as ok."""
    return _RANK.get(status, 0)


def worst_status(checks_or_statuses):
    """Worst status among checks (dicts with ``status``) or plain status strings; ``ok`` if empty."""
    worst = "ok"
    for item in checks_or_statuses or ():
        status = item.get("status", "ok") if isinstance(item, dict) else item
        if status_rank(status) > status_rank(worst):
            worst = status
    return worst


def level_check(check, value, warn=None, crit=None, unit="", what=None, fix="", higher_is_worse=True, **extra):
    """Compare ``value`` with warn/crit thresholds and return a check.

    ``value`` ``None`` (not reported) gives an ``ok`` check that says so, never an alarm.
    ``higher_is_worse=False`` flips the comparison (for spares, free space...).
    The returned ``threshold`` is the one that fired, or the warn threshold when ok.
    """
    what = what or check.replace("_", " ")
    if value is None:
        return make_check(check, "ok", None, warn if warn is not None else crit,
                          "%s not reported" % what, **extra)

    def beyond(limit):
        if limit is None:
            return False
        return value >= limit if higher_is_worse else value <= limit

    shown = "%s%s" % (_fmt(value), unit)
    if beyond(crit):
        return make_check(check, "crit", value, crit, _join("%s is %s (critical at %s%s)" % (what, shown, _fmt(crit), unit), fix), **extra)
    if beyond(warn):
        return make_check(check, "warn", value, warn, _join("%s is %s (warning at %s%s)" % (what, shown, _fmt(warn), unit), fix), **extra)
    return make_check(check, "ok", value, warn if warn is not None else crit, "%s is %s" % (what, shown), **extra)


def _fmt(number):
    if isinstance(number, float):
        return ("%.1f" % number).rstrip("0").rstrip(".")
    return str(number)


def _join(message, fix):
    return "%s: %s" % (message, fix) if fix else message
