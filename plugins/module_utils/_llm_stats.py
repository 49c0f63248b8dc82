# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Summary statistics of repeated measurements: median, p95, min, max.

Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def percentile(values, pct):
    """Linear-interpolated percentile (0..100) of a non-empty list of numbers."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= pct <= 100:
        raise ValueError("percentile must be within 0..100, not %r" % (pct,))
    rank = (len(ordered) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(values, digits=4):
    """``{median, p95, min, max}`` of the numbers in ``values`` (``None`` entries are ignored).

    All four are ``None`` when no value was measured.
    """
    numbers = [v for v in values or () if v is not None]
    if not numbers:
        return dict(median=None, p95=None, min=None, max=None)

    def rnd(number):
        return round(number, digits)

    return dict(median=rnd(percentile(numbers, 50)), p95=rnd(percentile(numbers, 95)),
                min=rnd(min(numbers)), max=rnd(max(numbers)))
