"""Summary sections of gpufleet_models, gpufleet_exposure and gpufleet_backup."""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import make_check
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._summary import summary_lines


def test_sections_and_problems_in_the_summary():
    models = {"manifest": "/var/lib/gpufleet/models.manifest.json", "files_checked": 3, "status": "crit",
              "problems": [{"problem": "checksum_mismatch", "path": "/srv/models/a.gguf"}, {"problem": "deferred", "path": "/srv/b"}],
              "checks": [make_check("model_file", "crit", "checksum_mismatch", None, "/srv/models/a.gguf: sha256 differs: re-download")]}
    exposure = {"exposed": [{"address": "0.0.0.0", "port": 11434}], "status": "crit",
                "checks": [make_check("inference_port_exposed", "crit", "0.0.0.0:11434", "loopback", "open"),
                           make_check("firewall", "warn", "inactive", "active", "no firewall")]}
    backup = {"snapshot": "/mnt/backup/2026-11", "files_checked": 812, "problems": [], "status": "ok",
              "checks": [make_check("backup_restore_drill", "ok", 812, 0, "restored 812 file(s)")]}
    lines = summary_lines({"gpufleet_models": models, "gpufleet_exposure": exposure, "gpufleet_backup": backup})
    assert lines[0] == "status: CRIT"
    assert lines[1] == ("models: 1 problem(s) in 3 file(s) checked against /var/lib/gpufleet/models.manifest.json, "
                        "1 deferred to a later run")
    assert lines[2] == "exposure: open to the network: 0.0.0.0:11434; firewall inactive"
    assert lines[3] == "backup /mnt/backup/2026-11: restore drill OK, 812 file(s) verified, 0 problem(s)"
    assert [line.split(":")[0] for line in lines[4:]] == ["CRIT model_file", "CRIT inference_port_exposed", "WARN firewall"]


def test_clean_sections():
    lines = summary_lines({"gpufleet_models": {"files_checked": 2, "manifest": "m.json", "problems": [], "checks": [], "status": "ok"},
                           "gpufleet_exposure": {"exposed": [], "checks": [], "status": "ok"}})
    assert lines == ["status: OK", "models: 2 file(s) match m.json",
                     "exposure: no inference port open to the network; firewall n/a"]
