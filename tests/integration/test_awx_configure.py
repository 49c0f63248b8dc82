"""playbooks/awx_configure.yml through the real ansible-playbook and the real awx.awx modules, against
the AWX API stand-in (tests/testlib/awx_standin.py), which records every request: what AWX would
have been asked to create, with which ids, and that no secret shows in Ansible's output."""

import json
import secrets
import subprocess

import pytest

from testlib.ansible_run import run_playbook
from testlib.awx_standin import AwxStandin

pytestmark = pytest.mark.integration

CADENCES = ["daily", "weekly", "monthly", "quarterly", "annual"]
EE_IMAGE = "registry.example.internal/gpufleet-ee:0.1.0"


@pytest.fixture
def secret_env(tmp_path):
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gpufleet-test", "-f", str(key)], check=True)
    return {
        "CONTROLLER_OAUTH_TOKEN": "tok-" + secrets.token_hex(16),
        "GPUFLEET_AWX_SSH_USER": "gpufleet",
        "GPUFLEET_AWX_SSH_KEY_DATA": key.read_text(),
        "GPUFLEET_AWX_BECOME_PASSWORD": "become-" + secrets.token_hex(8),
        "GPUFLEET_AWX_NOTIFY_URL": "https://hooks.example.invalid/services/T0/B0/" + secrets.token_hex(12),
    }


def _configure(awx, env, *extra):
    return run_playbook("playbooks/awx_configure.yml", ["-v", "-e", "gpufleet_awx_scm_url=https://git.example.internal/ops/gpufleet.git",
                                                        "-e", "gpufleet_awx_ee_image=%s" % EE_IMAGE,
                                                        "-e", "gpufleet_awx_timezone=Europe/Berlin"] + list(extra),
                        env=dict(env, CONTROLLER_HOST=awx.url, CONTROLLER_VERIFY_SSL="false"))


def _secret_values(env):
    values = [env["CONTROLLER_OAUTH_TOKEN"], env["GPUFLEET_AWX_BECOME_PASSWORD"], env["GPUFLEET_AWX_NOTIFY_URL"]]
    values += [line for line in env["GPUFLEET_AWX_SSH_KEY_DATA"].splitlines() if line and "PRIVATE KEY" not in line]
    return values


def test_configures_templates_with_ee_credential_survey_notification_and_schedules(secret_env):
    with AwxStandin(secret_env["CONTROLLER_OAUTH_TOKEN"]) as awx:
        proc = _configure(awx, secret_env)
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output[-5000:]
        # Secrets never reach Ansible's output.
        for value in _secret_values(secret_env):
            assert value not in output
        assert "AWX 24.6.1 at %s as gpufleet-automation" % awx.url in proc.stdout

        # Every request but the public ping carried the token.
        for request in awx.requests():
            expected = None if request["path"] == "/api/v2/ping/" else "Bearer " + secret_env["CONTROLLER_OAUTH_TOKEN"]
            assert request["authorization"] == expected, request
        assert [r["path"] for r in awx.requests("GET")][:2] == ["/api/v2/ping/", "/api/v2/me/"]

        org = awx.one("organizations", "Default")["id"]
        ee = awx.one("execution_environments", "gpufleet-ee")
        assert ee["image"] == EE_IMAGE and ee["pull"] == "missing" and ee["organization"] == org

        cred = awx.one("credentials", "gpufleet-ssh")
        machine = awx.one("credential_types", "Machine")["id"]
        [created] = awx.requests("POST", "credentials/")
        assert created["body"]["credential_type"] == machine and created["body"]["organization"] == org
        inputs = created["body"]["inputs"]
        assert inputs["username"] == "gpufleet" and inputs["become_method"] == "sudo"
        assert inputs["ssh_key_data"] == secret_env["GPUFLEET_AWX_SSH_KEY_DATA"]
        assert inputs["become_password"] == secret_env["GPUFLEET_AWX_BECOME_PASSWORD"]

        project = awx.one("projects", "gpufleet-maintenance")
        assert project["scm_url"] == "https://git.example.internal/ops/gpufleet.git" and project["default_environment"] == ee["id"]
        inventory = awx.one("inventories", "gpu-fleet")
        source = awx.one("inventory_sources", "gpu-fleet from gpufleet-maintenance")
        assert (source["source"], source["source_project"], source["source_path"], source["inventory"]) == (
            "scm", project["id"], "inventory/fleet.yml", inventory["id"])
        assert source["execution_environment"] == ee["id"] and source["update_on_launch"] is True
        notification = awx.one("notification_templates", "gpufleet failed jobs")
        assert notification["notification_type"] == "webhook"
        assert notification["notification_configuration"]["url"] == secret_env["GPUFLEET_AWX_NOTIFY_URL"]

        for cadence in CADENCES:
            template = awx.one("job_templates", "gpufleet %s" % cadence)
            [post] = [r for r in awx.requests("POST", "job_templates/") if r["path"] == "/api/v2/job_templates/"
                      and r["body"]["name"] == template["name"]]
            body = post["body"]
            assert body["execution_environment"] == ee["id"] and body["playbook"] == "playbooks/%s.yml" % cadence
            assert (body["project"], body["inventory"], body["organization"]) == (project["id"], inventory["id"], org)
            assert body["survey_enabled"] is True and body["ask_variables_on_launch"] is True
            tid = template["id"]
            assert awx.api.links[("job_templates", tid, "credentials")] == [cred["id"]]
            assert awx.api.links[("job_templates", tid, "notification_templates_error")] == [notification["id"]]
            survey = awx.api.surveys[tid]
            assert {q["variable"]: q["default"] for q in survey["spec"]} == {
                "gpufleet_llm_ttft_crit_s": 10, "gpufleet_tls_warn_days": 21, "gpufleet_tls_crit_days": 7,
                "gpufleet_alert_repeat_hours": 24}
            schedule = awx.one("schedules", "gpufleet %s (Europe/Berlin)" % cadence)
            assert schedule["unified_job_template"] == tid and schedule["enabled"] is True
            assert schedule["rrule"].startswith("DTSTART;TZID=Europe/Berlin:")
        daily = awx.one("schedules", "gpufleet daily (Europe/Berlin)")["rrule"]
        assert daily == "DTSTART;TZID=Europe/Berlin:20260101T060000 RRULE:FREQ=DAILY;INTERVAL=1"

        # A second run changes nothing and writes nothing (secrets are not re-sent).
        writes_before = len([r for r in awx.requests() if r["method"] != "GET"])
        again = _configure(awx, secret_env)
        assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-4000:]
        assert len([r for r in awx.requests() if r["method"] != "GET"]) == writes_before


def test_thresholds_and_unreachable_ok_as_extra_vars_and_no_notification_without_url(secret_env, tmp_path):
    env = dict(secret_env, GPUFLEET_AWX_NOTIFY_URL="")
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"gpufleet_awx_extra_vars": {"gpufleet_thresholds_host": {"disk_used_warn_pct": 70, "disk_used_crit_pct": 80}},
                                 "gpufleet_awx_cadences": ["daily"], "gpufleet_awx_unreachable_ok": True}))
    with AwxStandin(env["CONTROLLER_OAUTH_TOKEN"]) as awx:
        proc = _configure(awx, env, "-e", "@%s" % extra)
        assert proc.returncode == 0, proc.stdout[-4000:]
        template = awx.one("job_templates", "gpufleet daily")
        assert json.loads(template["extra_vars"]) == {"gpufleet_thresholds_host": {"disk_used_warn_pct": 70, "disk_used_crit_pct": 80},
                                                      "gpufleet_unreachable_ok": True}
        assert not awx.api.objects["notification_templates"]
        assert awx.api.links.get(("job_templates", template["id"], "notification_templates_error"), []) == []
        assert [t["name"] for t in awx.api.objects["job_templates"].values()] == ["gpufleet daily"]


def test_a_wrong_token_stops_before_anything_is_written(secret_env):
    with AwxStandin("the-right-token") as awx:
        proc = _configure(awx, secret_env)
        assert proc.returncode != 0
        assert "Check that the token is accepted" in proc.stdout and "401" in proc.stdout + proc.stderr
        assert [r for r in awx.requests() if r["method"] != "GET"] == []
        assert secret_env["CONTROLLER_OAUTH_TOKEN"] not in proc.stdout + proc.stderr


def test_missing_ssh_key_is_refused_without_printing_secrets(secret_env):
    env = dict(secret_env, GPUFLEET_AWX_SSH_KEY_DATA="")
    with AwxStandin(env["CONTROLLER_OAUTH_TOKEN"]) as awx:
        proc = _configure(awx, env)
        assert proc.returncode != 0
        assert awx.requests() == []
        assert env["GPUFLEET_AWX_BECOME_PASSWORD"] not in proc.stdout + proc.stderr
