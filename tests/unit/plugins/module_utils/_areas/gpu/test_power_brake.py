"""power_brake apart from throttle: the PSU's brake signal is not heat, and is reported once.

From the real nvidia-smi captures: every one that lists hw_power_brake_slowdown has it "Not Active",
so the engaged cases flip that element (and hw_slowdown, which the driver raises with it) in a real
capture rather than building a GPU dict by hand.
"""

import json
import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import checks
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import nvidia_smi

T = checks.CHECKS.merged()
# (capture, element prefix): a DTD v12 card (clocks_event_reasons) and a DTD v11 one (clocks_throttle_reasons)
CAPTURES = [("rtx3060-driver570-dtdv12.xml", "clocks_event_reason_"), ("a10g-driver515-dtdv11.xml", "clocks_throttle_reason_")]


def _capture(fixture_path, name, active=()):
    with open(fixture_path("nvidia_smi", name)) as handle:
        text = handle.read()
    prefix = dict(CAPTURES).get(name)
    for reason in active:
        element = "<%s%s>" % (prefix, reason)
        before = "%sNot Active</%s%s>" % (element, prefix, reason)
        assert before in text, before
        text = text.replace(before, "%sActive</%s%s>" % (element, prefix, reason))
    smi, dummy = nvidia_smi.parse_xml(text)
    return smi["gpus"][0]


def _verdicts(gpu):
    return dict((c["check"], c) for c in checks.nvidia_gpu_checks(gpu, T) if c["check"] in ("throttle", "power_brake"))


NVIDIA_SMI = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "nvidia_smi")
XML_CAPTURES = sorted(name for name in os.listdir(NVIDIA_SMI) if name.endswith(".xml"))


@pytest.mark.parametrize("name", XML_CAPTURES)
def test_no_real_capture_has_the_brake_engaged(fixture_path, name):
    with open(fixture_path("nvidia_smi", name)) as handle:
        smi, dummy = nvidia_smi.parse_xml(handle.read())
    for gpu in smi["gpus"]:
        found = _verdicts(gpu)
        if gpu.get("throttle_reasons") is None:
            assert found["power_brake"]["status"] == "unknown", name
        else:
            assert found["power_brake"]["status"] == "ok" and found["power_brake"]["value"] == [], name
            assert found["power_brake"]["message"].endswith(": power brake not engaged")


@pytest.mark.parametrize("name", [name for name, dummy in CAPTURES])
def test_the_brake_engaged_is_power_brake_and_not_a_thermal_throttle(fixture_path, name):
    gpu = _capture(fixture_path, name, active=("hw_slowdown", "hw_power_brake_slowdown"))
    assert "hw_power_brake_slowdown" in gpu["throttle_reasons"] and "hw_slowdown" in gpu["throttle_reasons"]
    found = _verdicts(gpu)
    brake, throttle = found["power_brake"], found["throttle"]
    assert (brake["status"], brake["value"], brake["subject"]) == ("warn", ["hw_slowdown", "hw_power_brake_slowdown"], {"gpu": 0})
    assert "is slowed by the hardware power brake (hw_power_brake_slowdown): the PSU or a power connector may be " \
           "drooping under load: check the PSU's capacity" in brake["message"]
    assert "reseat the GPU power cables" in brake["message"]
    # hw_slowdown came with the brake and no thermal reason: not reported a second time as heat
    assert (throttle["status"], throttle["value"]) == ("ok", [])


def test_the_brake_and_heat_together_are_both_reported(fixture_path):
    gpu = _capture(fixture_path, "rtx3060-driver570-dtdv12.xml",
                   active=("hw_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"))
    found = _verdicts(gpu)
    assert found["power_brake"]["status"] == "warn"
    assert (found["throttle"]["status"], found["throttle"]["value"]) == ("warn", ["hw_slowdown", "hw_thermal_slowdown"])
    assert "throttled by heat (hw_slowdown, hw_thermal_slowdown)" in found["throttle"]["message"]
    assert "PSU" not in found["throttle"]["message"]


def test_hw_slowdown_alone_stays_a_throttle(fixture_path):
    # A driver that does not list the brake apart (the GRID K520 capture, driver 352) shows it only as hw_slowdown:
    # the throttle check keeps reporting it, so the signal is not lost.
    gpu = _capture(fixture_path, "a10g-driver515-dtdv11.xml", active=("hw_slowdown",))
    found = _verdicts(gpu)
    assert (found["throttle"]["status"], found["throttle"]["value"]) == ("warn", ["hw_slowdown"])
    assert "hw_slowdown: heat, or the power brake where the driver does not report it apart" in found["throttle"]["message"]
    assert found["throttle"]["message"].endswith("if the GPU is cool, check the PSU and its cables as for power_brake")
    assert found["power_brake"]["status"] == "ok"


def test_the_evaluated_area_lists_power_brake_once_per_gpu(fixture_path):
    gpu = _capture(fixture_path, "rtx3060-driver570-dtdv12.xml", active=("hw_slowdown", "hw_power_brake_slowdown"))
    results = checks.evaluate({"nvidia": {"present": True, "gpus": [gpu]}, "pci": None}, {"thresholds": T})
    problems = [(c["check"], c["status"]) for c in results if c["status"] != "ok"]
    assert problems == [("power_brake", "warn")]


@pytest.mark.parametrize("path", ["nvml", "nvidia_smi"])
def test_a_real_h200_at_660_w_under_load_has_neither_brake_nor_throttle(fixture_path, path):
    # device_h200/gpu-probe-load.json: the collection's own NVML and nvidia-smi reads of a lent H200 while PyTorch ran
    # matrix products at 100 % (660 W): no clock event reason active (NVML bitmask 0)
    with open(fixture_path("device_h200", "gpu-probe-load.json")) as handle:
        [gpu] = json.load(handle)[path]["facts"]["gpus"]
    assert gpu["throttle_reasons"] == [] and gpu["power_draw_w"] > 600
    found = _verdicts(gpu)
    assert (found["power_brake"]["status"], found["throttle"]["status"]) == ("ok", "ok")
