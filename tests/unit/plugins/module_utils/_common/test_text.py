"""_common.text: the one way sizes, durations and times are written."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.text import (
    day,
    human_bytes,
    human_duration,
    iso,
    with_unit,
)


@pytest.mark.parametrize("number, text", [(None, "n/a"), (512, "512 B"), (1536, "1.5 KiB"), (3 * 1024 ** 3, "3.0 GiB"),
                                          (1024 ** 5 * 2, "2.0 PiB")])
def test_human_bytes(number, text):
    assert human_bytes(number) == text


@pytest.mark.parametrize("seconds, text", [(None, "n/a"), (59, "0m"), (3660, "1h 1m"), (93784, "1d 2h 3m")])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_times_and_units():
    # 1764733500 is 2025-12-03 03:45:00 UTC (date -u -d @1764733500).
    assert iso(1764733500) == "2025-12-03T03:45:00Z"
    assert day(1764733500) == "2025-12-03"
    assert with_unit(71.25, " C") == "71.2 C"
    assert with_unit(None, " C") == "n/a"
