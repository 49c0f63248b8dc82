# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one clock of the controller-side code: history, report, trends and alerts take "now" from here.

:func:`now` returns, in this order: the task's explicit ``now`` argument (Unix seconds), the
``gpufleet_now`` variable of the play (inventory, ``-e gpufleet_now=...``), the ``GPUFLEET_NOW``
environment variable of the controller, else the controller's clock. A test or a replay of a
simulated timeline sets one of them and every action of the run sees the same simulated day.
A value that is not a number is an error that says so, never a silent fall back to the real clock.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

VARIABLE = "gpufleet_now"
ENVIRONMENT = "GPUFLEET_NOW"


class ClockError(ValueError):
    """The simulated time that was set is not a number of Unix seconds."""


def _number(value, source):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ClockError("%s must be a time in Unix seconds (a number), got %r: fix it or unset it to use the "
                         "controller's clock" % (source, value))
    if number != number or number < 0:
        raise ClockError("%s must be a time in Unix seconds >= 0, got %r" % (source, value))
    return number


def now(explicit=None, variable=None, environ=None, clock=time.time):
    """The time of this run in Unix seconds (see the module's docstring for the order).

    ``variable`` is the templated value of ``gpufleet_now`` (None when unset); see :func:`of_action`.
    """
    if explicit is not None:
        return _number(explicit, "now")
    value = variable
    if value not in (None, ""):
        return _number(value, VARIABLE)
    value = (os.environ if environ is None else environ).get(ENVIRONMENT)
    if value not in (None, ""):
        return _number(value, ENVIRONMENT)
    return clock()


def of_action(action, explicit, task_vars):
    """:func:`now` for an action plugin: ``gpufleet_now`` templated with the action's templar."""
    value = (task_vars or {}).get(VARIABLE)
    if value is not None:
        value = action._templar.template(value)
    return now(explicit, value)
