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

SCHEMA_VERSION = 2
SECONDS_PER_DAY = 86400.0

# Each migration takes the schema from version N-1 to N; never edit one that has shipped.
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
)

# Keys of list entries that name a subject (a GPU, a disk, a container...), in order of preference.
SUBJECT_KEYS = ("index", "gpu", "path", "device", "name", "serial", "uuid")
# Sub-dicts of a fact that hold settings, not readings.
NOT_METRICS = ("thresholds",)
UNIT_SUFFIXES = ("_c", "_w", "_pct", "_mib", "_bytes", "_s", "_ms", "_mhz", "_rpm", "_tbw", "_tokens_per_s", "_hours")
# Readings named by the issues with the unit inside the name (smart_facts' wear_pct_used).
UNIT_NAMES = ("wear_pct_used",)


class HistoryError(Exception):
    """The history database cannot be used (locked, corrupt, unwritable, too new)."""


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
        raise HistoryError(_explain(exc, path))
    except sqlite3.DatabaseError as exc:
        raise HistoryError("history database %s is corrupt (%s): move it aside (it is kept for "
                           "inspection) and the next run starts a new one" % (path, exc))
    return conn


def _explain(exc, path):
    text = str(exc)
    if "locked" in text or "busy" in text:
        return ("history database %s is locked by another run (%s): wait for it to finish, or stop the "
                "process that holds it open" % (path, text))
    return "cannot use the history database %s: %s" % (path, text)


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
            for statement in MIGRATIONS[number - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("PRAGMA user_version = %d" % number)
            conn.commit()
        except sqlite3.DatabaseError:
            conn.rollback()
            raise
    return schema_version(conn)


def _subject_of(entry, position):
    for key in SUBJECT_KEYS:
        if entry.get(key) not in (None, ""):
            return str(entry[key])
    return str(position)


def _is_metric(key, value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and (key.endswith(UNIT_SUFFIXES) or key in UNIT_NAMES))


def extract_metrics(facts):
    """``{gpufleet_x: fact}`` → list of ``(metric, subject, value)``.

    Numeric keys with a unit suffix become ``<area>.<key>`` (area = fact name without
    ``gpufleet_``); entries of lists of dicts (GPUs, disks, devices) become metrics with a subject;
    sub-dicts of a fact are read the same way one level down (``gpufleet_gpu.nvidia.gpus[].temperature_c``
    becomes ``gpu.nvidia.gpus.temperature_c``), except settings such as ``thresholds``.
    """
    rows = []
    for name in sorted(facts or {}):
        fact = facts[name]
        if not isinstance(fact, dict) or not name.startswith("gpufleet_"):
            continue
        _extract_level(name[len("gpufleet_"):], fact, rows, nested=True)
    return rows


def _extract_level(prefix, fact, rows, nested):
    """Metrics of one dict level; ``nested``: also one level of sub-dicts (``gpufleet_gpu.nvidia.gpus``)."""
    for key in sorted(fact):
        value = fact[key]
        if _is_metric(key, value):
            rows.append(("%s.%s" % (prefix, key), "", float(value)))
        elif isinstance(value, list) and key != "checks":
            for position, entry in enumerate(value):
                if not isinstance(entry, dict):
                    continue
                subject = _subject_of(entry, position)
                for sub_key in sorted(entry):
                    if _is_metric(sub_key, entry[sub_key]):
                        rows.append(("%s.%s.%s" % (prefix, key, sub_key), subject, float(entry[sub_key])))
        elif nested and isinstance(value, dict) and key not in NOT_METRICS:
            _extract_level("%s.%s" % (prefix, key), value, rows, nested=False)


def _check_subject(check):
    for key in SUBJECT_KEYS + ("endpoint", "unit"):
        if check.get(key) not in (None, ""):
            return str(check[key])
    return ""


def extract_checks(facts):
    """``{gpufleet_x: fact}`` → list of ``(area, name, subject, status, value, message)``."""
    rows = []
    for name in sorted(facts or {}):
        fact = facts[name]
        if not isinstance(fact, dict) or not name.startswith("gpufleet_"):
            continue
        for check in fact.get("checks") or []:
            if not isinstance(check, dict):
                continue
            value = check.get("value")
            rows.append((name[len("gpufleet_"):], str(check.get("check", "")), _check_subject(check),
                         str(check.get("status", "ok")), None if value is None else json.dumps(value),
                         str(check.get("message", ""))))
    return rows


def record_run(conn, cadence, ts, hosts, failed_hosts=None):
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
    except sqlite3.OperationalError as exc:
        raise HistoryError(_explain(exc, "(history)"))
    return run_id


def last_value(conn, host, metric, subject="", before=None):
    """The newest ``(ts, value)`` of a metric, or None."""
    sql = "SELECT ts, value FROM metrics WHERE host = ? AND metric = ? AND subject = ?"
    args = [host, metric, subject]
    if before is not None:
        sql += " AND ts < ?"
        args.append(before)
    row = conn.execute(sql + " ORDER BY ts DESC LIMIT 1", args).fetchone()
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
    sql = "SELECT ts, value FROM metrics WHERE host = ? AND metric = ? AND subject = ?"
    args = [host, metric, subject]
    if since is not None:
        sql += " AND ts >= ?"
        args.append(since)
    return [(row[0], row[1]) for row in conn.execute(sql + " ORDER BY ts", args)]


def subjects(conn, host, metric, since=None):
    sql = "SELECT DISTINCT subject FROM metrics WHERE host = ? AND metric = ?"
    args = [host, metric]
    if since is not None:
        sql += " AND ts >= ?"
        args.append(since)
    return [row[0] for row in conn.execute(sql + " ORDER BY subject", args)]


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
    points = series(conn, host, metric, subject, since=now - days * SECONDS_PER_DAY)
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
    return dict(((row[0], row[1]), {"status": row[2], "message": row[3], "changed_at": row[4], "sent_at": row[5]})
                for row in conn.execute(sql, args))


def save_alert_state(conn, state):
    """Replace the alert state with ``state`` (same shape as :func:`alert_state`), one transaction."""
    try:
        with conn:
            conn.execute("DELETE FROM alert_state")
            conn.executemany(
                "INSERT INTO alert_state (host, key, status, message, changed_at, sent_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(host, key, value["status"], value.get("message", ""), value["changed_at"], value.get("sent_at"))
                 for (host, key), value in sorted(state.items())])
    except sqlite3.OperationalError as exc:
        raise HistoryError(_explain(exc, "(history)"))


def iso(ts):
    """Epoch seconds → ``2026-11-26T02:45:00Z``."""
    return datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# The options of the history action plugin; its documentation stub module declares the same ones.
ARGUMENT_SPEC = dict(
    path=dict(type="path"),
    cadence=dict(type="str", required=True, choices=["daily", "weekly", "monthly", "quarterly", "annual", "adhoc"]),
    hosts=dict(type="dict", default={}),
    failed_hosts=dict(type="dict", default={}),
    record=dict(type="bool", default=True),
    trend_metrics=dict(type="list", elements="str", default=[]),
    trend_days=dict(type="int", default=90),
    maxima_metric_like=dict(type="str", default="%temperature\\_c"),
    maxima_days=dict(type="int", default=0),
    incidents_days=dict(type="int", default=0),
    energy_metric_like=dict(type="str", default="%power\\_draw\\_w"),
    energy_days=dict(type="int", default=0),
    energy_price_per_kwh=dict(type="float", default=0.0),
    last_metric_like=dict(type="list", elements="str", default=[]),
    timeout_s=dict(type="float", default=5.0),
    now=dict(type="float"),
)
