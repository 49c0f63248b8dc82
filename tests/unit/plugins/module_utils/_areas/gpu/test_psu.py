"""psu_load (issue 20, part 2): the GPUs' power draw and limits against the PSU rating (gpufleet_psu_watts).

Numbers by hand: two cards of a real H200 capture's shape (draw, enforced limit) on an 1000 W PSU.
"""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA, checks


def _nvidia(draw, limit, index=0):
    return {"index": index, "state": "ok", "name": "NVIDIA H200", "temperature_c": 40, "memory_used_pct": 1.0,
            "power_draw_w": draw, "power_limit_w": limit, "throttle_reasons": []}


def _evaluate(gpus, psu_watts, amd=()):
    params = AREA.validate({"psu_watts": psu_watts} if psu_watts else {})
    data = {"nvidia": {"present": True, "gpus": gpus}, "amd": {"present": bool(amd), "gpus": list(amd)}, "pci": None}
    return [c for c in checks.evaluate(data, params) if c["check"] == "psu_load"]


@pytest.mark.parametrize("draws, status, pct", [
    ((300.0, 490.0), "ok", 79.0),      # 790 W of 1000 W
    ((300.0, 500.0), "warn", 80.0),    # 800 W: the warning threshold
    ((500.0, 500.0), "crit", 100.0),   # at the rating
])
def test_draw_against_the_rating(draws, status, pct):
    [check] = _evaluate([_nvidia(draws[0], 450.0, 0), _nvidia(draws[1], 500.0, 1)], 1000)
    assert check["status"] == status and check["value"] == pct and check["subject"] == {}
    assert "against the 1000 W PSU" in check["message"]
    if status != "ok":
        assert "nvidia-smi -pl" in check["message"]


def test_power_limits_above_the_rating_warn_while_the_draw_is_low():
    """Idle at 150 W, but two 700 W limits on an 1200 W PSU: a spike to the limits would trip it."""
    [check] = _evaluate([_nvidia(75.0, 700.0, 0), _nvidia(75.0, 700.0, 1)], 1200)
    assert check["status"] == "warn" and check["value"] == 12.5 and check["threshold"] == 1200
    assert "power limits add up to 1400 W, above the PSU's 1200 W" in check["message"]


def test_amd_cards_count_with_their_socket_power():
    [check] = _evaluate([_nvidia(200.0, 300.0)], 600, amd=[{"index": 0, "power_w": 241.0, "power_cap_w": 300.0}])
    # 200 + 241 = 441 W of 600 W = 73.5 %; limits 300 + 300 = 600 W, not above the rating
    assert check["status"] == "ok" and check["value"] == 73.5 and "limits add up" not in check["message"]


def test_a_card_without_a_draw_reading_is_unknown_never_ok():
    [check] = _evaluate([_nvidia(200.0, 300.0, 0), _nvidia(None, 300.0, 1)], 1000)
    assert check["status"] == "unknown" and "power draw not reported for GPU 1" in check["message"]


def test_no_rating_no_check_and_a_rating_below_one_is_refused():
    assert _evaluate([_nvidia(900.0, 1000.0)], None) == []
    with pytest.raises(Exception, match="psu_watts"):
        AREA.validate({"psu_watts": 0})
