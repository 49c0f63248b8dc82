"""``promtool test rules`` files built from real exporter output (:mod:`testlib.exported_metrics`).

A :class:`Timeline` starts with every sample the hosts really exported, as a constant series with
the labels Prometheus adds when it scrapes (``instance``, ``job``); a scenario changes the values of
existing series only (:meth:`Timeline.set` refuses a series the export does not have), so every
series in a test has the name and labels the exporter writes. :func:`metric_names` lists the metric
names a PromQL expression selects, for the check that rules and dashboards name only exported metrics.
"""

import os
import re
import shutil
import subprocess

import yaml

from testlib.system import apt_ensure

JOB = "node"


def promtool():
    apt_ensure("prometheus")
    return shutil.which("promtool") or "/usr/bin/promtool"


def instance(host):
    return "%s:9100" % host


def _quote(value):
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def selector(name, labels):
    """``name{a="b",...}`` with the labels sorted."""
    return "%s{%s}" % (name, ",".join("%s=%s" % (k, _quote(v)) for k, v in sorted(labels.items())))


def values(*segments):
    """promtool's expanding notation from ``(value, samples)`` pairs: ``(30, 3), (90, 2)`` → ``30x2 90x1``."""
    parts = []
    for value, count in segments:
        if count < 1:
            raise ValueError("a segment needs at least one sample")
        parts.append("%sx%d" % (_number(value), count - 1))
    return " ".join(parts)


def _number(value):
    return str(int(value)) if float(value) == int(value) and abs(value) < 1e15 else repr(float(value))


class Timeline:
    """Input series for one promtool test group: the real export, constant over ``samples`` steps."""

    def __init__(self, capture, samples, interval="1m"):
        self.capture = capture
        self.samples = samples
        self.interval = interval
        self._values = {}
        for sample in capture.samples:
            self._values[sample] = values((sample.value, samples))

    def labels(self, sample):
        """The labels of ``sample`` as Prometheus stores them after the scrape (an empty value is no label)."""
        labels = dict((k, v) for k, v in sample.labels.items() if v != "")
        return dict(labels, instance=instance(sample.host), job=JOB)

    def set(self, host, name, value_string, **labels):
        """Give the one exported series of ``name`` on ``host`` with ``labels`` new values."""
        sample = self.capture.one(name, host, **labels)
        self._values[sample] = value_string
        return self.labels(sample)

    def input_series(self):
        return [{"series": selector(sample.name, self.labels(sample)), "values": text}
                for sample, text in sorted(self._values.items())]

    def group(self, alert_rule_tests=(), promql_expr_test=()):
        group = {"interval": self.interval, "input_series": self.input_series()}
        if alert_rule_tests:
            group["alert_rule_test"] = list(alert_rule_tests)
        if promql_expr_test:
            group["promql_expr_test"] = list(promql_expr_test)
        return group


def alert_test(eval_time, alertname, alerts):
    """One ``alert_rule_test`` entry; ``alerts`` is a list of ``(labels, annotations)``."""
    return {"eval_time": eval_time, "alertname": alertname,
            "exp_alerts": [{"exp_labels": dict(labels), "exp_annotations": dict(annotations)} for labels, annotations in alerts]}


def run_tests(directory, rule_files, groups, evaluation_interval="1m"):
    """Write a promtool test file for ``groups`` and run ``promtool test rules`` on it."""
    path = os.path.join(str(directory), "rules_test.yml")
    with open(path, "w") as handle:
        yaml.safe_dump({"rule_files": [os.path.abspath(f) for f in rule_files],
                        "evaluation_interval": evaluation_interval, "tests": list(groups)}, handle, sort_keys=False)
    return subprocess.run([promtool(), "test", "rules", path], capture_output=True, text=True, timeout=120, check=False)


def check_rules(path):
    return subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False)


# ------------------------------------------------------------------------- metric names in PromQL

_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
             "offset", "inf", "nan", "atan2", "start", "end"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)(?![\w:])")


def metric_names(expr):
    """The metric names an expression selects (``name{...}``, bare ``name``, ``{__name__="name"}``).

    Strings, label matchers, range/subquery brackets and grouping clauses are removed first; what
    remains that is an identifier, not a keyword and not a function call is a metric name.
    """
    names = set(re.findall(r'__name__\s*=\s*"([^"]+)"', expr))
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _GROUPING.sub(" ", text)
    for match in _IDENT.finditer(text):
        word = match.group(1)
        rest = text[match.end():].lstrip()
        if word.lower() in _KEYWORDS or rest.startswith("("):
            continue
        names.add(word)
    return names


# ------------------------------------------------------------------------- Grafana dashboards

# What Grafana puts in place of its variables before it sends a query: "All" of a multi-value
# variable is its allValue (.+ here), the interval variables become durations.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1d", "${instance}": ".+", "$instance": ".+"}


def dashboard_queries(dashboard):
    """``(where, expr)`` of every PromQL query of a dashboard: panel targets and query variables
    (``label_values(metric, label)`` is checked as ``metric``)."""
    queries = []
    for panel in dashboard.get("panels", []):
        for inner in [panel] + list(panel.get("panels") or []):
            for target in inner.get("targets") or []:
                queries.append(("panel %r target %s" % (inner.get("title"), target.get("refId")), target["expr"]))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            match = re.match(r"label_values\(\s*(.+?)\s*,\s*\w+\s*\)$", query)
            queries.append(("variable %s" % variable["name"], match.group(1) if match else query))
    return queries


def grafana_substitute(expr):
    for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda item: -len(item[0])):
        expr = expr.replace(variable, value)
    return expr


def _recording_rules(directory, queries, name="dashboard_queries"):
    """A rules file with each query as a recording rule (what ``promtool check rules`` parses)."""
    path = os.path.join(str(directory), name + ".rules.yml")
    with open(path, "w") as handle:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
            {"record": "dashboard:query_%d" % i, "expr": expr} for i, (_where, expr) in enumerate(queries)]}]}, handle)
    return path


def check_dashboard(dashboard, capture, directory):
    """Problems of a dashboard's queries against a real export (an empty list when there are none):
    a query that names a metric the export does not carry, that ``promtool check rules`` refuses
    (each query wrapped as a recording rule), or that selects nothing from the exported series
    (``promtool test rules``: ``absent(<query>)`` must be empty)."""
    problems = []
    queries = [(where, grafana_substitute(expr)) for where, expr in dashboard_queries(dashboard)]
    for where, expr in queries:
        missing = metric_names(expr) - set(capture.names)
        if missing:
            problems.append("%s names %s, which the exporter does not write: %s" % (where, sorted(missing), expr))
    rules = _recording_rules(directory, queries)
    if check_rules(rules).returncode != 0:
        for where, expr in queries:   # say which
            checked = check_rules(_recording_rules(directory, [(where, expr)], "one_query"))
            if checked.returncode != 0:
                problems.append("promtool check rules refuses the queries: %s: %s: %s" % (
                    where, expr, (checked.stdout + checked.stderr).strip()[-500:]))
        return problems
    timeline = Timeline(capture, 10)
    tests = [{"expr": "absent(%s)" % expr, "eval_time": "5m", "exp_samples": []} for _where, expr in queries]
    proc = run_tests(directory, [rules], [timeline.group(promql_expr_test=tests)])
    if proc.returncode != 0:
        # say which: one run per query
        for (where, expr), test in zip(queries, tests):
            if run_tests(directory, [rules], [timeline.group(promql_expr_test=[test])]).returncode != 0:
                problems.append("%s selects nothing from the exported series: %s" % (where, expr))
        if not problems:
            problems.append("promtool test rules failed: %s%s" % (proc.stdout[-3000:], proc.stderr[-2000:]))
    return problems
