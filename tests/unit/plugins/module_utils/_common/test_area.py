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


def test_ranges_bound_numeric_options_and_name_them():
    bounded = Area("tank", "tank", checks=CHECKS, collect=_collect, evaluate=_evaluate,
                   options=dict(AREA.options, timeout=dict(type="int", default=20), level=dict(type="float")),
                   ranges={"timeout": (1, None), "level": (0, 100)})
    assert bounded.validate({"timeout": 1})["timeout"] == 1 and bounded.validate({})["level"] is None
    with pytest.raises(AreaError, match=r"^tank: timeout must be at least 1 \(got 0\)$"):
        bounded.validate({"timeout": 0})
    # The *_facts module path: the spec was validated by AnsibleModule, checked() adds the ranges.
    with pytest.raises(AreaError, match=r"^tank: level must be at most 100 \(got 101\); timeout must be at least 1 \(got -5\)$"):
        bounded.checked({"timeout": -5, "level": 101.0, "tanks": ["a"], "thresholds": {}})


def test_check_options_reports_what_ranges_cannot_say():
    both = Area("pump", "pump", options=dict(since_s=dict(type="int"), since_days=dict(type="float")),
                collect=_collect, ranges={"since_days": (0, None)},
                check_options=lambda p: ["since_s and since_days exclude each other: give one of them"]
                if p.get("since_s") is not None and p.get("since_days") is not None else [])
    with pytest.raises(AreaError, match=r"^pump: since_days must be at least 0 \(got -1\); since_s and since_days exclude"):
        both.validate({"since_s": 5, "since_days": -1})


def test_check_options_refuses_what_the_spec_cannot_say_naming_the_area_and_option():
    def at_least_one_tank(params):
        return [] if params["tanks"] else ["tanks must name at least one tank, got []"]

    strict = Area("tank", "tank", checks=CHECKS, options=AREA.options, collect=_collect, evaluate=_evaluate,
                  check_options=at_least_one_tank)
    with pytest.raises(AreaError, match=r"^tank: tanks must name at least one tank, got \[\]$"):
        strict.validate({"tanks": []})
    with pytest.raises(AreaError, match="tank: tanks must name"):
        strict.checked({"tanks": [], "thresholds": {}})  # what a *_facts module calls after its own spec
    assert strict.validate({"tanks": ["a"]})["tanks"] == ["a"]


def test_data_keys_starting_with_an_underscore_reach_evaluate_but_not_the_fact():
    def collect(run_command, params):
        return {"tanks": [{"name": "a", "fill_pct": 50.0}], "_said": "the gauge stuck at 50"}, []

    def evaluate(data, params):
        return [CHECKS["fill"].result("warn", None, None, data["_said"], subject={"tank": "a"})]

    area = Area("tank", "tank", checks=CHECKS, options=AREA.options, collect=collect, evaluate=evaluate)
    fact, _warnings = area.gather(None, area.validate({}))
    assert fact["checks"][0]["message"] == "the gauge stuck at 50: empty it"
    assert "_said" not in fact and fact["tanks"] == [{"name": "a", "fill_pct": 50.0}]


def test_check_options_runs_after_the_spec_on_both_paths():
    """``check_options`` problems stop validate() (health_facts) and checked() (a *_facts module)."""
    def ranges(params):
        return ["tanks: at most 2 (got %d)" % len(params["tanks"])] if len(params["tanks"]) > 2 else []

    area = Area("tank", "tank", options=dict(tanks=dict(type="list", elements="str", default=["a"])),
                check_options=ranges, collect=_collect, evaluate=_evaluate, present=lambda fact: [])
    assert area.validate({"tanks": ["a", "b"]}) == {"tanks": ["a", "b"]}
    with pytest.raises(AreaError, match=r"^tank: tanks: at most 2 \(got 3\)$"):
        area.validate({"tanks": ["a", "b", "c"]})
    with pytest.raises(AreaError, match="at most 2"):
        area.checked({"tanks": ["a", "b", "c"]})
