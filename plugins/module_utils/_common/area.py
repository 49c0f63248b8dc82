# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A health area: what it reads, how it judges it, and how it is shown, in one object.

Every area package under ``_areas/`` defines ``AREA = Area(...)``; ``_areas/registry.py`` lists
them. The registry is the one place that says which fact an area sets (``fact``), its options
(``options`` plus the thresholds of its checks table), its checks (``checks``), its history
readings (``readings``), its Prometheus metrics (``metrics``) and its summary lines (``present``).
``health_facts``, the ``*_facts`` modules, the summary, the report, the metrics and the history
all read it. No Ansible import except the argument-spec validator.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import (
    CheckError,
    CheckTable,
    worst_status,
)
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.options import out_of_range


class AreaError(ValueError):
    """Bad options for an area, or an area that cannot be gathered with them."""


class Area(object):
    """One health area.

    ``name``: the area (``gpu``); ``fact``: the fact it sets (default ``gpufleet_<name>``);
    ``title``: its summary heading. ``options``: the argument spec of its options, thresholds
    excluded (they come from ``checks``). ``collect(run_command, params)`` → ``(data, warnings)``
    reads the host (I/O only); ``evaluate(data, params)`` → check results (pure); when
    ``evaluate`` is None, ``collect`` returns the whole fact (an area not yet split, or one set by
    an operation module). Keys of ``data`` that start with ``_`` are for ``evaluate`` only (what a
    tool said, to judge it) and are left out of the fact. ``check_options(params)`` → a list of
    problems, each naming its option (``timeout must be at least 1 second, got 0``): what an
    argument spec cannot say, such as ranges. ``present(fact)`` → summary lines. ``readings``: the
    :class:`~.readings.Reading` rows the history records (nothing else is recorded). ``metrics(fact, families)`` adds
    its Prometheus metrics. Keys of ``data`` that start with ``_`` are for ``evaluate`` only (what a
    tool said, to judge it) and are left out of the fact. ``collect`` returns ``None`` as its data when
    an option asked for nothing on a host the area does not apply to (the wsl area's ``only_on_wsl``
    off WSL): the fact is then ``None`` ("not reported"), which also replaces a cached older one.

    What an argument spec cannot say about options: ``ranges``, ``{option: (minimum, maximum)}``
    (either None) for numeric options (``timeout`` at least 1: 0 would mean no timeout at all), and
    ``check_options(params)`` → a list of problems for the rest (options that exclude each other).
    """

    def __init__(self, name, title, summary="", checks=None, options=None, collect=None, evaluate=None,
                 present=None, readings=None, metrics=None, schema_version=1, fact=None, module=None,
                 flat_thresholds=False, ranges=None, check_options=None):
        self.name = name
        self.fact = fact or "gpufleet_%s" % name
        self.title = title
        self.summary = summary
        self.checks = checks if checks is not None else CheckTable()
        self.options = dict(options or {})
        self.collect = collect
        self.evaluate = evaluate
        self.present = present
        self.readings = tuple(readings or ())
        self.metrics = metrics
        self.schema_version = schema_version
        self.module = module
        # True: the thresholds are top-level options (tls_facts' warn_days/crit_days), not a dict.
        self.flat_thresholds = flat_thresholds
        self.ranges = dict(ranges or {})
        self.check_options = check_options

    def __repr__(self):
        return "Area(%r)" % self.name

    def argument_spec(self):
        """The area's options as an Ansible argument spec (``thresholds`` from its checks table)."""
        spec = dict(self.options)
        defaults = self.checks.argument_spec()
        if defaults and self.flat_thresholds:
            spec.update(defaults)
        elif defaults:
            spec["thresholds"] = dict(type="dict", default={}, options=defaults)
        return spec

    def validate(self, params):
        """Validated options (defaults filled, types converted, thresholds merged and ordered).

        Options given as None count as not given (the role passes None for "the default").
        Raises :class:`AreaError` naming the area and the option.
        """
        given = dict((key, value) for key, value in (params or {}).items() if value is not None)
        if isinstance(given.get("thresholds"), dict):
            given["thresholds"] = dict((k, v) for k, v in given["thresholds"].items() if v is not None)
        spec = self.argument_spec()
        unknown = sorted(set(given) - set(spec))
        if unknown:
            raise AreaError("%s: unknown option(s) %s (known: %s)" % (self.name, ", ".join(unknown), ", ".join(sorted(spec))))
        thresholds = (spec.get("thresholds") or {}).get("options")
        if thresholds and isinstance(given.get("thresholds"), dict):
            unknown = sorted(set(given["thresholds"]) - set(thresholds))
            if unknown:
                raise AreaError("%s: unknown threshold(s) %s (known: %s)"
                                % (self.name, ", ".join(unknown), ", ".join(sorted(thresholds))))
        result = ArgumentSpecValidator(spec).validate(given)
        if result.error_messages:
            raise AreaError("%s: %s" % (self.name, "; ".join(result.error_messages)))
        return self.checked(result.validated_parameters)

    def checked(self, params):
        """What an argument spec cannot say: the thresholds merged with the table's defaults and
        each warn/crit pair in order. ``params`` were validated by the spec (a module's, or
        :meth:`validate`'s); returns a new dict. Raises :class:`AreaError` naming the option."""
        params = dict(params)
        self._check_options(params)
        defaults = self.checks.defaults()
        if defaults:
            given = dict((k, params.get(k)) for k in defaults) if self.flat_thresholds else params.get("thresholds")
            try:
                limits = self.checks.merged(given)
            except CheckError as exc:
                raise AreaError("%s: thresholds: %s" % (self.name, exc))
            if self.flat_thresholds:
                params.update(limits)
            params["thresholds"] = limits
        problems = self.check_options(params) if self.check_options is not None else []
        if problems:
            raise AreaError("%s: %s" % (self.name, "; ".join(problems)))
        return params

    def _check_options(self, params):
        problems = out_of_range(params, self.ranges)
        if self.check_options is not None:
            problems.extend(self.check_options(params))
        if problems:
            raise AreaError("%s: %s" % (self.name, "; ".join(problems)))

    def gather(self, run_command, params):
        """``(fact, warnings)`` with validated ``params``: collect, then judge, then roll up."""
        if self.collect is None:
            raise AreaError("%s: this area is set by %s, not gathered by health_facts" % (self.name, self.module))
        data, warnings = self.collect(run_command, params)
        if data is None:
            return None, list(warnings)
        if self.evaluate is None:
            return data, list(warnings)
        # None: a check with nothing to judge (a reading the device does not have); not a verdict.
        checks = [check for check in self.evaluate(data, params) if check is not None]
        undeclared = sorted(set(c.get("check") for c in checks) - set(self.checks.names()))
        if undeclared:
            # A programming error, found by any test that gathers the area: every check is a table row.
            raise AreaError("%s: internal error: check(s) %s are not in the area's checks table"
                            % (self.name, ", ".join(map(str, undeclared))))
        fact = dict(schema_version=self.schema_version)
        fact.update((key, value) for key, value in data.items() if not key.startswith("_"))
        if "thresholds" in params:
            fact["thresholds"] = params["thresholds"]
        fact.update(checks=checks, status=worst_status(checks))
        return fact, list(warnings)
