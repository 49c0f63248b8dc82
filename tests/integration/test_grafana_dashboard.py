"""The Grafana dashboard (roles/metrics_monitoring/files/grafana/gpufleet-fleet.json): every query
names only metrics the exporter really writes, passes ``promtool check rules`` wrapped as a recording
rule, and selects series from the real export (``promtool test rules``); the JSON is ready for
Grafana's file provisioning. Grafana itself is not installable here (docs/metrics.md says what that
leaves unproven)."""

import copy
import json
import os

import pytest

from testlib.ansible_run import REPO_ROOT
from testlib.promtool import check_dashboard, dashboard_queries

pytestmark = pytest.mark.integration

DASHBOARD = os.path.join(REPO_ROOT, "roles", "metrics_monitoring", "files", "grafana", "gpufleet-fleet.json")


def _dashboard():
    with open(DASHBOARD) as handle:
        return json.load(handle)


def test_every_query_selects_what_the_exporter_writes(exported, tmp_path):
    dashboard = _dashboard()
    assert len(dashboard_queries(dashboard)) >= 20
    assert check_dashboard(dashboard, exported, tmp_path) == []


@pytest.mark.parametrize("old, new, problem", [
    # a metric the exporter does not write (a typo in the unit suffix)
    ("gpufleet_ssd_wear_ratio{", "gpufleet_ssd_wear_percent{", "names ['gpufleet_ssd_wear_percent'], which the exporter does not write"),
    # an exported metric with a label value no series has
    ('area="benchmark", check="llm_ttft"', 'area="llm", check="llm_ttft"', "selects nothing from the exported series"),
    # not PromQL
    ("sum(gpufleet_status{", "sum(gpufleet_status{{", "promtool check rules refuses the queries"),
])
def test_a_broken_query_is_caught(exported, tmp_path, old, new, problem):
    broken = copy.deepcopy(_dashboard())
    targets = [t for p in broken["panels"] for t in p.get("targets", []) if old in t["expr"]]
    assert targets, old
    targets[0]["expr"] = targets[0]["expr"].replace(old, new)
    problems = check_dashboard(broken, exported, tmp_path)
    # the problem is found, and every problem reported is about the broken query
    assert any(problem in p for p in problems), problems
    assert all(new in p for p in problems), problems


def test_the_json_is_ready_for_file_provisioning():
    dashboard = _dashboard()
    # Provisioned dashboards are stored as they are: no import-time inputs, a fixed uid, no numeric id.
    assert "__inputs" not in dashboard and "id" not in dashboard
    assert dashboard["uid"] == "gpufleet-fleet" and dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["instance"]["includeAll"] is True and variables["instance"]["allValue"] == ".+"
    ids = []
    for panel in dashboard["panels"]:
        ids.append(panel["id"])
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        # every panel and target reads the Prometheus data source the user picks, never a fixed uid
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"] and target["refId"]
            assert 'instance=~"$instance"' in target["expr"], (panel["title"], target["expr"])
    assert len(ids) == len(set(ids))
    # the status panels name all four states, unknown included
    status_panels = [p for p in dashboard["panels"] if "mappings" in p.get("fieldConfig", {}).get("defaults", {})]
    assert len(status_panels) >= 3
    for panel in status_panels:
        texts = {key: option["text"] for key, option in panel["fieldConfig"]["defaults"]["mappings"][0]["options"].items()}
        assert texts == {"0": "OK", "1": "WARN", "2": "CRIT", "3": "UNKNOWN"}, panel["title"]
