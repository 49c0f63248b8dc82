"""Area docker: the checks table and its verdicts on readings from recorded API responses."""

import json

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.docker import AREA, checks, parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import extract

PARAMS = AREA.validate({})


@pytest.fixture
def data(fixture_path):
    def load(name):
        with open(fixture_path("docker_api", name)) as handle:
            return json.load(handle)
    info, version, df = load("info-apidocs-v1.34.json"), load("version-apidocs-v1.36.json"), load("system-df-apidocs-v1.39.json")

    def make(used_pct=89.5, log_bytes=2 * 1024 ** 3, state=None, daemon_config=None):
        frame = json.loads(json.dumps(df))
        if state:
            frame["Containers"][0]["State"] = state
        sizes = {} if log_bytes is None else {frame["Containers"][0]["Id"]: log_bytes}
        fs = None if used_pct is None else {"size_bytes": 1000, "used_bytes": 850, "free_bytes": 100, "used_pct": used_pct}
        return parse.shape(info, version, frame, root_fs=fs, log_sizes=sizes, daemon_config=daemon_config)
    return make


def by_name(results):
    return dict((c["check"], c) for c in results)


def test_defaults_come_from_the_table():
    assert PARAMS["thresholds"] == {"root_used_warn_pct": 80.0, "root_used_crit_pct": 90.0,
                                    "container_log_warn_bytes": 1073741824, "container_log_crit_bytes": 10737418240,
                                    "unpinned_status": "warn"}


def test_warn_root_and_log_of_a_stopped_container(data):
    found = by_name(checks.evaluate(data(), PARAMS))
    assert found["docker_root_used"]["status"] == "warn"          # 89.5 %: warn at 80, crit at 90
    assert found["docker_root_used"]["subject"] == {"path": "/var/lib/docker"}
    assert found["container_log_size"]["status"] == "warn"        # 2 GiB: warn 1 GiB, crit 10 GiB
    assert found["container_log_size"]["subject"] == {"container": "top"}
    assert found["container_log_size"]["message"].endswith(
        "set log-opts max-size/max-file in daemon.json (docker_hygiene does) and recreate the container")
    assert found["images_unpinned"]["status"] == "ok"             # the container is stopped


def test_rotation_set_asks_only_for_a_recreate(data):
    rotated = data(daemon_config={"log-opts": {"max-size": "50m"}})
    found = by_name(checks.evaluate(rotated, PARAMS))
    assert found["container_log_size"]["message"].endswith(": recreate the container to start a fresh log")


@pytest.mark.parametrize("used_pct, status", [(79.9, "ok"), (80, "warn"), (90, "crit"), (None, "unknown")])
def test_docker_root_used_levels(data, used_pct, status):
    assert by_name(checks.evaluate(data(used_pct=used_pct), PARAMS))["docker_root_used"]["status"] == status


def test_crit_log_and_unpinned_running(data):
    found = by_name(checks.evaluate(data(log_bytes=11 * 1024 ** 3, state="running"), PARAMS))
    assert found["container_log_size"]["status"] == "crit"
    unpinned = found["images_unpinned"]
    assert unpinned["status"] == "warn" and unpinned["value"] == 1 and "(top)" in unpinned["message"]
    assert unpinned["message"].endswith("pin the digests (image_digest mode=lock writes a manifest) so an update "
                                        "cannot change them silently")
    quiet = AREA.validate({"thresholds": {"unpinned_status": "ok"}})
    assert by_name(checks.evaluate(data(state="running"), quiet))["images_unpinned"]["status"] == "ok"
    loud = AREA.validate({"thresholds": {"unpinned_status": "crit"}})
    assert by_name(checks.evaluate(data(state="running"), loud))["images_unpinned"]["status"] == "crit"


def test_unknown_log_size_gives_no_check_rather_than_a_guess(data):
    assert "container_log_size" not in by_name(checks.evaluate(data(log_bytes=None), PARAMS))


def test_docker_not_installed_is_ok_and_says_so():
    [check] = checks.evaluate(parse.absent("Docker is not installed on this host (no dockerd, no docker unit, no socket "
                                           "at unix:///var/run/docker.sock)"), PARAMS)
    assert (check["check"], check["status"], check["value"], check["subject"]) == ("docker_present", "ok", False, {})
    assert check["message"].startswith("Docker is not installed on this host")


def test_docker_installed_but_silent_is_crit_with_the_fix():
    data = parse.absent("Docker is installed (/usr/sbin/dockerd) but the daemon does not answer (connecting to the Docker "
                        "daemon at unix:///var/run/docker.sock: Read timed out. (read timeout=30))", ["/usr/sbin/dockerd"])
    [check] = checks.evaluate(data, PARAMS)
    assert (check["check"], check["status"]) == ("docker_present", "crit")
    assert check["message"] == data["reason"] + ": start it (systemctl start docker) or look at its log (journalctl -u docker)"


def test_an_engine_too_old_is_crit_and_asks_for_an_upgrade():
    data = parse.absent("connecting to the Docker daemon at unix:///var/run/docker.sock: API version 1.40 is older than "
                        "1.41 (Docker 20.10); upgrade Docker", ["/usr/bin/dockerd"], too_old=True)
    [check] = checks.evaluate(data, PARAMS)
    assert check["status"] == "crit" and check["message"] == data["reason"]


def test_the_sdk_missing_while_docker_is_installed_is_unknown_naming_the_sdk_and_the_fix():
    data = parse.absent("the Docker SDK for Python (pip package 'docker') is not installed for /usr/bin/python3, and "
                        "Docker is installed (socket /var/run/docker.sock)", ["socket /var/run/docker.sock"], sdk=False)
    [check] = checks.evaluate(data, PARAMS)
    assert (check["check"], check["status"]) == ("docker_present", "unknown")
    assert check["message"] == ("could not look: " + data["reason"] + ": run the gpufleet.maintenance.prerequisites role "
                                "(it installs the Docker SDK for Python for the modules)")


def test_an_engine_that_answers_is_ok(data):
    found = by_name(checks.evaluate(data(), PARAMS))
    assert found["docker_present"]["status"] == "ok" and found["docker_present"]["value"] is True
    assert found["docker_present"]["message"] == "Docker 17.04.0 answers (API 1.27)"


def test_every_check_is_a_table_row():
    assert checks.CHECKS.names() == ["docker_present", "docker_root_used", "container_log_size", "daemon_restart_pending",
                                     "images_unpinned"]


T0 = 1795000000          # 2026-11-18T11:06:40Z (date -u -d @1795000000): docker_hygiene rewrote daemon.json
STARTED = T0 - 86400     # the daemon started a day before


@pytest.mark.parametrize("started, status, words", [
    (STARTED, "warn", "daemon.json (/etc/docker/daemon.json) changed at 2026-11-18T11:06:40Z and Docker has not restarted "
                      "since (started 2026-11-17T11:06:40Z): restart Docker to apply it (systemctl restart docker"),
    (T0 + 60, "ok", "daemon.json (/etc/docker/daemon.json) changed at 2026-11-18T11:06:40Z and Docker restarted after it "
                    "(2026-11-18T11:07:40Z): the change is applied"),
    (None, "warn", "daemon.json (/etc/docker/daemon.json) changed at 2026-11-18T11:06:40Z and no restart of Docker can "
                   "be seen since (its pidfile /var/run/docker.pid cannot be read here): restart Docker"),
])
def test_a_daemon_json_change_stays_pending_until_docker_restarted(data, started, status, words):
    fact = data()
    fact["daemon_restart"] = parse.restart_state('{"daemon_json": "/etc/docker/daemon.json"}',
                                                 "/var/lib/gpufleet/docker_hygiene.json", "/etc/docker/daemon.json", T0,
                                                 "/var/run/docker.pid", started)
    check = by_name(checks.evaluate(fact, PARAMS))["daemon_restart_pending"]
    assert check["status"] == status and check["message"].startswith(words), check["message"]
    if started is None:
        assert check["message"].endswith("; then delete /var/lib/gpufleet/docker_hygiene.json")


def test_no_state_file_no_restart_check(data):
    assert parse.restart_state(None, "/s", "/d", T0, "/p", STARTED) is None
    assert "daemon_restart_pending" not in by_name(checks.evaluate(data(), PARAMS))


def test_the_history_records_the_root_use_disk_use_and_each_containers_log(data):
    rows = dict(((metric, subject), value) for metric, subject, value in extract("docker", data(), AREA.readings))
    assert rows[("docker.root_fs.used_pct", "")] == 89.5
    assert rows[("docker.containers.log_bytes", "container=top")] == 2 * 1024 ** 3
    assert rows[("docker.disk_usage.volumes.total_bytes", "")] == 10920104
    assert ("docker.log_max_size_bytes", "") not in rows  # max-size unset: not a reading of 0
    rotated = data(daemon_config={"log-opts": {"max-size": "50m"}})
    assert ("docker.log_max_size_bytes", "", 50000000.0) in extract("docker", rotated, AREA.readings)


@pytest.mark.parametrize("timeout", [0, -3])
def test_a_timeout_below_one_second_fails_naming_the_option(timeout):
    with pytest.raises(AreaError, match="^docker: timeout must be at least 1 \\(got %d\\)$" % timeout):
        AREA.validate({"timeout": timeout})


# Values and thresholds of the results, not only their statuses (the fact, the history and the
# metrics carry them): docker_present's value says whether Docker answered, daemon_restart_pending's
# whether a restart is still owed, images_unpinned's threshold is zero (no container by tag is fine).

def test_docker_that_does_not_answer_has_the_value_false_whether_silent_or_too_old():
    silent = parse.absent("the daemon does not answer", ["/usr/sbin/dockerd"])
    old = parse.absent("API version 1.40 is older than 1.41", ["/usr/bin/dockerd"], too_old=True)
    for data in (silent, old):
        [check] = checks.evaluate(data, PARAMS)
        assert (check["status"], check["value"]) == ("crit", False)


def test_a_reading_without_the_sdk_flag_is_not_taken_for_a_missing_sdk():
    # Docker installed and silent, from a reading that does not say whether the SDK is there: the
    # SDK answered the question "is Docker up" (a missing SDK is recorded as sdk: false), so crit.
    data = {"present": False, "reason": "the daemon does not answer", "install_evidence": ["/usr/sbin/dockerd"]}
    [check] = checks.evaluate(data, PARAMS)
    assert (check["status"], check["value"]) == ("crit", False)


@pytest.mark.parametrize("started, pending", [(STARTED, True), (T0 + 60, False), (None, True)])
def test_the_restart_check_value_says_whether_a_restart_is_still_owed(data, started, pending):
    fact = data()
    fact["daemon_restart"] = parse.restart_state('{"daemon_json": "/etc/docker/daemon.json"}',
                                                 "/var/lib/gpufleet/docker_hygiene.json", "/etc/docker/daemon.json", T0,
                                                 "/var/run/docker.pid", started)
    assert by_name(checks.evaluate(fact, PARAMS))["daemon_restart_pending"]["value"] is pending


@pytest.mark.parametrize("state, value, status", [("running", 1, "warn"), ("exited", 0, "ok")])
def test_images_unpinned_counts_running_containers_by_tag_against_a_threshold_of_zero(data, state, value, status):
    check = by_name(checks.evaluate(data(state=state), PARAMS))["images_unpinned"]
    assert (check["status"], check["value"], check["threshold"]) == (status, value, 0)
