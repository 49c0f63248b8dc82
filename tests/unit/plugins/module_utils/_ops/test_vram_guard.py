"""vram_guard decisions: a GPU must stay at or above the threshold across two readings."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.vram_guard import build_fact, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import vram_guard as _vram


def fact(nvidia=(), amd=()):
    return {"nvidia": {"present": bool(nvidia), "gpus": [{"index": i, "name": "NVIDIA A100", "memory_used_pct": p}
                                                         for i, p in enumerate(nvidia)]},
            "amd": {"present": bool(amd), "gpus": [{"index": i, "name": "AMD MI210", "vram_used_pct": p}
                                                   for i, p in enumerate(amd)]}}


def test_readings_cover_both_vendors_and_keep_null():
    readings = _vram.gpu_readings(fact(nvidia=[97.5, None], amd=[40.0]))
    assert readings == [
        {"vendor": "nvidia", "gpu": 0, "name": "NVIDIA A100", "used_pct": 97.5},
        {"vendor": "nvidia", "gpu": 1, "name": "NVIDIA A100", "used_pct": None},
        {"vendor": "amd", "gpu": 0, "name": "AMD MI210", "used_pct": 40.0},
    ]
    assert _vram.exhausted(readings, 95) == readings[:1]
    assert _vram.exhausted(readings, 40) == [readings[0], readings[2]]   # at the threshold counts
    assert _vram.gpu_readings({}) == [] and _vram.gpu_readings(None) == []


def test_decide_stayed_and_fell():
    first = _vram.gpu_readings(fact(nvidia=[97.0, 99.0, 20.0]))
    second = _vram.gpu_readings(fact(nvidia=[96.0, 60.0, 99.0]))
    decision = _vram.decide(first, second, 95)
    assert [(r["gpu"], r["first_pct"], r["second_pct"]) for r in decision["stayed"]] == [(0, 97.0, 96.0)]
    # GPU 2 rose only at the second look: not exhausted at first, so neither stayed nor fell.
    assert [(r["gpu"], r["first_pct"], r["second_pct"]) for r in decision["fell"]] == [(1, 99.0, 60.0)]


def test_decide_gpu_gone_or_unreadable_at_second_look_does_not_restart():
    first = _vram.gpu_readings(fact(nvidia=[97.0, 98.0]))
    second = _vram.gpu_readings(fact(nvidia=[None]))
    decision = _vram.decide(first, second, 95)
    assert decision["stayed"] == [] and [r["gpu"] for r in decision["fell"]] == [0, 1]


def test_decide_without_second_look():
    first = _vram.gpu_readings(fact(nvidia=[97.0, 10.0]))
    decision = _vram.decide(first, None, 95)
    assert [(r["gpu"], r["second_pct"]) for r in decision["stayed"]] == [(0, None)] and decision["fell"] == []


SERVICES = [{"name": "ollama", "kind": "systemd"}]


def test_fact_when_restarted():
    first = _vram.gpu_readings(fact(nvidia=[97.5]))
    decision = _vram.decide(first, _vram.gpu_readings(fact(nvidia=[98.0])), 95)
    restarts = [{"name": "ollama", "kind": "systemd", "restarted": True, "error": None}]
    result = build_fact(first, decision, restarts, 95.0, 60, SERVICES, True)
    [check] = result["checks"]
    assert result["status"] == "warn" and check["status"] == "warn" and check["value"] == 98.0 and check["gpu"] == 0
    assert check["message"].startswith("NVIDIA GPU 0 VRAM stayed at or above 95 % for 60 s (97.5 %, then 98 %): restarted ollama (systemd)")
    assert present.summary_lines(result) == ["vram guard: ollama (systemd) restarted"]
    checked = build_fact(first, decision, [dict(restarts[0], restarted=False)], 95.0, 60, SERVICES, True, check_mode=True)
    assert "would restart ollama (systemd)" in checked["checks"][0]["message"]


def test_fact_when_restart_failed_or_nothing_to_restart_is_crit():
    first = _vram.gpu_readings(fact(amd=[99.0]))
    decision = _vram.decide(first, _vram.gpu_readings(fact(amd=[99.0])), 95)
    failed = [{"name": "vllm", "kind": "container", "restarted": False, "error": "restarting container vllm: No such container"}]
    result = build_fact(first, decision, failed, 95, 60, [{"name": "vllm", "kind": "container"}], True)
    assert result["status"] == "crit" and "AMD GPU 0" in result["checks"][0]["message"]
    assert "restarting failed: vllm (container): restarting container vllm: No such container" in result["checks"][0]["message"]
    assert present.summary_lines(result) == ["vram guard: vllm (container) failed: restarting container vllm: No such container"]
    nothing = build_fact(first, decision, [], 95, 60, [], True)
    assert nothing["status"] == "crit" and "no service is configured" in nothing["checks"][0]["message"]
    assert present.summary_lines(nothing) == ["vram guard: VRAM stayed exhausted on AMD GPU 0, nothing restarted"]


def test_fact_ok_cases():
    first = _vram.gpu_readings(fact(nvidia=[50.0, 70.25]))
    calm = build_fact(first, _vram.decide(first, None, 95), [], 95, 60, SERVICES, True)
    assert calm["status"] == "ok" and calm["checks"][0]["value"] == 70.25
    assert calm["checks"][0]["message"] == "VRAM below 95 % on every GPU (NVIDIA GPU 0 50 %, NVIDIA GPU 1 70.2 %)"
    busy = _vram.gpu_readings(fact(nvidia=[99.0]))
    fell = build_fact(busy, _vram.decide(busy, _vram.gpu_readings(fact(nvidia=[40.0])), 95), [], 95, 30, SERVICES, True)
    assert fell["status"] == "ok" and "was 99 % and fell to 40 % within 30 s" in fell["checks"][0]["message"]
    none = build_fact([], _vram.decide([], None, 95), [], 95, 60, SERVICES, False)
    assert none["status"] == "ok" and none["checks"][0]["message"] == "no GPU found: nothing to guard"
    assert present.summary_lines(calm) == ["vram guard: no restart needed (threshold 95 %)"]
    assert present.summary_lines(none) == ["vram guard: no GPU reading, nothing to guard"]


@pytest.mark.parametrize("threshold, recheck, services, match", [
    (0, 60, [], "threshold_pct must be above 0"),
    (101, 60, [], "at most 100"),
    (95, -1, [], "recheck_s must be between 0 and 3600"),
    (95, 60, [{"name": " ", "kind": "systemd"}], "every entry needs a name"),
    (95, 60, [{"name": "x", "kind": None}, {"name": "x", "kind": "systemd"}], "listed twice"),
])
def test_validate(threshold, recheck, services, match):
    problems = _vram.validate(threshold, recheck, services)
    assert any(match in p for p in problems), problems


def test_validate_accepts_good_options():
    assert _vram.validate(95, 0, [{"name": "ollama", "kind": "systemd"}, {"name": "ollama", "kind": "container"}]) == []


def test_gpu_present():
    assert _vram.gpu_present(fact(nvidia=[1.0])) and _vram.gpu_present(fact(amd=[1.0]))
    assert not _vram.gpu_present(fact()) and not _vram.gpu_present(None)
