"""The vram_guard area: its one check, ``vram_exhaustion``, with explicit subjects, its readings and
their history subjects (the migration of stored ones: tests/unit/plugins/plugin_utils/test_history.py),
and its option defaults from the table."""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.vram_guard import AREA, build_fact
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import subject_text
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.readings import extract
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import vram_guard as ops

SERVICES = [{"name": "ollama", "kind": "systemd"}]


def _readings(*pcts, vendor="nvidia"):
    return [{"vendor": vendor, "gpu": index, "name": "NVIDIA A100", "used_pct": pct} for index, pct in enumerate(pcts)]


def test_the_area_is_registered_as_set_by_its_module_with_threshold_pct_from_the_table():
    assert registry.of_fact("gpufleet_vram_guard") is AREA
    assert AREA.collect is None and AREA.module == "vram_guard" and "vram_guard" not in registry.GATHERED
    spec = AREA.argument_spec()
    assert spec["threshold_pct"] == {"type": "float", "default": 95}
    assert spec["recheck_s"] == {"type": "int", "default": 60}
    assert spec["services"]["options"]["kind"]["choices"] == ["systemd", "container"]


def test_a_gpu_that_stayed_is_a_vram_exhaustion_about_that_gpu():
    first = _readings(20.0, 97.5)
    decision = ops.decide(first, _readings(21.0, 98.0), 95)
    restarted = build_fact(first, decision, [{"name": "ollama", "kind": "systemd", "restarted": True, "error": None}],
                           95.0, 60, SERVICES, True)
    [check] = restarted["checks"]
    assert (check["check"], check["status"], check["value"]) == ("vram_exhaustion", "warn", 98.0)
    assert check["subject"] == {"gpu": 1} and subject_text(check["subject"]) == "gpu=1" and check["vendor"] == "nvidia"
    nobody = build_fact(first, decision, [], 95.0, 60, [], True)
    assert [(c["check"], c["status"], c["subject"]) for c in nobody["checks"]] == [("vram_exhaustion", "crit", {"gpu": 1})]
    assert nobody["status"] == "crit"


def test_the_verdict_over_every_gpu_is_about_the_host():
    calm = build_fact(_readings(10.0, 20.0), ops.decide(_readings(10.0, 20.0), None, 95), [], 95.0, 60, SERVICES, True)
    [check] = calm["checks"]
    assert (check["check"], check["status"], check["subject"], check["value"]) == ("vram_exhaustion", "ok", {}, 20.0)
    fell = build_fact(_readings(99.0), ops.decide(_readings(99.0), _readings(30.0), 95), [], 95.0, 60, SERVICES, True)
    assert [(c["status"], c["subject"]) for c in fell["checks"]] == [("ok", {"gpu": 0})]


def test_the_readings_keep_the_history_names_and_subjects():
    first = _readings(97.0)
    fact = build_fact(first, ops.decide(first, _readings(96.0), 95), [], 95.0, 30, SERVICES, True)
    rows = extract("vram_guard", fact, AREA.readings)
    assert sorted(rows) == sorted([
        ("vram_guard.threshold_pct", "", 95.0), ("vram_guard.recheck_s", "", 30.0),
        ("vram_guard.gpus.used_pct", "gpu=0", 97.0),
        ("vram_guard.stayed.used_pct", "gpu=0", 96.0), ("vram_guard.stayed.first_pct", "gpu=0", 97.0),
        ("vram_guard.stayed.second_pct", "gpu=0", 96.0)])


def test_gpus_that_could_not_be_read_are_unknown_not_nothing_to_guard():
    said = "GPU present, driver not loaded: NVIDIA GPU 0000:00:06.0 (no driver bound); ...: reinstall the driver"
    gpu_fact = {"nvidia": {"present": False, "gpus": []}, "amd": {"present": False, "gpus": []},
                "checks": [{"check": "gpu_present", "status": "crit", "message": said, "subject": {}}]}
    assert ops.unreadable(gpu_fact) == said and ops.unreadable({"checks": []}) is None
    fact = build_fact([], ops.decide([], None, 95), [], 95.0, 60, SERVICES, ops.gpu_present(gpu_fact),
                      unread=ops.unreadable(gpu_fact))
    [check] = fact["checks"]
    assert (check["check"], check["status"], check["subject"]) == ("vram_exhaustion", "unknown", {})
    assert check["message"].startswith("could not look: the GPUs could not be read (%s): nothing is restarted" % said)
    assert fact["status"] == "unknown" and fact["restarts"] == []
    # A CPU-only host (gpu_present ok) still has nothing to guard.
    calm = build_fact([], ops.decide([], None, 95), [], 95.0, 60, SERVICES, False, unread=None)
    assert [(c["status"], c["message"]) for c in calm["checks"]] == [("ok", "no GPU found: nothing to guard")]


def test_a_gpu_without_a_vram_reading_is_unknown_and_the_others_are_still_judged():
    first = _readings(40.0, None)
    fact = build_fact(first, ops.decide(first, None, 95), [], 95.0, 60, SERVICES, True)
    assert [(c["status"], c["subject"]) for c in fact["checks"]] == [("ok", {}), ("unknown", {"gpu": 1})]
    assert fact["checks"][1]["message"].startswith("could not look: NVIDIA GPU 1 does not report its VRAM use")


def test_a_gpu_that_could_not_be_read_again_is_unknown_and_nothing_is_restarted():
    first = _readings(97.0)
    decision = ops.decide(first, [], 95)  # the second look found no GPU at all
    assert decision["stayed"] == [] and [r["second_pct"] for r in decision["fell"]] == [None]
    fact = build_fact(first, decision, [], 95.0, 60, SERVICES, True)
    [check] = fact["checks"]
    assert (check["status"], check["subject"], check["value"]) == ("unknown", {"gpu": 0}, 97.0)
    assert check["message"].startswith("could not look: NVIDIA GPU 0 VRAM was 97 % and could not be read again after 60 s")


def test_the_calm_message_lists_every_gpus_reading_and_says_what_was_not_read():
    first = _readings(40.0, None)
    fact = build_fact(first, ops.decide(first, None, 95), [], 95.0, 60, SERVICES, True)
    assert fact["checks"][0]["message"] == "VRAM below 95 % on every GPU (NVIDIA GPU 0 40 %, NVIDIA GPU 1 n/a)"
    empty = build_fact([], ops.decide([], None, 95), [], 95.0, 60, SERVICES, True)
    assert [(c["status"], c["value"], c["message"]) for c in empty["checks"]] == [
        ("ok", None, "VRAM below 95 % on every GPU (no VRAM reading)")]


def _stayed_fact(restarts):
    first = _readings(20.0, 97.5)
    return build_fact(first, ops.decide(first, _readings(21.0, 98.0), 95), restarts, 95.0, 60, SERVICES, True)


def test_a_restart_that_worked_is_warn_naming_the_service_and_both_readings():
    [check] = _stayed_fact([{"name": "ollama", "kind": "systemd", "restarted": True, "error": None}])["checks"]
    assert check["status"] == "warn"
    assert check["message"].startswith("NVIDIA GPU 1 VRAM stayed at or above 95 % for 60 s (97.5 %, then 98 %): "
                                       "restarted ollama (systemd); ")


def test_a_restart_that_failed_is_crit_with_the_error():
    failed = [{"name": "ollama", "kind": "systemd", "restarted": False, "error": "Unit ollama.service not found."}]
    [check] = _stayed_fact(failed)["checks"]
    assert (check["status"], check["value"]) == ("crit", 98.0)
    assert check["message"].startswith("NVIDIA GPU 1 VRAM stayed at or above 95 % for 60 s (97.5 %, then 98 %); "
                                       "restarting failed: ollama (systemd): Unit ollama.service not found.")
