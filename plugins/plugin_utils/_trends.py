# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Trend checks: signals that need the past, judged from the controller-side history.

Each check reads the series the history holds for one host and subject over a window (the
``trends`` rows of :func:`_history.trends`: ``{host, metric, subject, points, last, slope_per_30d}``)
and returns a check in the common shape (``make_check``: subject, value, threshold, message with
the fix). A series with fewer points than ``min_points`` is waiting (not a verdict), saying how many more
runs it needs; a subject the history never saw gives no check at all (a host without a GPU has no
junction trend). :func:`facts` turns the rows into one ``gpufleet_trends`` fact per host, which the
report, the summary, the alerts and the history take like the fact of any area.

The checks (enable them by name in ``enabled``):

``memory_junction``   GPU memory-junction temperature: ``warn`` at ``junction_warn_c`` (92 °C, where
                      the guides see ECC errors begin) or a sustained rise over the window of at least
                      ``junction_rise_warn_per_30d`` °C per 30 days; ``crit`` at ``junction_crit_c``
                      when set.
``tbw``               SMART days until the rated TBW at the write rate over the window (slope of data
                      written): ``warn`` under ``tbw_warn_days``, ``crit`` under ``tbw_crit_days``.
``disk_fill``         Days until a filesystem is full at the rate of ``host.disks.used_pct`` over the
                      window: ``warn`` under ``disk_fill_warn_days``, ``crit`` under ``disk_fill_crit_days``.
``ttft``              Time to first token now (median of the newest third of the points) against the
                      baseline (median of the oldest third): ``warn`` at ``ttft_warn_ratio`` times the
                      baseline, ``crit`` at ``ttft_crit_ratio``.
``tokens_per_s``      Generation speed now against the baseline, the same way: ``warn`` when it fell to
                      ``tokens_warn_ratio`` of it, ``crit`` at ``tokens_crit_ratio``.
``request_volume``    The front door's requests per hour this run (the weekly access review) against the
                      median of the earlier runs in the window: ``warn`` at ``volume_warn_ratio`` times it,
                      ``crit`` at ``volume_crit_ratio``, and ``warn`` when it fell to ``volume_drop_warn_ratio``.

Pure functions, no Ansible import; the slope is :func:`_history.slope_per_30_days` (least squares).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import make_check, worst_status
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import day
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._history import slope_per_30_days
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._report import like

FACT = "gpufleet_trends"
AREA = "trends"
DAY_S = 86400.0
TB = 1e12

DEFAULTS = {
    "min_points": 3,
    "junction_warn_c": 92.0,
    "junction_crit_c": None,
    "junction_rise_warn_per_30d": 3.0,
    "tbw_warn_days": 180,
    "tbw_crit_days": 30,
    "disk_fill_warn_days": 30,
    "disk_fill_crit_days": 7,
    "ttft_warn_ratio": 2.0,
    "ttft_crit_ratio": 5.0,
    "tokens_warn_ratio": 0.7,
    "tokens_crit_ratio": 0.5,
    "volume_warn_ratio": 3.0,
    "volume_crit_ratio": 10.0,
    "volume_drop_warn_ratio": 0.25,
}

# The history metrics each check reads (SQL LIKE patterns, ``\\_`` is a literal underscore).
METRICS = {
    "memory_junction": ("gpu.%memory\\_temperature\\_c",),
    "tbw": ("smart.devices.data\\_written\\_bytes", "smart.devices.rated\\_tbw"),
    "disk_fill": ("host.disks.used\\_pct",),
    # the benchmark area's per-prompt medians (model=...,prompt=...): the p95 and throughput follow them
    "ttft": ("benchmark.probe.results.ttft\\_s.median",),
    "tokens_per_s": ("benchmark.probe.results.decode\\_tokens\\_per\\_s.median",),
    # the access area's weekly requests per hour over the hours its log covers (host-wide, no subject)
    "request_volume": ("access.requests\\_per\\_hour",),
}
CHECK_NAMES = tuple(sorted(METRICS))

_FIX_JUNCTION = ("clean the heatsink and fans, check the case airflow, and repaste or replace the thermal pads "
                 "(pads dry out over the months); lower the power limit until then")
_FIX_TBW = "plan the replacement of this drive and move write-heavy data (logs, caches, scratch) elsewhere"
_FIX_DISK = "free space (old models, images, logs: docker_hygiene, log_rotate) or grow the filesystem"
_FIX_VOLUME_UP = ("see who sends them (the access review's unknown_clients and busiest hours): a leaked key, a runaway "
                  "client or new users; rate-limit at the door (nginx limit_req) if it is abuse")
_FIX_VOLUME_DOWN = ("check the door from a client (DNS, certificate, firewall, the runner behind it): clients may no "
                    "longer reach it, or moved elsewhere")
_FIX_TTFT = ("look at what changed since the baseline: runner or driver update, a bigger model or context, "
             "VRAM spilling to the CPU (vram_guard), thermal throttling")


class TrendError(ValueError):
    """A threshold or a check name is not usable."""


def thresholds(overrides=None):
    """:data:`DEFAULTS` with ``overrides`` (unknown keys are an error that names them)."""
    merged = dict(DEFAULTS)
    unknown = sorted(set(overrides or {}) - set(DEFAULTS))
    if unknown:
        raise TrendError("unknown trend threshold(s) %s; known: %s" % (", ".join(unknown), ", ".join(sorted(DEFAULTS))))
    for key, value in (overrides or {}).items():
        merged[key] = None if value is None else float(value)
    if merged["min_points"] is None or merged["min_points"] < 2:
        raise TrendError("min_points must be at least 2 (a trend needs two points), got %r" % merged["min_points"])
    merged["min_points"] = int(merged["min_points"])
    return merged


def patterns(enabled):
    """The LIKE patterns of the history metrics the ``enabled`` checks read."""
    unknown = sorted(set(enabled or ()) - set(METRICS))
    if unknown:
        raise TrendError("unknown trend check(s) %s; known: %s" % (", ".join(unknown), ", ".join(CHECK_NAMES)))
    result = []
    for name in sorted(set(enabled or ())):
        for pattern in METRICS[name]:
            if pattern not in result:
                result.append(pattern)
    return result


def parse_subject(text):
    """``gpu=0`` → ``{"gpu": "0"}``; ``""`` → ``{}`` (the inverse of ``subject_text`` for plain values)."""
    result = {}
    for part in (text or "").split(","):
        key, sep, value = part.partition("=")
        if sep:
            result[key] = value
    return result


def _fmt(value, digits=1):
    return ("%.*f" % (digits, value)).rstrip("0").rstrip(".")


def _window_text(points):
    days = (points[-1][0] - points[0][0]) / DAY_S if len(points) > 1 else 0.0
    return "%d runs over %s days" % (len(points), _fmt(days))


def too_few(name, subject, points, limits, what):
    """``unknown``: the history holds fewer points than the check needs."""
    need = limits["min_points"]
    missing = need - len(points)
    return make_check(name, "unknown", len(points), need,
                      "%s: could not look: the history holds %d run(s) of %s in the window, a trend needs %d: it can "
                      "say something after %d more run(s) of this cadence (keep the history database, "
                      "gpufleet_history_path, between runs)" % (subject_label(subject), len(points), what, need, missing),
                      subject=subject, waiting=True)


def too_short(name, subject, points, what):
    """``unknown``: enough runs, but they span under two days (a rate from hours is noise scaled up)."""
    return make_check(name, "unknown", len(points), None,
                      "%s: could not look: the %d runs of %s in the window span under two days, a rate needs two days "
                      "or more: it can say something at the first run two days after the oldest"
                      % (subject_label(subject), len(points), what), subject=subject, waiting=True)


def subject_label(subject):
    return ",".join("%s=%s" % (key, subject[key]) for key in sorted(subject)) or "host"


def _level(value, warn, crit, lower_is_worse=True):
    """``crit``/``warn``/``ok`` and the threshold that fired (``lower_is_worse``: days left, speed)."""
    def beyond(limit):
        return limit is not None and (value < limit if lower_is_worse else value >= limit)
    if beyond(crit):
        return "crit", crit
    if beyond(warn):
        return "warn", warn
    return "ok", warn


HORIZON_DAYS = 36500   # a date a century away is no date: a slope of rounding noise gives millions of years


def days_to(last, slope_per_30d, limit):
    """Days until a series at ``last`` rising ``slope_per_30d`` reaches ``limit``; 0 at it; None when not
    rising, or not within :data:`HORIZON_DAYS` (no calendar date is that far, and none is useful)."""
    if last >= limit:
        return 0.0
    if slope_per_30d is None or slope_per_30d <= 0:
        return None
    days = (limit - last) / (slope_per_30d / 30.0)
    return days if days <= HORIZON_DAYS else None


def memory_junction(row, limits, now):
    """GPU memory-junction temperature: the level now, and a sustained rise over the window."""
    subject, points = parse_subject(row["subject"]), row["points"]
    if len(points) < limits["min_points"]:
        return too_few("memory_junction", subject, points, limits, "memory-junction temperature")
    last = points[-1][1]
    slope = slope_per_30_days(points)
    rise_limit = limits["junction_rise_warn_per_30d"]
    status, threshold = _level(last, limits["junction_warn_c"], limits["junction_crit_c"], lower_is_worse=False)
    trend_text = "no slope yet (the runs span under two days)" if slope is None else "%+.1f °C per 30 days" % slope
    message = "%s: memory junction %s °C (%s, %s)" % (subject_label(subject), _fmt(last), trend_text, _window_text(points))
    if status != "ok":
        message += ": at or above %s °C, where GDDR6X starts to see ECC errors: %s" % (_fmt(threshold), _FIX_JUNCTION)
    elif slope is not None and rise_limit is not None and slope >= rise_limit:
        status, threshold = "warn", rise_limit
        days = days_to(last, slope, limits["junction_warn_c"])
        when = "" if days is None else ", %s °C in about %d days (%s)" % (
            _fmt(limits["junction_warn_c"]), days, day(now + days * DAY_S))
        message += ": rising at least %s °C per 30 days%s: %s" % (_fmt(rise_limit), when, _FIX_JUNCTION)
    return make_check("memory_junction", status, round(last, 1), threshold, message, subject=subject,
                      slope_per_30d=None if slope is None else round(slope, 2))


def tbw(written, rated, limits, now):
    """Days until the rated TBW at the write rate over the window (``written``: data written row)."""
    subject, points = parse_subject(written["subject"]), written["points"]
    if len(points) < limits["min_points"]:
        return too_few("tbw", subject, points, limits, "data written")
    rated_tb = rated.get("last") if rated else None
    if not rated_tb:
        return None  # smart_facts already says rated_tbw is missing (its tbw_projection check)
    slope = slope_per_30_days(points)
    if slope is None:
        return too_short("tbw", subject, points, "data written")
    per_day = slope / 30.0
    days = days_to(points[-1][1], slope, rated_tb * TB)
    if days is None:
        return make_check("tbw", "ok", None, limits["tbw_warn_days"], "%s: too few writes over the window (%s) to reach "
                          "the rated %s TBW within a century" % (subject_label(subject), _window_text(points), _fmt(rated_tb)), subject=subject)
    status, threshold = _level(days, limits["tbw_warn_days"], limits["tbw_crit_days"])
    message = "%s: rated %s TBW in about %d days (%s) at %s TB/day over %s" % (
        subject_label(subject), _fmt(rated_tb), days, day(now + days * DAY_S), _fmt(per_day / TB, 3), _window_text(points))
    if status != "ok":
        message += ": %s" % _FIX_TBW
    return make_check("tbw", status, int(days), threshold, message, subject=subject,
                      write_rate_bytes_per_day=int(round(per_day)))


def disk_fill(row, limits, now):
    """Days until a filesystem is full at the rate of use over the window."""
    subject, points = parse_subject(row["subject"]), row["points"]
    if len(points) < limits["min_points"]:
        return too_few("disk_fill", subject, points, limits, "disk use")
    slope = slope_per_30_days(points)
    if slope is None:
        return too_short("disk_fill", subject, points, "disk use")
    last = points[-1][1]
    days = days_to(last, slope, 100.0)
    if days is None:
        return make_check("disk_fill", "ok", None, limits["disk_fill_warn_days"], "%s: %s%% used, not growing (%+.1f%% per "
                          "30 days over %s, full not within a century)" % (subject_label(subject), _fmt(last), slope, _window_text(points)), subject=subject)
    status, threshold = _level(days, limits["disk_fill_warn_days"], limits["disk_fill_crit_days"])
    message = "%s: %s%% used, full in about %d days (%s) at %+.1f%% per 30 days over %s" % (
        subject_label(subject), _fmt(last), days, day(now + days * DAY_S), slope, _window_text(points))
    if status != "ok":
        message += ": %s" % _FIX_DISK
    return make_check("disk_fill", status, int(days), threshold, message, subject=subject)


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0


def baseline_and_now(points):
    """``(baseline, now)``: medians of the oldest and of the newest third of the points (at least one each)."""
    part = max(1, len(points) // 3)
    return _median([p[1] for p in points[:part]]), _median([p[1] for p in points[-part:]])


def drift(name, row, limits, higher_is_worse):
    """TTFT (``higher_is_worse``) or tokens/s against the baseline of the window."""
    # The metric is part of the subject: a median and a p95 of the same probe are two checks.
    subject, points = dict(parse_subject(row["subject"]), metric=row["metric"]), row["points"]
    label = subject_label(subject)
    if len(points) < limits["min_points"]:
        return too_few(name, subject, points, limits, "this reading")
    base, current = baseline_and_now(points)
    if not base:
        return make_check(name, "unknown", current, None, "%s: could not look: the baseline is 0; the runs of the "
                          "oldest third measured nothing: look at the probe's errors" % label, subject=subject)
    ratio = current / base
    if higher_is_worse:
        status, threshold = _level(ratio, limits["ttft_warn_ratio"], limits["ttft_crit_ratio"], lower_is_worse=False)
        message = "%s: %s now against %s at the baseline (%s× over %s)" % (
            label, _fmt(current, 3), _fmt(base, 3), _fmt(ratio, 2), _window_text(points))
    else:
        status, threshold = _level(ratio, limits["tokens_warn_ratio"], limits["tokens_crit_ratio"])
        message = "%s: %s now against %s at the baseline (%s of it over %s)" % (
            label, _fmt(current, 1), _fmt(base, 1), _fmt(ratio, 2), _window_text(points))
    if status != "ok":
        message += ": %s" % _FIX_TTFT
    return make_check(name, status, round(ratio, 3), threshold, message, subject=subject, baseline=base, current=current)


def request_volume(row, limits):
    """The newest run's requests per hour against the median of the earlier runs of the window."""
    subject, points = parse_subject(row["subject"]), row["points"]
    if len(points) < limits["min_points"]:
        return too_few("request_volume", subject, points, limits, "requests per hour")
    base, current = _median([p[1] for p in points[:-1]]), points[-1][1]
    label, window = subject_label(subject), _window_text(points)
    if not base:
        if not current:
            return make_check("request_volume", "ok", None, limits["volume_warn_ratio"], "%s: no requests now or in the "
                              "earlier runs (%s)" % (label, window), subject=subject, baseline=base, current=current)
        return make_check("request_volume", "warn", None, None, "%s: %s requests per hour now, none in the earlier runs "
                          "(%s): %s" % (label, _fmt(current, 2), window, _FIX_VOLUME_UP), subject=subject,
                          baseline=base, current=current)
    ratio = current / base
    status, threshold = _level(ratio, limits["volume_warn_ratio"], limits["volume_crit_ratio"], lower_is_worse=False)
    fix = _FIX_VOLUME_UP
    drop = limits["volume_drop_warn_ratio"]
    if status == "ok" and drop is not None and ratio <= drop:
        status, threshold, fix = "warn", drop, _FIX_VOLUME_DOWN
    message = "%s: %s requests per hour now against %s before (%s\u00d7, %s)" % (
        label, _fmt(current, 2), _fmt(base, 2), _fmt(ratio, 2), window)
    if status != "ok":
        message += ": %s" % fix
    return make_check("request_volume", status, round(ratio, 3), threshold, message, subject=subject,
                      baseline=base, current=current)


# Settings recorded beside the readings (``ttft_crit_s``, ``thresholds.*``) match the broad patterns too: not a drift.
_SETTING_MARKS = ("_warn", "_crit", "threshold")


def _by_metric(rows, name):
    return [row for row in rows if any(like(p, row["metric"]) for p in METRICS[name])
            and not any(mark in row["metric"] for mark in _SETTING_MARKS)]


def host_checks(rows, enabled, limits, now):
    """The trend checks of one host from its ``trends`` rows."""
    enabled = set(enabled or ())
    results = []
    if "memory_junction" in enabled:
        results.extend(memory_junction(row, limits, now) for row in _by_metric(rows, "memory_junction"))
    if "tbw" in enabled:
        rated = dict((row["subject"], row) for row in rows if like(METRICS["tbw"][1], row["metric"]))
        for row in rows:
            if like(METRICS["tbw"][0], row["metric"]):
                check = tbw(row, rated.get(row["subject"]), limits, now)
                if check is not None:
                    results.append(check)
    if "disk_fill" in enabled:
        results.extend(disk_fill(row, limits, now) for row in _by_metric(rows, "disk_fill"))
    if "ttft" in enabled:
        results.extend(drift("ttft", row, limits, True) for row in _by_metric(rows, "ttft"))
    if "tokens_per_s" in enabled:
        results.extend(drift("tokens_per_s", row, limits, False) for row in _by_metric(rows, "tokens_per_s"))
    if "request_volume" in enabled:
        results.extend(request_volume(row, limits) for row in _by_metric(rows, "request_volume"))
    return results


def facts(trend_rows, hosts, enabled, overrides, now, window_days, waiting=None):
    """``{host: gpufleet_trends fact}`` for the ``hosts`` that have a series of an ``enabled`` check.

    A check whose history is still too short (:func:`too_few`, :func:`too_short`) is not a verdict: a new
    install would otherwise read ``unknown`` for months (a quarterly TBW trend needs three quarters). It goes
    to ``waiting`` (``{host: [check]}``, when a dict is given; the report lists them) instead of the fact, and
    a host with nothing judged yet has no ``gpufleet_trends`` fact at all.
    """
    limits = thresholds(overrides)
    patterns(enabled)
    result = {}
    for host in sorted(hosts):
        rows = [row for row in trend_rows if row.get("host") == host]
        checks = host_checks(rows, enabled, limits, now)
        judged = [check for check in checks if not check.get("waiting")]
        if waiting is not None and len(judged) < len(checks):
            waiting[host] = [check for check in checks if check.get("waiting")]
        if judged:
            result[host] = {"status": worst_status(judged), "checks": judged, "window_days": window_days,
                            "thresholds": limits, "enabled": sorted(enabled)}
    return result
