"""_common.checks: the one shape of a check, the four statuses, subjects, and checks as data."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import (
    Check,
    CheckError,
    CheckTable,
    level_check,
    make_check,
    status_rank,
    subject_of,
    subject_text,
    unknown_check,
    worst_status,
)


def test_make_check_shape_keeps_legacy_subject_keys_and_adds_subject():
    check = make_check("temperature", "warn", 86, 85, "hot", gpu=0, vendor="nvidia")
    assert check == {"gpu": 0, "vendor": "nvidia", "check": "temperature", "status": "warn", "value": 86,
                     "threshold": 85, "message": "hot", "subject": {"gpu": 0}}


def test_make_check_with_an_explicit_subject_sets_its_keys_at_the_top_too():
    check = make_check("dkms_built", "crit", None, None, "x", subject={"module": "nvidia", "kernel": "6.8.0-45"})
    assert check["subject"] == {"module": "nvidia", "kernel": "6.8.0-45"}
    assert (check["module"], check["kernel"]) == ("nvidia", "6.8.0-45")


def test_make_check_refuses_unknown_status():
    with pytest.raises(ValueError, match="status must be one of ok, unknown, warn, crit"):
        make_check("x", "bad")


@pytest.mark.parametrize("subject, text", [
    ({}, ""),
    ({"gpu": 0}, "gpu=0"),
    ({"module": "nvidia", "kernel": "6.8.0-45-generic"}, "kernel=6.8.0-45-generic,module=nvidia"),
    ({"kernel": "6.8.0-45-generic", "module": "nvidia"}, "kernel=6.8.0-45-generic,module=nvidia"),
])
def test_subject_text_is_one_order_independent_string(subject, text):
    assert subject_text(subject) == text


def test_checks_differing_only_by_kernel_have_different_subject_texts():
    # The defect of issue 17: a DKMS check per (module, kernel) collapsed into one alert key.
    running = make_check("dkms_built", "ok", subject={"module": "nvidia", "kernel": "6.8.0-45-generic"})
    newest = make_check("dkms_built", "crit", subject={"module": "nvidia", "kernel": "6.8.0-49-generic"})
    assert subject_text(subject_of(running)) != subject_text(subject_of(newest))


def test_subject_of_a_check_from_before_subjects_existed():
    assert subject_of({"check": "disk_used", "path": "/srv", "status": "ok"}) == {"path": "/srv"}
    assert subject_of({"check": "memory_available", "status": "ok"}) == {}


@pytest.mark.parametrize("items, expected", [
    ([], "ok"),
    (None, "ok"),
    (["ok", "ok"], "ok"),
    (["ok", "unknown"], "unknown"),
    (["unknown", "warn"], "warn"),
    (["ok", "warn"], "warn"),
    (["warn", "crit", "unknown", "ok"], "crit"),
    ([{"status": "ok"}, {"status": "crit"}], "crit"),
    ([{"status": "warn"}, "ok"], "warn"),
    ([{"status": "bogus"}], "unknown"),
    ([{}], "unknown"),
])
def test_worst_status(items, expected):
    assert worst_status(items) == expected


def test_status_rank_order_unknown_is_worse_than_ok_and_better_than_a_found_problem():
    assert status_rank("ok") < status_rank("unknown") < status_rank("warn") < status_rank("crit")


def test_unknown_check_says_it_could_not_look_with_reason_and_fix():
    check = unknown_check("engine", "the Docker SDK for Python is not installed",
                          "run the gpufleet.maintenance.prerequisites role")
    assert check["status"] == "unknown"
    assert check["message"] == ("could not look: the Docker SDK for Python is not installed: "
                                "run the gpufleet.maintenance.prerequisites role")


@pytest.mark.parametrize("value, status, threshold", [
    (84, "ok", 85),
    (85, "warn", 85),
    (89.9, "warn", 85),
    (90, "crit", 90),
    (101, "crit", 90),
])
def test_level_check_higher_is_worse(value, status, threshold):
    check = level_check("temperature", value, warn=85, crit=90, unit=" C", what="GPU 0 temperature", fix="clean the fans")
    assert check["status"] == status
    assert check["threshold"] == threshold
    assert check["value"] == value
    if status != "ok":
        assert check["message"].endswith(": clean the fans")
        assert ("critical at 90 C" if status == "crit" else "warning at 85 C") in check["message"]


def test_level_check_lower_is_worse():
    assert level_check("spare", 50, warn=20, crit=10, higher_is_worse=False)["status"] == "ok"
    assert level_check("spare", 20, warn=20, crit=10, higher_is_worse=False)["status"] == "warn"
    assert level_check("spare", 5, warn=20, crit=10, higher_is_worse=False)["status"] == "crit"


def test_level_check_none_is_unknown_never_ok():
    check = level_check("memory_temperature", None, warn=95, crit=105, what="memory junction")
    assert check["status"] == "unknown"
    assert check["value"] is None
    assert check["message"].startswith("could not look: memory junction not reported")


def test_level_check_none_can_be_no_verdict_at_all():
    assert level_check("memory_temperature", None, warn=95, crit=105, absent="omit") is None
    assert level_check("memory_temperature", 96, warn=95, crit=105, absent="omit")["status"] == "warn"


TABLE = CheckTable(
    Check("junction", "GPU memory junction temperature.", subject=("gpu",),
          thresholds=(("junction_warn_c", 92), ("junction_crit_c", 100)), unit=" C", fix="clean the heatsink"),
    Check("spare", "NVMe available spare.", subject=("device",),
          thresholds=(("spare_warn_pct", 20), ("spare_crit_pct", 10)), unit=" %", higher_is_worse=False,
          fix="replace the drive"),
    Check("tls_days_left", "Days left.", thresholds=(("warn_days", 21), ("crit_days", 7)), higher_is_worse=False),
)


def test_table_defaults_are_the_one_place_thresholds_are_written():
    assert TABLE.defaults() == {"junction_warn_c": 92, "junction_crit_c": 100, "spare_warn_pct": 20,
                                "spare_crit_pct": 10, "warn_days": 21, "crit_days": 7}
    assert TABLE.argument_spec()["junction_warn_c"] == {"type": "float", "default": 92}
    assert TABLE.names() == ["junction", "spare", "tls_days_left"]
    assert TABLE["tls_days_left"].pair() == ("warn_days", "crit_days")


def test_a_threshold_row_may_give_its_own_argument_spec_keys():
    table = CheckTable(
        Check("log_size", "Container log size.", subject=("container",),
              thresholds=(("log_warn_bytes", 1024, {"type": "int"}), ("log_crit_bytes", 4096, {"type": "int"}))),
        Check("unpinned", "Images by tag.", thresholds=(("unpinned_status", "warn",
                                                         {"type": "str", "choices": ["ok", "warn", "crit"]}),)),
    )
    assert table.argument_spec() == {
        "log_crit_bytes": {"type": "int", "default": 4096},
        "log_warn_bytes": {"type": "int", "default": 1024},
        "unpinned_status": {"type": "str", "default": "warn", "choices": ["ok", "warn", "crit"]},
    }
    assert table["log_size"].thresholds == (("log_warn_bytes", 1024), ("log_crit_bytes", 4096))
    assert table["log_size"].pair() == ("log_warn_bytes", "log_crit_bytes")
    assert table.merged({"unpinned_status": "crit"}) == {"log_warn_bytes": 1024, "log_crit_bytes": 4096,
                                                         "unpinned_status": "crit"}
    with pytest.raises(CheckError, match=r"log_crit_bytes \(10\) must not be below log_warn_bytes \(1024\)"):
        table.merged({"log_crit_bytes": 10})


def test_table_merges_overrides_and_refuses_unknown_names_and_pairs_out_of_order():
    assert TABLE.merged({"junction_warn_c": 90, "spare_crit_pct": None})["junction_warn_c"] == 90
    with pytest.raises(CheckError, match="unknown threshold.s. hotness"):
        TABLE.merged({"hotness": 1})
    with pytest.raises(CheckError, match=r"junction_crit_c \(80\) must not be below junction_warn_c \(92\)"):
        TABLE.merged({"junction_crit_c": 80})
    with pytest.raises(CheckError, match=r"spare_crit_pct \(30\) must not be above spare_warn_pct \(20\)"):
        TABLE.merged({"spare_crit_pct": 30})


def test_a_table_refuses_a_check_declared_twice_or_two_defaults_for_one_threshold():
    with pytest.raises(CheckError, match="declared twice"):
        CheckTable(Check("a", "x"), Check("a", "y"))
    with pytest.raises(CheckError, match="two defaults"):
        CheckTable(Check("a", "x", thresholds=(("t_warn", 1),)), Check("b", "y", thresholds=(("t_warn", 2),)))


def test_check_row_levels_with_its_own_thresholds_unit_and_fix():
    limits = TABLE.defaults()
    hot = TABLE["junction"].level(96, limits, "GPU 0 memory junction temperature", subject={"gpu": 0})
    assert (hot["status"], hot["threshold"], hot["subject"]) == ("warn", 92, {"gpu": 0})
    assert hot["message"] == "GPU 0 memory junction temperature is 96 C (warning at 92 C): clean the heatsink"
    low = TABLE["spare"].level(5, limits, "spare of /dev/nvme0", subject={"device": "/dev/nvme0"})
    assert low["status"] == "crit" and low["message"].endswith("(critical at 10 %): replace the drive")


def test_check_row_results_add_the_fix_only_to_problems_and_need_the_declared_subject():
    row = TABLE["junction"]
    assert row.result("ok", 70, 92, "fine", subject={"gpu": 1})["message"] == "fine"
    assert row.result("crit", 110, 100, "too hot", subject={"gpu": 1})["message"] == "too hot: clean the heatsink"
    assert row.unknown("NVML does not report it", subject={"gpu": 1})["message"] == \
        "could not look: NVML does not report it: clean the heatsink"
    with pytest.raises(CheckError, match="subject"):
        row.result("ok", 70, 92, "fine", subject={"device": "/dev/sda"})
    with pytest.raises(CheckError, match="subject"):
        row.result("ok", 70, 92, "fine")


def test_a_check_about_a_subject_or_the_whole_host_takes_either_but_nothing_else():
    row = Check("vram_exhaustion", "VRAM that stayed high.", subject=("gpu",), or_host=True, fix="restart it")
    assert row.result("warn", 98, 95, "GPU 1 stayed", subject={"gpu": 1})["subject"] == {"gpu": 1}
    every = row.result("ok", 20, 95, "below on every GPU")
    assert every["subject"] == {} and subject_text(every["subject"]) == ""
    with pytest.raises(CheckError, match="subject"):
        row.result("ok", 20, 95, "fine", subject={"device": "/dev/sda"})


def test_a_value_not_reported_is_unknown_against_the_warn_threshold_or_the_crit_one_when_there_is_no_warn():
    check = level_check("temperature", None, warn=85, crit=90)
    assert (check["status"], check["value"], check["threshold"]) == ("unknown", None, 85)
    check = level_check("temperature", None, warn=None, crit=90)
    assert (check["status"], check["value"], check["threshold"]) == ("unknown", None, 90)


def test_a_check_row_shows_its_name_in_reprs_and_assertion_messages():
    assert repr(Check("tls_days_left", "Days left.")) == "Check('tls_days_left')"


def test_a_check_table_iterates_its_rows_in_declared_order_and_has_their_count():
    first, second = Check("junction", "GPU memory junction temperature."), Check("spare", "NVMe available spare.")
    table = CheckTable(first, second)
    assert list(table) == [first, second] and len(table) == 2
    assert "junction" in table and "gpu_temperature" not in table


def test_a_crit_threshold_equal_to_the_warn_one_is_accepted_one_below_is_refused():
    table = CheckTable(Check("temp", "GPU temperature.", thresholds=(("temp_warn_c", 85), ("temp_crit_c", 90))))
    assert table.merged({"temp_crit_c": 85}) == {"temp_warn_c": 85, "temp_crit_c": 85}   # "must not be below"
    with pytest.raises(CheckError, match=r"temp_crit_c \(84\) must not be below temp_warn_c \(85\)"):
        table.merged({"temp_crit_c": 84})
