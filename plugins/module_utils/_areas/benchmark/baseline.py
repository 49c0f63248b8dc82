# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark area's baselines: keys, regression verdicts, and a small store interface.

A baseline row is keyed by (host, endpoint, model, model digest, runner, runner version) and
holds the median figures of each prompt. ``compare()`` is pure: it takes the stored rows and a
probe result and returns the verdicts and the rows to store. ``JsonFileStore`` keeps rows in a
JSON file (until the controller-side cadence history exists); any object with ``read()`` and
``update(mutator)`` can take its place.

No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import os
import tempfile

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark.checks import CHECKS
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import worst_status

SCHEMA_VERSION = 1
KEY_FIELDS = ("host", "endpoint", "model", "model_digest", "runner", "runner_version")
# Fields that name "the same deployment": a row that matches these but not the versions is the
# previous baseline (old versus new side by side).
SERIES_FIELDS = ("host", "endpoint", "model")
METRICS = (
    # name, higher_is_worse, label
    ("ttft_s", True, "time to first token"),
    ("decode_tokens_per_s", False, "decode tokens/s"),
)


class BaselineStoreError(Exception):
    """The baseline store cannot be read or written; the message says which file and why."""


def baseline_key(provenance, fields=KEY_FIELDS):
    """The key dict of a probe result (``None`` for fields the server did not report)."""
    return dict((field, provenance.get(field)) for field in fields)


def row_from_result(result, fields=KEY_FIELDS, now=None):
    """A baseline row (key plus the median of each prompt's figures) from an llm_probe result."""
    prompts = {}
    for entry in result.get("results") or []:
        if not entry.get("ok"):
            continue
        prompts[entry["prompt"]] = dict(
            ttft_s=(entry.get("ttft_s") or {}).get("median"),
            decode_tokens_per_s=(entry.get("decode_tokens_per_s") or {}).get("median"),
            prompt_tokens_per_s=(entry.get("prompt_tokens_per_s") or {}).get("median"),
            output_tokens=entry.get("output_tokens"),
        )
    return dict(key=baseline_key(result, fields), recorded_at=now, prompts=prompts)


def _matches(row, key, exact=True):
    """Row matches ``key``; ``exact`` also requires the row to be keyed by the same fields."""
    row_key = row.get("key") if isinstance(row.get("key"), dict) else {}
    if exact and set(row_key) != set(key):
        return False
    return all(field in row_key and row_key[field] == value for field, value in key.items())


def find_rows(rows, result, fields=KEY_FIELDS):
    """(exact row, previous row): the row for this key, and the newest row of the same series
    (host, endpoint, model) with another digest or runner version."""
    key = baseline_key(result, fields)
    exact = None
    previous = None
    series = dict((f, key[f]) for f in SERIES_FIELDS if f in key)
    for row in rows:
        if _matches(row, key):
            exact = row
        elif set((row.get("key") or {})) == set(key) and _matches(row, series, exact=False):
            if previous is None or (row.get("recorded_at") or "") >= (previous.get("recorded_at") or ""):
                previous = row
    return exact, previous


def _change_pct(base, current, higher_is_worse):
    """How much worse ``current`` is than ``base``, in percent (negative: better)."""
    if not base:
        return None
    if higher_is_worse:
        return (current - base) / base * 100.0
    return (base - current) / base * 100.0


def verdicts(base_row, result, warn_pct, crit_pct, ttft_floor_s=0.05):
    """Comparison rows and checks of a probe result against one baseline row.

    TTFT regressions count only when TTFT also rose by more than ``ttft_floor_s`` seconds (a
    50 ms first token that becomes 60 ms is noise, not a regression).
    """
    rows = []
    checks = []
    base_prompts = (base_row or {}).get("prompts") or {}
    for entry in result.get("results") or []:
        name = entry.get("prompt")
        base = base_prompts.get(name)
        if base is None or not entry.get("ok"):
            continue
        worst = []
        for metric, higher_is_worse, label in METRICS:
            current = (entry.get(metric) or {}).get("median")
            before = base.get(metric)
            if current is None or before is None:
                continue
            change = _change_pct(before, current, higher_is_worse)
            status = "ok"
            if change is not None:
                if metric == "ttft_s" and current - before <= ttft_floor_s:
                    status = "ok"
                elif change >= crit_pct:
                    status = "crit"
                elif change >= warn_pct:
                    status = "warn"
            rows.append(dict(prompt=name, metric=metric, baseline=before, current=current,
                             worse_pct=None if change is None else round(change, 1), status=status))
            if status != "ok":
                worst.append((status, "%s %s → %s (%.0f %% worse)" % (label, _fmt(before), _fmt(current), change)))
        status = worst_status([w[0] for w in worst])
        if worst:
            message = "prompt %s regressed against the baseline: %s" % (name, "; ".join(w[1] for w in worst))
        else:
            message = "prompt %s is within %s %% of the baseline" % (name, _fmt(warn_pct))
        checks.append(CHECKS["benchmark_regression"].result(
            status, [r for r in rows if r["prompt"] == name], warn_pct if status != "crit" else crit_pct, message,
            subject=dict(model=entry.get("model") or result.get("model"), prompt=name)))
    return rows, checks


def _fmt(number):
    if isinstance(number, float):
        return "%.3g" % number
    return str(number)


def compare(rows, result, warn_pct, crit_pct, update=False, fields=KEY_FIELDS, now=None, ttft_floor_s=0.05):
    """Compare a probe result with the stored rows and decide what to store.

    Returns ``dict(action, baseline, previous, comparison, checks, rows)``:

    * an existing row for this key is the baseline; it is replaced only when ``update``;
    * no row for this key (new host, model digest or runner version) starts a new row from this
      result; the newest row of the same series with other versions, if any, is compared side by
      side (``previous``), so a release that is slower shows as a regression;
    * ``rows`` is the full list to store (unchanged when ``action`` is ``kept``).
    """
    if crit_pct < warn_pct:
        raise ValueError("crit_pct (%s) must not be below warn_pct (%s)" % (crit_pct, warn_pct))
    exact, previous = find_rows(rows, result, fields)
    current = row_from_result(result, fields, now)
    against = exact if exact is not None else previous
    comparison, checks = verdicts(against, result, warn_pct, crit_pct, ttft_floor_s) if against else ([], [])
    new_rows = list(rows)
    if exact is None:
        action = "created" if current["prompts"] else "none"
        if current["prompts"]:
            new_rows.append(current)
    elif update and current["prompts"]:
        action = "updated"
        new_rows = [current if r is exact else r for r in rows]
    else:
        action = "kept"
    check = CHECKS["benchmark_baseline"]
    if exact is None and previous is None and action != "created":
        checks.append(check.unknown("no baseline yet for %s on %s, and no prompt of this run succeeded to start it"
                                    % (result.get("model"), result.get("endpoint"))))
    elif exact is None and previous is None:
        checks.append(check.result("ok", None, None, "no baseline yet for %s on %s: this run starts it" % (
            result.get("model"), result.get("endpoint"))))
    elif exact is None:
        checks.append(check.result(
            "ok", None, None, "new baseline row for %s (runner %s → %s, digest %s → %s); compared with the previous one" % (
                result.get("model"), previous["key"].get("runner_version"), result.get("runner_version"),
                previous["key"].get("model_digest"), result.get("model_digest"))))
    return dict(action=action, baseline=exact, previous=previous if exact is None else None,
                comparison=comparison, checks=checks, status=worst_status(checks),
                rows=new_rows, current=current)


def side_by_side(comparison):
    """Text lines: prompt, metric, baseline, current, change, status."""
    lines = []
    for row in comparison:
        lines.append("%-24s %-20s %10s %10s %7s %s" % (
            row["prompt"], row["metric"], _fmt(row["baseline"]), _fmt(row["current"]),
            "n/a" if row["worse_pct"] is None else "%+.1f%%" % row["worse_pct"], row["status"]))
    return lines


class JsonFileStore:
    """Baseline rows in one JSON file, read-modify-write under an exclusive lock, atomic replace.

    A file that is not valid JSON is reported and never overwritten (no data is lost).
    """

    def __init__(self, path):
        self.path = path

    def _load(self):
        if not os.path.exists(self.path):
            return []
        try:
            with open(self.path) as handle:
                data = json.load(handle)
        except ValueError as exc:
            raise BaselineStoreError("baseline file %s is not valid JSON (%s): fix or move it; it was left as it is"
                                     % (self.path, exc))
        except (IOError, OSError) as exc:
            raise BaselineStoreError("cannot read baseline file %s: %s" % (self.path, exc))
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            raise BaselineStoreError("baseline file %s has no 'rows' list: fix or move it; it was left as it is" % self.path)
        return data["rows"]

    def read(self):
        """The stored rows (``[]`` when the file does not exist yet)."""
        return self._load()

    def update(self, mutator):
        """Lock, read, ``new_rows = mutator(rows)``, write when changed; returns ``(rows, changed)``."""
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(directory, exist_ok=True)
            with open(self.path + ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                rows = self._load()
                new_rows = mutator(rows)
                if new_rows == rows:
                    return rows, False
                fd, tmp = tempfile.mkstemp(prefix=".baseline.", dir=directory)
                with os.fdopen(fd, "w") as handle:
                    json.dump(dict(schema_version=SCHEMA_VERSION, rows=new_rows), handle, indent=2, sort_keys=True)
                    handle.write("\n")
                os.rename(tmp, self.path)
                return new_rows, True
        except (IOError, OSError) as exc:
            raise BaselineStoreError("cannot write baseline file %s: %s" % (self.path, exc))
