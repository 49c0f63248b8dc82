"""The benchmark area's statistics (parse.py): median/p95/min/max."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark.parse import percentile, summarize


@pytest.mark.parametrize("values, expected", [
    ([1.0], dict(median=1.0, p95=1.0, min=1.0, max=1.0)),
    ([3.0, 1.0, 2.0], dict(median=2.0, p95=2.9, min=1.0, max=3.0)),
    ([1.0, 2.0, 3.0, 4.0], dict(median=2.5, p95=3.85, min=1.0, max=4.0)),
    ([None, 2.0, None], dict(median=2.0, p95=2.0, min=2.0, max=2.0)),
    ([], dict(median=None, p95=None, min=None, max=None)),
    ([None], dict(median=None, p95=None, min=None, max=None)),
])
def test_summarize(values, expected):
    assert summarize(values) == expected


def test_percentile_bounds():
    assert percentile(range(101), 95) == 95
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1], 101)
