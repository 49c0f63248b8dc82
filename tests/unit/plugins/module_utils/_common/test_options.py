"""_common.options: ranges and exclusive options, each problem naming its option."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.options import exclusive, out_of_range

BOUNDS = {"timeout": (1, None), "lock_timeout": (0, 3600), "ratio": (None, 1.0)}


@pytest.mark.parametrize("params, problems", [
    ({"timeout": 1, "lock_timeout": 0, "ratio": 1.0}, []),
    ({"timeout": None, "lock_timeout": None}, []),
    ({"timeout": 0}, ["timeout must be at least 1 (got 0)"]),
    ({"timeout": -5, "lock_timeout": -1}, ["lock_timeout must be at least 0 (got -1)", "timeout must be at least 1 (got -5)"]),
    ({"lock_timeout": 3601}, ["lock_timeout must be at most 3600 (got 3601)"]),
    ({"ratio": 1.5}, ["ratio must be at most 1 (got 1.5)"]),
])
def test_out_of_range_names_each_option(params, problems):
    assert out_of_range(params, BOUNDS) == problems


def test_exclusive():
    assert exclusive({"since_s": 1, "since_days": None}, "since_s", "since_days") == []
    assert exclusive({}, "since_s", "since_days") == []
    assert exclusive({"since_s": 1, "since_days": 7.0}, "since_s", "since_days") == [
        "since_s and since_days exclude each other: give one of them"]
