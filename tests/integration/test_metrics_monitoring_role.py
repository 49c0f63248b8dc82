"""The metrics_monitoring role through the real ansible-playbook, and a real Prometheus (Debian's
``prometheus``) that loads the rules it installs, scrapes real node_exporters serving what the
exporter wrote for the replayed hosts (tests/testlib/exported_metrics.py), and evaluates the rules:
the A100's driver mismatch becomes an active alert. Grafana is not installable here: the provider
file is checked against Grafana's documented provisioning format instead."""

import json
import os
import shutil
import time
import urllib.request

import pytest
import yaml

from testlib.ansible_run import REPO_ROOT, run_playbook
from testlib.llm_servers import Server, free_port
from testlib.system import apt_ensure

pytestmark = pytest.mark.integration

FILES = os.path.join(REPO_ROOT, "roles", "metrics_monitoring", "files")


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


@pytest.fixture
def prometheus(exported, tmp_path):
    """node_exporter per replayed host and a Prometheus scraping them every second, reading rule_files
    from an empty directory the role fills; yields (base url, rules dir)."""
    apt_ensure("prometheus", "prometheus-node-exporter")
    servers = []
    try:
        targets = []
        for host, directory in sorted(exported.dirs.items()):
            port = free_port()
            servers.append(Server([shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter",
                                   "--web.listen-address=127.0.0.1:%d" % port, "--collector.disable-defaults",
                                   "--collector.textfile", "--collector.textfile.directory=%s" % directory],
                                  port=port, ready_path="/metrics", ready_timeout=30))
            targets.append({"targets": ["127.0.0.1:%d" % port], "labels": {"instance": "%s:9100" % host}})
        rules_dir = tmp_path / "rules.d"
        rules_dir.mkdir()
        config = tmp_path / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules_dir / "*.yml")],
            "scrape_configs": [{"job_name": "node", "static_configs": targets}]}))
        port = free_port()
        servers.append(Server([shutil.which("prometheus") or "/usr/bin/prometheus", "--config.file=%s" % config,
                               "--storage.tsdb.path=%s" % (tmp_path / "tsdb"), "--web.listen-address=127.0.0.1:%d" % port,
                               "--web.enable-lifecycle"], port=port, ready_path="/-/ready", ready_timeout=60,
                              log_path=str(tmp_path / "prometheus.log")))
        yield servers[-1].url, rules_dir
    finally:
        for server in reversed(servers):
            server.stop()


def _play(tmp_path, extra, check=False):
    playbook = tmp_path / "monitoring.yml"
    playbook.write_text(yaml.safe_dump([{"name": "monitoring server", "hosts": "localhost", "gather_facts": False,
                                         "roles": [{"role": "gpufleet.maintenance.metrics_monitoring"}]}]))
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(extra))
    return run_playbook(str(playbook), ["-e", "@%s" % vars_file] + (["--check"] if check else []))


def test_role_installs_rules_prometheus_loads_and_evaluates_them(prometheus, tmp_path):
    url, rules_dir = prometheus
    extra = {"metrics_monitoring_rules_dir": str(rules_dir),
             "metrics_monitoring_prometheus_reload_url": url + "/-/reload",
             "metrics_monitoring_grafana_dashboards_dir": str(tmp_path / "dashboards"),
             "metrics_monitoring_grafana_provisioning_dir": str(tmp_path / "provisioning")}
    assert _get(url + "/api/v1/rules")["data"]["groups"] == []

    check = _play(tmp_path, extra, check=True)
    assert check.returncode == 0, check.stdout[-3000:]
    assert "changed=" in check.stdout and os.listdir(rules_dir) == []   # check mode writes nothing
    first = _play(tmp_path, extra)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert "RUNNING HANDLER [gpufleet.maintenance.metrics_monitoring : Reload Prometheus]" in first.stdout
    again_check = _play(tmp_path, extra, check=True)
    assert again_check.returncode == 0 and "changed=0" in again_check.stdout, again_check.stdout[-3000:]
    again = _play(tmp_path, extra)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]
    assert "Reload Prometheus" not in again.stdout   # nothing changed, no reload

    with open(os.path.join(FILES, "prometheus", "gpufleet.rules.yml")) as src:
        assert (rules_dir / "gpufleet.rules.yml").read_text() == src.read()
    # Prometheus reloaded the rules the role installed, parsed them and evaluates them on the scraped export.
    deadline = time.monotonic() + 60
    alerts, groups = [], []
    while time.monotonic() < deadline:
        groups = _get(url + "/api/v1/rules")["data"]["groups"]
        alerts = _get(url + "/api/v1/alerts")["data"]["alerts"]
        if any(a["labels"]["alertname"] == "GpufleetDriverLibraryMismatch" for a in alerts):
            break
        time.sleep(1)
    assert [g["name"] for g in groups] == ["gpufleet.alerts"]
    rules = groups[0]["rules"]
    assert len(rules) == 21 and all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]
    mismatch = [a for a in alerts if a["labels"]["alertname"] == "GpufleetDriverLibraryMismatch"]
    assert len(mismatch) == 1, alerts
    assert mismatch[0]["labels"]["instance"] == "gpu-a100:9100" and mismatch[0]["state"] in ("pending", "firing")
    assert mismatch[0]["annotations"]["summary"] == "NVIDIA kernel module and user-space library differ on gpu-a100:9100"


def test_role_writes_a_grafana_provider_for_the_dashboard(tmp_path):
    extra = {"metrics_monitoring_install": ["dashboard"],
             "metrics_monitoring_grafana_dashboards_dir": str(tmp_path / "dashboards"),
             "metrics_monitoring_grafana_provisioning_dir": str(tmp_path / "provisioning"),
             "metrics_monitoring_grafana_folder": "GPU fleet"}
    proc = _play(tmp_path, extra)
    assert proc.returncode == 0, proc.stdout[-3000:]
    with open(os.path.join(FILES, "grafana", "gpufleet-fleet.json")) as src:
        assert json.loads((tmp_path / "dashboards" / "gpufleet-fleet.json").read_text()) == json.load(src)
    provider = yaml.safe_load((tmp_path / "provisioning" / "gpufleet.yml").read_text())
    # Grafana's documented file provider: apiVersion 1, a provider of type file whose options.path holds the JSON.
    assert provider["apiVersion"] == 1
    [entry] = provider["providers"]
    assert entry["type"] == "file" and entry["folder"] == "GPU fleet"
    assert entry["options"]["path"] == str(tmp_path / "dashboards")
    assert not (tmp_path / "rules.d").exists()


def test_promtool_refuses_a_broken_rules_file_before_it_replaces_the_installed_one(tmp_path):
    """The role's validate step: a rules file promtool refuses never reaches Prometheus' directory."""
    rules_dir = tmp_path / "rules.d"
    rules_dir.mkdir()
    (rules_dir / "gpufleet.rules.yml").write_text("groups: []\n")
    extra = {"metrics_monitoring_install": ["rules"], "metrics_monitoring_rules_dir": str(rules_dir),
             # a promtool that checks a file whose expression it cannot parse: the real one, on a broken copy
             "metrics_monitoring_promtool": str(_broken_promtool(tmp_path))}
    proc = _play(tmp_path, extra)
    assert proc.returncode != 0
    assert "failed to validate" in proc.stdout
    assert (rules_dir / "gpufleet.rules.yml").read_text() == "groups: []\n"


def _broken_promtool(tmp_path):
    """A wrapper that runs the real ``promtool check rules`` on the file with one expression broken."""
    apt_ensure("prometheus")
    wrapper = tmp_path / "promtool-broken"
    wrapper.write_text("#!/bin/sh\n# the real promtool on a copy whose first expression does not parse\n"
                       "sed '0,/expr: |/s//expr: gpufleet_status{{ |/' \"$3\" > \"$3.broken\"\n"
                       "exec %s \"$1\" \"$2\" \"$3.broken\"\n" % (shutil.which("promtool") or "/usr/bin/promtool"))
    wrapper.chmod(0o755)
    return wrapper
