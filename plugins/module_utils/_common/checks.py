# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One shape for every health check of the collection, and checks declared as data.

A check result is ``{check, status, value, threshold, message, subject}``: ``status`` is ``ok``
(looked, fine), ``warn`` / ``crit`` (looked, found a problem) or ``unknown`` (could not look; the
message says why and what to do). ``subject`` names what the check is about (``{"gpu": 0}``,
``{"device": "/dev/nvme0"}``, ``{"module": "nvidia", "kernel": "6.8.0-45-generic"}``, ``{}`` for
the host itself); :func:`subject_text` is its one written form (``gpu=0``), used alike by alert
keys, Prometheus labels, the report and the history. For compatibility the subject's keys are also
kept at the top level of the result (``check["gpu"]``), as they were before ``subject`` existed.

An area declares its checks as a table of :class:`Check` rows (name, subject keys, thresholds with
their defaults, the fix); its ``checks.py`` turns readings into results with :meth:`Check.level`
and :meth:`Check.result`. Pure functions, no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

STATUSES = ("ok", "unknown", "warn", "crit")
# ``unknown`` is worse than ``ok`` everywhere (rollups, summaries, report cells, alerts, metrics,
# exit decisions): an area nobody could look at is not healthy. A found problem ranks above it.
_RANK = {"ok": 0, "unknown": 1, "warn": 2, "crit": 3}

# Keys that name a check's subject when a caller passes them as keyword arguments (the form the
# checks had before ``subject``): ``make_check("x", "ok", gpu=0)`` has the subject ``{"gpu": 0}``.
# Other keyword arguments (``vendor``, ``name``...) are details, not part of the subject.
SUBJECT_KEYS = ("gpu", "device", "path", "mount", "endpoint", "unit", "service", "container", "image",
                "package", "module", "kernel", "env", "port", "process", "prompt", "model", "file", "target")


class CheckError(ValueError):
    """A check table or a threshold set is malformed."""


def status_rank(status):
    """Rank of a status: ok 0 < unknown 1 < warn 2 < crit 3 (anything else ranks as unknown)."""
    return _RANK.get(status, _RANK["unknown"])


def worst_status(checks_or_statuses):
    """Worst status among checks (dicts with ``status``) or status strings; ``ok`` if empty."""
    worst = "ok"
    for item in checks_or_statuses or ():
        status = item.get("status", "unknown") if isinstance(item, dict) else item
        if status not in _RANK:
            status = "unknown"
        if _RANK[status] > _RANK[worst]:
            worst = status
    return worst


def subject_of(check):
    """The subject dict of a check result (its ``subject``, or the legacy top-level keys)."""
    subject = check.get("subject")
    if isinstance(subject, dict):
        return subject
    return dict((key, check[key]) for key in SUBJECT_KEYS if check.get(key) not in (None, ""))


def subject_text(subject):
    """``{"gpu": 0}`` → ``gpu=0``; ``{"kernel": "6.8", "module": "nvidia"}`` → ``kernel=6.8,module=nvidia``.

    Keys are sorted so the text does not depend on the order a dict was built in; ``{}`` → ``""``.
    """
    if not subject:
        return ""
    return ",".join("%s=%s" % (key, subject[key]) for key in sorted(subject))


def make_check(check, status, value=None, threshold=None, message="", subject=None, **extra):
    """Build one check result.

    ``subject`` (a dict) names what the check is about; when it is not given, the keyword
    arguments named in :data:`SUBJECT_KEYS` make it. Every keyword argument is also kept at the
    top level (``gpu=0`` gives ``check["gpu"] == 0``), as callers and facts had it before.
    """
    if status not in _RANK:
        raise CheckError("status must be one of %s, not %r" % (", ".join(STATUSES), status))
    if subject is None:
        subject = dict((key, extra[key]) for key in SUBJECT_KEYS if extra.get(key) not in (None, ""))
    result = dict(extra)
    for key, value_of_key in subject.items():
        result.setdefault(key, value_of_key)
    result.update(check=check, status=status, value=value, threshold=threshold, message=message,
                  subject=dict(subject))
    return result


def unknown_check(check, reason, fix, value=None, threshold=None, subject=None, **extra):
    """``unknown``: the check could not look. ``reason`` says why, ``fix`` what makes it readable."""
    return make_check(check, "unknown", value, threshold, _join("could not look: %s" % reason, fix),
                      subject=subject, **extra)


def level_check(check, value, warn=None, crit=None, unit="", what=None, fix="", higher_is_worse=True,
                subject=None, absent="unknown", **extra):
    """Compare ``value`` with warn/crit thresholds and return a check.

    ``value`` ``None`` (not reported) is never ``ok``: with ``absent="unknown"`` (the default) the
    check is ``unknown`` (it could not look); with ``absent="omit"`` there is no check at all (None),
    for readings a device may simply not have (a GPU without a memory-junction sensor or a fan).
    ``higher_is_worse=False`` flips the comparison (for spares, free space...).
    The returned ``threshold`` is the one that fired, or the warn threshold when ok.
    """
    what = what or check.replace("_", " ")
    if value is None:
        if absent == "omit":
            return None
        return unknown_check(check, "%s not reported" % what, "the area's warnings say why it could not be read",
                             threshold=warn if warn is not None else crit, subject=subject, **extra)

    def beyond(limit):
        if limit is None:
            return False
        return value >= limit if higher_is_worse else value <= limit

    shown = "%s%s" % (fmt_number(value), unit)
    if beyond(crit):
        return make_check(check, "crit", value, crit,
                          _join("%s is %s (critical at %s%s)" % (what, shown, fmt_number(crit), unit), fix),
                          subject=subject, **extra)
    if beyond(warn):
        return make_check(check, "warn", value, warn,
                          _join("%s is %s (warning at %s%s)" % (what, shown, fmt_number(warn), unit), fix),
                          subject=subject, **extra)
    return make_check(check, "ok", value, warn if warn is not None else crit, "%s is %s" % (what, shown),
                      subject=subject, **extra)


def newer_upstream(row, what, served, in_use, where="the registry", in_use_word="pinned", served_as="", detail="",
                   subject=None, **extra):
    """A newer version upstream, reported one way for images and models: ``warn`` with the upstream identifier as
    the value and the one in use as the threshold, a message naming both (``<what>: the registry now serves
    <served><served_as> (pinned <in_use>)<detail>``) and the row's fix ("read the changelog before ...").
    Nothing is switched: bumping a pin or pulling a model stays a decision."""
    return row.result("warn", served, in_use, "%s: %s now serves %s%s (%s %s)%s" % (
        what, where, served, served_as, in_use_word, in_use, detail), subject=subject, **extra)


def fmt_number(number):
    """85 → ``85``; 85.25 → ``85.2``; 85.0 → ``85``."""
    if isinstance(number, float):
        return ("%.1f" % number).rstrip("0").rstrip(".")
    return str(number)


def _join(message, fix):
    return "%s: %s" % (message, fix) if fix else message


class Check(object):
    """One row of an area's checks table: the data that describes a check.

    ``name``: the ``check`` of its results. ``summary``: what it looks at, in an operator's words
    (docs/checks.md lists it). ``subject``: the keys of the subjects it is about (``("gpu",)``;
    ``()`` for the host). ``thresholds``: ``((option name, default), ...)``; options whose names
    hold the words ``warn`` and ``crit`` (``disk_used_warn_pct``, ``warn_days``) are the warn/crit pair.
    An option is a float unless a third item gives its argument-spec keys
    (``("log_warn_bytes", 1024, {"type": "int"})``, ``("unpinned_status", "warn", {"type": "str",
    "choices": ["ok", "warn", "crit"]})``). ``higher_is_worse``: the pair's direction.
    ``unit``: shown after values. ``fix``: what to do when it fires. ``reads``: the fact paths of the
    readings it judges (``disks[].used_pct``); the history records every one of them, and a unit test
    fails when a path is not among the area's recorded readings. ``or_host``: besides results about
    a subject (``{"gpu": 0}``), the check also gives results about the host as a whole (subject
    ``{}``, e.g. "VRAM below the threshold on every GPU").
    """

    __slots__ = ("name", "summary", "subject", "thresholds", "specs", "higher_is_worse", "unit", "fix", "reads",
                 "or_host")

    def __init__(self, name, summary, subject=(), thresholds=(), higher_is_worse=True, unit="", fix="", reads=(),
                 or_host=False):
        self.name = name
        self.summary = summary
        self.subject = tuple(subject)
        self.thresholds = tuple((row[0], row[1]) for row in thresholds)
        # Argument-spec keys of the options that are not plain floats (third item of a row).
        self.specs = dict((row[0], dict(row[2])) for row in thresholds if len(row) > 2)
        self.higher_is_worse = higher_is_worse
        self.unit = unit
        self.fix = fix
        self.reads = tuple(reads)
        self.or_host = or_host

    def __repr__(self):
        return "Check(%r)" % self.name

    def pair(self):
        """``(warn option, crit option)`` names of the check's threshold pair (either may be None)."""
        warn = crit = None
        for option, _default in self.thresholds:
            words = option.split("_")
            if "warn" in words:
                warn = option
            elif "crit" in words:
                crit = option
        return warn, crit

    def _subject(self, subject):
        subject = dict(subject or {})
        if not subject and self.or_host:
            return subject
        missing = [key for key in self.subject if key not in subject]
        extra = [key for key in subject if key not in self.subject]
        if missing or extra:
            raise CheckError("check %s: subject %r does not have the keys %r" % (self.name, subject, self.subject))
        return subject

    def result(self, status, value=None, threshold=None, message="", subject=None, fix=None, **extra):
        """A result of this check; ``fix`` (default: the table's) is added to non-ok messages."""
        if status != "ok":
            message = _join(message, self.fix if fix is None else fix)
        return make_check(self.name, status, value, threshold, message, subject=self._subject(subject), **extra)

    def unknown(self, reason, subject=None, fix=None, **extra):
        """This check could not look: ``reason``, and the fix (default: the table's)."""
        return unknown_check(self.name, reason, self.fix if fix is None else fix, subject=self._subject(subject),
                             **extra)

    def level(self, value, limits, what, subject=None, fix=None, absent="unknown", **extra):
        """:func:`level_check` with this row's threshold pair read from ``limits``."""
        warn, crit = self.pair()
        return level_check(self.name, value, limits.get(warn) if warn else None, limits.get(crit) if crit else None,
                           unit=self.unit, what=what, fix=self.fix if fix is None else fix,
                           higher_is_worse=self.higher_is_worse, subject=self._subject(subject), absent=absent, **extra)


class CheckTable(object):
    """An area's checks: ``table["gpu_temperature"]`` is a :class:`Check`; iteration keeps the order."""

    def __init__(self, *checks):
        self._checks = tuple(checks)
        self._by_name = {}
        seen = {}
        for check in self._checks:
            if check.name in self._by_name:
                raise CheckError("check %s is declared twice" % check.name)
            self._by_name[check.name] = check
            for option, default in check.thresholds:
                if option in seen and seen[option] != default:
                    raise CheckError("threshold %s has two defaults (%s, %s)" % (option, seen[option], default))
                seen[option] = default
        self._defaults = seen
        self._specs = {}
        for check in self._checks:
            self._specs.update(check.specs)

    def __iter__(self):
        return iter(self._checks)

    def __len__(self):
        return len(self._checks)

    def __getitem__(self, name):
        return self._by_name[name]

    def __contains__(self, name):
        return name in self._by_name

    def names(self):
        return [check.name for check in self._checks]

    def defaults(self):
        """``{threshold option: default}`` of every check: the one place defaults are written."""
        return dict(self._defaults)

    def merged(self, overrides=None):
        """Defaults updated by the overrides that are not None; raises CheckError on unknown names or
        on a warn/crit pair in the wrong order."""
        unknown = sorted(set(overrides or {}) - set(self._defaults))
        if unknown:
            raise CheckError("unknown threshold(s) %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(self._defaults))))
        limits = dict(self._defaults)
        limits.update(dict((k, v) for k, v in (overrides or {}).items() if v is not None))
        problems = []
        for check in self._checks:
            warn, crit = check.pair()
            if not warn or not crit or limits[warn] is None or limits[crit] is None:
                continue
            if check.higher_is_worse and limits[crit] < limits[warn]:
                problems.append("%s (%s) must not be below %s (%s)" % (crit, limits[crit], warn, limits[warn]))
            if not check.higher_is_worse and limits[crit] > limits[warn]:
                problems.append("%s (%s) must not be above %s (%s)" % (crit, limits[crit], warn, limits[warn]))
        if problems:
            raise CheckError("; ".join(problems))
        return limits

    def argument_spec(self):
        """The ``thresholds`` suboptions of a module's argument spec (floats unless a row says
        otherwise, with the defaults)."""
        spec = {}
        for name, default in sorted(self._defaults.items()):
            spec[name] = dict(type="float", default=default)
            spec[name].update(self._specs.get(name) or {})
        return spec
