import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._checks import (
    level_check,
    make_check,
    status_rank,
    worst_status,
)


def test_make_check_shape_and_extra_keys_first():
    check = make_check("temperature", "warn", 86, 85, "hot", gpu=0)
    assert list(check) == ["gpu", "check", "status", "value", "threshold", "message"]
    assert check == {"gpu": 0, "check": "temperature", "status": "warn", "value": 86, "threshold": 85, "message": "hot"}


def test_make_check_refuses_unknown_status():
    with pytest.raises(ValueError, match="status must be one of ok, warn, crit"):
        make_check("x", "bad")


@pytest.mark.parametrize("items, expected", [
    ([], "ok"),
    (None, "ok"),
    (["ok", "ok"], "ok"),
    (["ok", "warn"], "warn"),
    (["warn", "crit", "ok"], "crit"),
    ([{"status": "ok"}, {"status": "crit"}], "crit"),
    ([{"status": "warn"}, "ok"], "warn"),
])
def test_worst_status(items, expected):
    assert worst_status(items) == expected


def test_status_rank_order():
    assert status_rank("ok") < status_rank("warn") < status_rank("crit")


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


def test_level_check_none_is_not_reported_and_ok():
    check = level_check("memory_temperature", None, warn=95, crit=105, what="memory junction")
    assert check["status"] == "ok"
    assert check["value"] is None
    assert check["message"] == "memory junction not reported"
