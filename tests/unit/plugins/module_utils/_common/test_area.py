"""_common.area: options validated once (ArgumentSpecValidator), defaults from the checks table."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.area import Area, AreaError
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable

CHECKS = CheckTable(Check("fill", "How full the tank is.", subject=("tank",),
                          thresholds=(("fill_warn_pct", 80), ("fill_crit_pct", 90)), unit=" %", fix="empty it",
                          reads=("tanks[].fill_pct",)))


def _collect(run_command, params):
    return {"tanks": [{"name": name, "fill_pct": 85.0} for name in params["tanks"]]}, ["read %d tank(s)" % len(params["tanks"])]


def _evaluate(data, params):
    return [CHECKS["fill"].level(t["fill_pct"], params["thresholds"], "tank %s" % t["name"], subject={"tank": t["name"]})
            for t in data["tanks"]]


AREA = Area("tank", "tank", checks=CHECKS, options=dict(tanks=dict(type="list", elements="str", default=["a"])),
            collect=_collect, evaluate=_evaluate, present=lambda fact: ["tanks: %d" % len(fact["tanks"])])


def test_the_spec_adds_the_thresholds_of_the_table():
    assert AREA.argument_spec() == {
        "tanks": {"type": "list", "elements": "str", "default": ["a"]},
        "thresholds": {"type": "dict", "default": {}, "options": {
            "fill_crit_pct": {"type": "float", "default": 90}, "fill_warn_pct": {"type": "float", "default": 80}}}}
    assert AREA.fact == "gpufleet_tank"


def test_validate_fills_defaults_and_names_the_area_and_option_on_errors():
    assert AREA.validate({"thresholds": {"fill_warn_pct": None}}) == {
        "tanks": ["a"], "thresholds": {"fill_warn_pct": 80, "fill_crit_pct": 90}}
    with pytest.raises(AreaError, match="tank: .*colour"):
        AREA.validate({"colour": "red"})
    with pytest.raises(AreaError, match="tank: .*tanks"):
        AREA.validate({"tanks": {"a": 1}})
    with pytest.raises(AreaError, match=r"tank: thresholds: fill_crit_pct \(70.0\) must not be below fill_warn_pct \(80.0\)"):
        AREA.validate({"thresholds": {"fill_crit_pct": 70}})


def test_gather_collects_then_judges_then_rolls_up():
    fact, warnings = AREA.gather(None, AREA.validate({"tanks": ["a", "b"]}))
    assert warnings == ["read 2 tank(s)"]
    assert fact["schema_version"] == 1 and fact["status"] == "warn"  # 85 % is at or above 80, below 90
    assert [c["subject"] for c in fact["checks"]] == [{"tank": "a"}, {"tank": "b"}]
    assert fact["thresholds"] == {"fill_warn_pct": 80, "fill_crit_pct": 90}


def test_an_area_set_by_another_module_cannot_be_gathered():
    with pytest.raises(AreaError, match="set by backup_snapshot"):
        Area("backup", "backup", module="backup_snapshot").gather(None, {})


def test_a_result_of_a_check_not_in_the_table_is_refused():
    rogue = Area("tank", "tank", checks=CHECKS, options=AREA.options, collect=_collect,
                 evaluate=lambda data, params: [dict(check="leak", status="warn", message="x")])
    with pytest.raises(AreaError, match="check.s. leak are not in the area's checks table"):
        rogue.gather(None, rogue.validate({}))
