# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side run history in SQLite (stdlib ``sqlite3``): schema, migrations, writes, queries.

One row per host, run, cadence and metric (``metrics``), one row per check (``checks``), one row
per run (``runs``) and the alert de-duplication state (``alert_state``). Every write happens in one
transaction. A locked or corrupt database raises :class:`HistoryError` with a message that says
what to do; callers turn it into a report line instead of stopping the play.
No Ansible import: the action plugins call these functions, the unit tests call them directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import sqlite3

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import readings as _readings
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import subject_of, subject_text

SCHEMA_VERSION = 3
SECONDS_PER_DAY = 86400.0
DEFAULT_MAXIMA_LIKE = "%temperature\\_c"
DEFAULT_ENERGY_LIKE = "%power\\_draw\\_w"

# Migration 3 writes subjects the way every output now does (``gpu=0``, ``path=/``): the metrics and
# alert keys stored before it named a subject by its bare value. The key each stored series had is
# known from its metric (or area) name; frozen here, as a shipped migration must be.
_V3_METRIC_SUBJECT_KEYS = (
    ("host.disks.", "path"),
    ("gpu.nvidia.gpus.", "gpu"),
    ("gpu.amd.gpus.", "gpu"),
    ("smart.devices.", "device"),
    ("tls.endpoints.", "endpoint"),
    ("docker.containers.", "container"),
    ("vram_guard.gpus.", "gpu"),
    ("vram_guard.stayed.", "gpu"),
    ("vram_guard.fell.", "gpu"),
)
_V3_ALERT_SUBJECT_KEYS = (("host", "path"), ("gpu", "gpu"), ("smart", "device"), ("tls", "endpoint"), ("docker", "path"),
                          ("vram_guard", "gpu"))


def _migration_3(conn):
    """Subjects as ``key=value``: the stored metric series and alert keys of known subjects."""
    for prefix, key in _V3_METRIC_SUBJECT_KEYS:
        conn.execute("UPDATE metrics SET subject = ? || '=' || subject WHERE substr(metric, 1, ?) = ? "
                     "AND subject != '' AND instr(subject, '=') = 0", (key, len(prefix), prefix))
    keys = dict(_V3_ALERT_SUBJECT_KEYS)
    rows = conn.execute("SELECT host, key FROM alert_state").fetchall()
    for host, key in rows:
        area, _sep, rest = key.partition("/")
        check, _sep, subject = rest.partition("/")
        if area in keys and subject and "=" not in subject:
            conn.execute("UPDATE alert_state SET key = ? WHERE host = ? AND key = ?",
                         ("%s/%s/%s=%s" % (area, check, keys[area], subject), host, key))


# Each migration takes the schema from version N-1 to N (SQL text, or a function of the connection);
# never edit one that has shipped.
MIGRATIONS = (
    # 1: runs, metrics and checks.
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        cadence TEXT NOT NULL,
        ts REAL NOT NULL,
        hosts INTEGER NOT NULL,
        failed_hosts TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE metrics (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        ts REAL NOT NULL,
        host TEXT NOT NULL,
        cadence TEXT NOT NULL,
        metric TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        value REAL NOT NULL
    );
    CREATE TABLE checks (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        ts REAL NOT NULL,
        host TEXT NOT NULL,
        area TEXT NOT NULL,
        name TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        value TEXT,
        message TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX metrics_lookup ON metrics (host, metric, subject, ts);
    CREATE INDEX checks_lookup ON checks (host, ts);
    """,
    # 2: alert de-duplication state, one row per host and alert key.
    """
    CREATE TABLE alert_state (
        host TEXT NOT NULL,
        key TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        changed_at REAL NOT NULL,
        sent_at REAL,
        PRIMARY KEY (host, key)
    );
    """,
    # 3: subjects as key=value (see _V3_* and _migration_3).
    _migration_3,
)


class HistoryError(Exception):
    """The history database cannot be used (locked, damaged, unwritable, too new).

    ``damaged`` is True when the file itself is broken: moving it aside and starting a new one
    is the fix (:func:`move_aside`).
    """

    def __init__(self, message, damaged=False):
        super(HistoryError, self).__init__(message)
        self.damaged = damaged


def default_path(inventory_dir=None, cwd=None):
    """``.cache/gpufleet/history.db`` beside the inventory (or the working directory)."""
    base = inventory_dir or cwd or os.getcwd()
    return os.path.join(base, ".cache", "gpufleet", "history.db")


def connect(path, timeout=5.0, readonly=False):
    """Open (and migrate) the database at ``path``; raise :class:`HistoryError` with a fix."""
    if readonly and not os.path.exists(path):
        conn = sqlite3.connect(":memory:")
        _migrate(conn, path)
        return conn
    if not readonly:
        directory = os.path.dirname(os.path.abspath(path))
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory)
        except OSError as exc:
            raise HistoryError("cannot create the history directory %s: %s; set gpufleet_history_path "
                               "to a writable place" % (directory, exc))
    try:
        if readonly:
            conn = sqlite3.connect("file:%s?mode=ro" % os.path.abspath(path), uri=True, timeout=timeout)
        else:
            conn = sqlite3.connect(path, timeout=timeout)
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            _migrate(conn, path)
        else:
            _check_version(conn, path)
    except sqlite3.OperationalError as exc:
        raise HistoryError(_explain(exc, path), damaged=is_damage(exc))
    except sqlite3.DatabaseError as exc:
        raise HistoryError("history database %s is damaged (%s): move it aside (it is kept for "
                           "inspection) and the next run starts a new one" % (path, exc), damaged=True)
    return conn


def _explain(exc, path):
    text = str(exc)
    if is_damage(exc):
        return ("history database %s is damaged (%s): move it aside (it is kept for inspection) and the next "
                "run starts a new one" % (path, text))
    if "locked" in text or "busy" in text:
        return ("history database %s is locked by another run (%s): wait for it to finish, or stop the "
                "process that holds it open" % (path, text))
    return "cannot use the history database %s: %s" % (path, text)


def is_damage(exc):
    """True when an sqlite3 error means a damaged file (as opposed to a lock or a permission)."""
    text = str(exc)
    return "malformed" in text or "not a database" in text or "corrupt" in text


def move_aside(path, now):
    """Rename a damaged database to ``<path>.damaged-<time>``; returns the new name."""
    aside = "%s.damaged-%s" % (path, datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    try:
        os.rename(path, aside)
    except OSError as exc:
        raise HistoryError("history database %s is damaged and could not be moved aside: %s" % (path, exc))
    return aside


def schema_version(conn):
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _check_version(conn, path):
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise HistoryError("history database %s has schema %d, newer than this collection's %d: upgrade "
                           "gpufleet.maintenance" % (path, version, SCHEMA_VERSION))
    return version


def _migrate(conn, path):
    """Apply the missing migrations, each in its own transaction, and set ``user_version``."""
    version = _check_version(conn, path)
    for number in range(version + 1, SCHEMA_VERSION + 1):
        try:
            conn.execute("BEGIN IMMEDIATE")
            migration = MIGRATIONS[number - 1]
            if callable(migration):
                migration(conn)
            else:
                for statement in migration.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute("PRAGMA user_version = %d" % number)
            conn.commit()
        except sqlite3.DatabaseError:
            conn.rollback()
            raise
    return schema_version(conn)


def extract_metrics(facts):
    """``{gpufleet_x: fact}`` → list of ``(metric, subject, value)``: exactly the readings each area of the
    registry declares (``Area.readings``; ``host.disks.used_pct`` with subject ``path=/``). A fact the registry
    does not know records nothing: a number reaches the history because its area says so, never because of
    how its key is spelled.
    """
    rows = []
    for name in sorted(facts or {}):
        fact = facts[name]
        area = registry.of_fact(name) if isinstance(fact, dict) else None
        if area is not None and area.readings:
            rows.extend(_readings.extract(area.name, fact, area.readings))
    return rows


def extract_checks(facts):
    """``{gpufleet_x: fact}`` → list of ``(area, name, subject, status, value, message)``.

    The subject is the check's subject text (``gpu=0``), as in alert keys, the report and metrics.
    """
    rows = []
    for name in sorted(facts or {}):
        fact = facts[name]
        if not isinstance(fact, dict) or not name.startswith("gpufleet_"):
            continue
        area = registry.of_fact(name)
        area_name = area.name if area is not None else name[len("gpufleet_"):]
        for check in fact.get("checks") or []:
            if not isinstance(check, dict):
                continue
            value = check.get("value")
            rows.append((area_name, str(check.get("check", "")), subject_text(subject_of(check)),
                         str(check.get("status", "unknown")), None if value is None else json.dumps(value),
                         str(check.get("message", ""))))
    return rows


def record_run(conn, cadence, ts, hosts, failed_hosts=None, step_failures=None):
    """Write one run: ``hosts`` maps host → ``{gpufleet_x: fact}``. One transaction; returns run id."""
    failed = sorted(failed_hosts or {})
    try:
        with conn:
            cursor = conn.execute("INSERT INTO runs (cadence, ts, hosts, failed_hosts) VALUES (?, ?, ?, ?)",
                                  (cadence, ts, len(hosts) + len(failed), json.dumps(failed)))
            run_id = cursor.lastrowid
            for host in sorted(hosts):
                facts = hosts[host] or {}
                conn.executemany(
                    "INSERT INTO metrics (run_id, ts, host, cadence, metric, subject, value) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(run_id, ts, host, cadence, metric, subject, value) for metric, subject, value in extract_metrics(facts)])
                conn.executemany(
                    "INSERT INTO checks (run_id, ts, host, area, name, subject, status, value, message) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(run_id, ts, host) + row for row in extract_checks(facts)])
            for host in failed:
                reason = (failed_hosts or {}).get(host) if isinstance(failed_hosts, dict) else None
                conn.execute(
                    "INSERT INTO checks (run_id, ts, host, area, name, subject, status, value, message) "
                    "VALUES (?, ?, ?, 'run', 'reachable', '', 'crit', NULL, ?)",
                    (run_id, ts, host, reason or "the host failed or was unreachable during the run"))
            for host, failure in sorted((step_failures or {}).items()):
                conn.execute(
                    "INSERT INTO checks (run_id, ts, host, area, name, subject, status, value, message) "
                    "VALUES (?, ?, ?, 'run', 'step_failed', '', 'crit', NULL, ?)", (run_id, ts, host, "failed: %s" % failure))
    except sqlite3.DatabaseError as exc:
        raise HistoryError(_explain(exc, "(history)"), damaged=is_damage(exc))
    return run_id


def _one_series(conn, columns, host, metric, subject=None, ts_op=None, ts=None, tail=""):
    """Rows of one host's metric (one subject when given), optionally with ``ts <op> ts``."""
    sql = "SELECT %s FROM metrics WHERE host = ? AND metric = ?" % columns
    args = [host, metric]
    if subject is not None:
        sql += " AND subject = ?"
        args.append(subject)
    if ts is not None:
        sql += " AND ts %s ?" % ts_op
        args.append(ts)
    return conn.execute(sql + tail, args)


def record_checks(conn, run_id, ts, host_checks):
    """Add checks decided on the controller after :func:`record_run` (the trend checks) to run ``run_id``.

    ``host_checks``: ``{host: {gpufleet_x: {checks: [...]}}}``, read as :func:`extract_checks` reads facts.
    """
    try:
        with conn:
            for host in sorted(host_checks):
                conn.executemany(
                    "INSERT INTO checks (run_id, ts, host, area, name, subject, status, value, message) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(run_id, ts, host) + row for row in extract_checks(host_checks[host])])
    except sqlite3.DatabaseError as exc:
        raise HistoryError(_explain(exc, "(history)"), damaged=is_damage(exc))


def last_value(conn, host, metric, subject="", before=None):
    """The newest ``(ts, value)`` of a metric, or None."""
    row = _one_series(conn, "ts, value", host, metric, subject, "<", before, " ORDER BY ts DESC LIMIT 1").fetchone()
    return None if row is None else (row[0], row[1])


def last_values(conn, hosts, metric_like, before=None):
    """``{host: {metric: {subject: [ts, value]}}}``: the newest value of each matching metric (e.g. ``previous``)."""
    result = {}
    sql = ("SELECT m.host, m.metric, m.subject, m.ts, m.value FROM metrics m JOIN ("
           "SELECT host, metric, subject, MAX(ts) AS ts FROM metrics WHERE metric LIKE ? ESCAPE '\\'%s "
           "GROUP BY host, metric, subject) newest ON m.host = newest.host AND m.metric = newest.metric "
           "AND m.subject = newest.subject AND m.ts = newest.ts ORDER BY m.host, m.metric, m.subject")
    args = [metric_like]
    where = ""
    if before is not None:
        where = " AND ts < ?"
        args.append(before)
    wanted = set(hosts)
    for host, metric, subject, ts, value in conn.execute(sql % where, args):
        if host in wanted:
            result.setdefault(host, {}).setdefault(metric, {})[subject] = [ts, value]
    return result


def series(conn, host, metric, subject="", since=None):
    """``[(ts, value), ...]`` oldest first."""
    return [(row[0], row[1]) for row in _one_series(conn, "ts, value", host, metric, subject, ">=", since, " ORDER BY ts")]


def subjects(conn, host, metric, since=None):
    return [row[0] for row in _one_series(conn, "DISTINCT subject", host, metric, None, ">=", since, " ORDER BY subject")]


# A slope "per 30 days" from a few hours of readings is noise scaled up; report none under this span.
MIN_SLOPE_SPAN_S = 2 * SECONDS_PER_DAY


def slope_per_30_days(points, min_span_s=MIN_SLOPE_SPAN_S):
    """Least-squares slope of ``[(ts, value)]`` in value units per 30 days.

    None under 2 points, or when the points span less than ``min_span_s`` (two days by default).
    """
    if len(points) < 2:
        return None
    if max(p[0] for p in points) - min(p[0] for p in points) < min_span_s:
        return None
    count = float(len(points))
    mean_t = sum(p[0] for p in points) / count
    mean_v = sum(p[1] for p in points) / count
    var = sum((p[0] - mean_t) ** 2 for p in points)
    if var == 0:
        return None
    cov = sum((p[0] - mean_t) * (p[1] - mean_v) for p in points)
    return cov / var * 30 * SECONDS_PER_DAY


def maxima(conn, since, metric_like):
    """``{host: {metric: {subject: max}}}`` of metrics matching a LIKE pattern since ``since``."""
    result = {}
    rows = conn.execute("SELECT host, metric, subject, MAX(value) FROM metrics WHERE ts >= ? AND metric LIKE ? ESCAPE '\\' "
                        "GROUP BY host, metric, subject ORDER BY host, metric, subject", (since, metric_like))
    for host, metric, subject, value in rows:
        result.setdefault(host, {}).setdefault(metric, {})[subject] = value
    return result


def incidents(conn, since):
    """Per host: runs in which it had a crit check, a warn check, or failed, since ``since``."""
    result = {}
    rows = conn.execute(
        "SELECT host, "
        "COUNT(DISTINCT CASE WHEN status = 'crit' THEN run_id END), "
        "COUNT(DISTINCT CASE WHEN status = 'warn' THEN run_id END), "
        "COUNT(DISTINCT CASE WHEN area = 'run' AND name = 'reachable' THEN run_id END) "
        "FROM checks WHERE ts >= ? GROUP BY host ORDER BY host", (since,))
    for host, crit, warn, failed in rows:
        result[host] = {"crit_runs": crit, "warn_runs": warn, "failed_runs": failed}
    return result


def trend(conn, host, metric, subject, now, days):
    """Series, slope per 30 days, last value and maximum of one metric over the last ``days``."""
    # Rows after ``now`` (a replay of an earlier day on a history that has later runs) are not the past.
    points = [p for p in series(conn, host, metric, subject, since=now - days * SECONDS_PER_DAY) if p[0] <= now]
    slope = slope_per_30_days(points)
    return {
        "host": host,
        "metric": metric,
        "subject": subject,
        "points": [[p[0], p[1]] for p in points],
        "last": points[-1][1] if points else None,
        "max": max(p[1] for p in points) if points else None,
        "slope_per_30d": None if slope is None else round(slope, 3),
    }


def trends(conn, hosts, metric_patterns, now, days):
    """Every (host, metric, subject) whose metric matches one of the LIKE patterns."""
    result = []
    since = now - days * SECONDS_PER_DAY
    for host in sorted(hosts):
        for pattern in metric_patterns:
            metrics = [row[0] for row in conn.execute(
                "SELECT DISTINCT metric FROM metrics WHERE host = ? AND metric LIKE ? ESCAPE '\\' AND ts >= ? ORDER BY metric",
                (host, pattern, since))]
            for metric in metrics:
                for subject in subjects(conn, host, metric, since):
                    result.append(trend(conn, host, metric, subject, now, days))
    return result


def alert_state(conn, host=None):
    """``{(host, key): {status, message, changed_at, sent_at}}``."""
    sql = "SELECT host, key, status, message, changed_at, sent_at FROM alert_state"
    args = []
    if host is not None:
        sql += " WHERE host = ?"
        args.append(host)
    try:
        return dict(((row[0], row[1]), {"status": row[2], "message": row[3], "changed_at": row[4], "sent_at": row[5]})
                    for row in conn.execute(sql, args))
    except sqlite3.DatabaseError as exc:
        raise HistoryError(_explain(exc, "(history)"), damaged=is_damage(exc))


def save_alert_state(conn, state):
    """Replace the alert state with ``state`` (same shape as :func:`alert_state`), one transaction."""
    try:
        with conn:
            conn.execute("DELETE FROM alert_state")
            conn.executemany(
                "INSERT INTO alert_state (host, key, status, message, changed_at, sent_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(host, key, value["status"], value.get("message", ""), value["changed_at"], value.get("sent_at"))
                 for (host, key), value in sorted(state.items())])
    except sqlite3.DatabaseError as exc:
        raise HistoryError(_explain(exc, "(history)"), damaged=is_damage(exc))


def energy_kwh(points):
    """Energy of a power series ``[(ts, watts)]`` (trapezoids) in kWh; 0.0 under two points."""
    total = 0.0
    for (t0, p0), (t1, p1) in zip(points, points[1:]):
        if t1 > t0:
            total += (p0 + p1) / 2.0 * (t1 - t0)
    return total / 3600.0 / 1000.0


def energy(conn, hosts, now, days, metric_like=DEFAULT_ENERGY_LIKE, price_per_kwh=0.0):
    """``{host: {kwh, cost, days, series}}`` of the power readings over the last ``days``."""
    since = now - days * SECONDS_PER_DAY
    result = {}
    for host in hosts:
        kwh = 0.0
        rows = conn.execute("SELECT DISTINCT metric, subject FROM metrics WHERE host = ? AND metric LIKE ? ESCAPE '\\' "
                            "AND ts >= ?", (host, metric_like, since)).fetchall()
        for metric, subject in rows:
            kwh += energy_kwh(series(conn, host, metric, subject, since))
        if rows:
            result[host] = {"kwh": round(kwh, 3), "cost": round(kwh * price_per_kwh, 2), "days": days, "series": len(rows)}
    return result


def query(conn, hosts, now, trend_metrics=(), trend_days=90, maxima_days=0, maxima_metric_like=DEFAULT_MAXIMA_LIKE,
          incidents_days=0, energy_days=0, energy_metric_like=DEFAULT_ENERGY_LIKE, energy_price_per_kwh=0.0,
          last_metric_like=()):
    """The history's answers a cadence asks for: ``{trends, maxima, incidents, energy, last}``."""
    names = sorted(hosts)
    answer = {"trends": [], "maxima": {}, "incidents": {}, "energy": {}, "last": {}}
    try:
        if trend_metrics:
            answer["trends"] = trends(conn, names, trend_metrics, now, trend_days)
        if maxima_days:
            answer["maxima"] = maxima(conn, now - maxima_days * SECONDS_PER_DAY, maxima_metric_like)
        if incidents_days:
            answer["incidents"] = incidents(conn, now - incidents_days * SECONDS_PER_DAY)
        for pattern in last_metric_like:
            # Values from before this run: what smart_facts and friends call "previous".
            for host, metrics in last_values(conn, names, pattern, before=now).items():
                answer["last"].setdefault(host, {}).update(metrics)
        if energy_days:
            answer["energy"] = energy(conn, names, now, energy_days, energy_metric_like, energy_price_per_kwh)
    except sqlite3.DatabaseError as exc:
        raise HistoryError(_explain(exc, "(history)"), damaged=is_damage(exc))
    return answer
