"""tests/conftest.py: under CI a skip or xfail fails the test unless it names missing hardware."""

import os

import pytest

pytest_plugins = ["pytester"]

TESTS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

CASES = """
import pytest
from testlib import hardware

def test_plain_skip():
    pytest.skip("needs iproute2")

def test_hardware_skip():
    hardware.skip_without("an NVIDIA GPU")

@pytest.mark.xfail(reason="not built yet")
def test_xfail():
    assert False

def test_passes():
    assert sum([1, 2]) == 3
"""


@pytest.fixture
def suite(pytester):
    pytester.syspathinsert(TESTS_DIR)
    with open(os.path.join(TESTS_DIR, "conftest.py")) as handle:
        pytester.makeconftest(handle.read())
    pytester.makepyfile(test_cases=CASES)
    return pytester


def test_under_ci_only_hardware_skips_pass(suite, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=1, failed=2)
    result.stdout.fnmatch_lines(["*_ test_plain_skip _*", "skipped under CI: needs iproute2",
                                 "*_ test_xfail _*", "xfail under CI: not built yet"])
    result.stdout.fnmatch_lines(["*needs hardware: an NVIDIA GPU*"])


def test_outside_ci_skips_stay_skips(suite, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2, xfailed=1)
