"""Area maintenance: the checks table and its verdicts at each threshold (values hand-counted)."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.maintenance import AREA, checks

LIMITS = AREA.checks.defaults()
QUIET = {"errors": 0, "timeouts": 0, "oom": 0, "xid": 0}


def _by_name(results):
    return dict((r["check"], r) for r in results)


@pytest.mark.parametrize("prefix, source", [("", "the journal"), ("runner_", "the runner logs")])
@pytest.mark.parametrize("counts, statuses", [
    (QUIET, {"log_errors": "ok", "log_timeouts": "ok", "log_oom": "ok", "log_xid": "ok"}),
    ({"errors": 49, "timeouts": 9, "oom": 0, "xid": 0}, {"log_errors": "ok", "log_timeouts": "ok", "log_oom": "ok", "log_xid": "ok"}),
    ({"errors": 50, "timeouts": 10, "oom": 1, "xid": 1}, {"log_errors": "warn", "log_timeouts": "warn", "log_oom": "warn", "log_xid": "crit"}),
])
def test_log_checks_at_their_thresholds(prefix, source, counts, statuses):
    found = _by_name(checks.log_checks(prefix, counts, LIMITS, source))
    assert dict((name[len(prefix):], r["status"]) for name, r in found.items()) == statuses
    assert all(r["subject"] == {} for r in found.values())


def test_log_check_names_and_messages():
    found = _by_name(checks.log_checks("runner_", {"errors": 51, "timeouts": 0, "oom": 2, "xid": 3}, LIMITS, "the runner logs"))
    assert sorted(found) == ["runner_log_errors", "runner_log_oom", "runner_log_timeouts", "runner_log_xid"]
    assert found["runner_log_errors"]["message"] == ("error lines in the runner logs is 51 (warning at 50): "
                                                     "read them: journalctl -p err --since '7 days ago'")
    assert found["runner_log_oom"]["status"] == "warn" and "lower its batch/context size" in found["runner_log_oom"]["message"]
    assert found["runner_log_xid"]["status"] == "crit" and found["runner_log_xid"]["threshold"] == 1
    found = _by_name(checks.log_checks("", {"errors": 0, "timeouts": 12, "oom": 0, "xid": 0}, LIMITS, "the journal"))
    assert found["log_timeouts"]["status"] == "warn" and "hung service" in found["log_timeouts"]["message"]


@pytest.mark.parametrize("age, status", [(1094, "ok"), (1095, "warn"), (4000, "warn")])
def test_bios_age(age, status):
    found = _by_name(checks.firmware_checks({"bios_version": "F12", "bios_age_days": age, "microcode": "0xb4"}, LIMITS))
    assert found["bios_age"]["status"] == status and found["bios_age"]["value"] == age
    assert found["microcode"]["status"] == "ok" and found["microcode"]["value"] == "0xb4"


def test_table_defaults_are_the_documented_ones():
    assert LIMITS == {"journal_errors_warn": 50, "journal_timeouts_warn": 10, "journal_oom_warn": 1,
                      "journal_xid_crit": 1, "bios_age_warn_days": 1095,
                      "unexpected_reboots_warn": 1, "unexpected_reboots_crit": 3}  # issue 20: warn at 1, crit at 3


def test_since_s_and_since_days_are_one_option_each_way():
    assert AREA.validate({"since_days": 2})["since_days"] == 2.0
    assert AREA.validate({"since_s": 1764115200})["since_s"] == 1764115200
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import AreaError
    with pytest.raises(AreaError, match="^maintenance: since_s and since_days exclude each other: give one of them$"):
        AREA.validate({"since_s": 1764115200, "since_days": 7})
    with pytest.raises(AreaError, match=r"since_days must be at least 0 \(got -1\)"):
        AREA.validate({"since_days": -1})


def _auto(unattended, reboot, blocked=False):
    return {"unattended_upgrades": unattended, "automatic_reboot": reboot, "automatic_reboot_time": "02:00",
            "driver_packages_blocked": blocked, "timers": {"apt-daily-upgrade": "*-*-* 06:00"}}


@pytest.mark.parametrize("unattended, reboot, status, value", [
    (True, True, "warn", True),     # Unattended-Upgrade::Automatic-Reboot "true" with unattended-upgrades on
    (True, False, "ok", False),
    (False, True, "ok", False),     # the reboot setting alone does nothing without unattended-upgrades
])
def test_auto_reboot_value_is_whether_the_box_reboots_itself_and_the_wanted_value_is_false(unattended, reboot, status, value):
    [check] = [c for c in checks.autoupdate_checks(_auto(unattended, reboot)) if c["check"] == "auto_reboot"]
    assert (check["status"], check["value"], check["threshold"]) == (status, value, False)


@pytest.mark.parametrize("unattended, blocked, status, value", [
    (True, False, "warn", True), (True, True, "ok", False), (False, False, "ok", False)])
def test_auto_upgrade_driver_value_is_whether_the_driver_may_be_upgraded_and_the_wanted_value_is_false(
        unattended, blocked, status, value):
    [check] = [c for c in checks.autoupdate_checks(_auto(unattended, False, blocked)) if c["check"] == "auto_upgrade_driver"]
    assert (check["status"], check["value"], check["threshold"]) == (status, value, False)
