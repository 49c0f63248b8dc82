"""cuda_min_driver / driver_max_cuda against NVIDIA's own table, each release's boundaries, bad input.

The expected values come from NVIDIA's table as written out in tests/testlib/cuda_table.py, not
from the collection's data (plugins/module_utils/_cuda_data.py), so a wrong row there fails here.
"""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.filter.cuda import FilterModule, cuda_min_driver, driver_max_cuda
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack.cuda_data import CUDA_RELEASES
from testlib.cuda_table import GA, NVIDIA_TABLE, below, newest_cuda

ROWS = [pytest.param(row[0], row[2], id=row[1]) for row in NVIDIA_TABLE]


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"cuda_min_driver", "driver_max_cuda"}


@pytest.mark.parametrize("release, minimum", ROWS)
def test_every_release_of_nvidias_table(release, minimum):
    assert cuda_min_driver(release) == minimum


@pytest.mark.parametrize("minor", sorted(GA))
def test_major_minor_means_the_ga_release(minor):
    assert cuda_min_driver(minor) == GA[minor]


@pytest.mark.parametrize("release, minimum", ROWS)
def test_boundaries_of_each_release(release, minimum):
    """At a release's minimum driver the newest CUDA is what the table gives; one step below, too."""
    assert driver_max_cuda(minimum) == newest_cuda(minimum)
    just_below = below(minimum)
    assert driver_max_cuda(just_below) == (newest_cuda(just_below) or "unknown")


def test_the_data_has_no_release_beyond_nvidias_table():
    """Two rows of the data are not in the table above: 12.3 Update 2, which NVIDIA's table does not
    list (the data gives it Update 1's driver), and 13.2 Update 2 (from its own release notes)."""
    extra = sorted(set(row[0] for row in CUDA_RELEASES) - set(row[0] for row in NVIDIA_TABLE))
    assert extra == ["12.3.2", "13.2.2"]


# Hand-checked spot values against the release notes table (independent of the loops above).
@pytest.mark.parametrize("cuda, driver", [
    ("11.0", "450.51.05"), ("11.0.3", "450.51.06"), ("11.4.4", "470.82.01"), ("11.8", "520.61.05"),
    ("12.0", "525.60.13"), ("12.2.2", "535.104.05"), ("12.4", "550.54.14"), ("12.4.1", "550.54.15"),
    ("12.6", "560.28.03"), ("12.6.3", "560.35.05"), ("12.8", "570.26"), ("12.9.1", "575.57.08"),
    ("13.0", "580.65.06"), ("13.0.2", "580.95.05"), ("11.7.1", "515.48.07"), ("13.1", "590.44.01"),
    ("13.1.1", "590.48.01"), ("13.2", "595.45.04"), ("13.2.1", "595.58.03"), ("13.2.2", "595.71.05"),
])
def test_cuda_min_driver_spot_values(cuda, driver):
    assert cuda_min_driver(cuda) == driver


@pytest.mark.parametrize("driver, cuda", [
    ("450.51.05", "11.0"), ("450.80.02", "11.0"), ("470.82.01", "11.4"), ("515.65.01", "11.7"),
    ("520.61.05", "11.8"), ("525.60.12", "11.8"), ("525.60.13", "12.0"), ("535.54.03", "12.2"),
    ("535.183.01", "12.2"), ("545.23.08", "12.3"), ("550.54.14", "12.4"), ("550.144.03", "12.4"),
    ("560.35.05", "12.6"), ("570.26", "12.8"), ("570.124.06", "12.8"), ("575.57.08", "12.9"),
    ("580.65.06", "13.0"), ("580.95.05", "13.0"), ("515.48.07", "11.7"), ("590.48.01", "13.1"),
    ("595.45.04", "13.2"), ("595.71.05", "13.2"),
])
def test_driver_max_cuda_spot_values(driver, cuda):
    assert driver_max_cuda(driver) == cuda


@pytest.mark.parametrize("cuda", ["10.2", "12.7", "13.3", "13.0.3", "13.2.3", "14.0", "12.4.127", "12"])
def test_cuda_beyond_the_data_is_unknown(cuda):
    assert cuda_min_driver(cuda) == "unknown"


@pytest.mark.parametrize("driver", [
    "440.33",      # CUDA 10.2 driver: before the data
    "565.57.01",   # a branch no listed toolkit shipped with
    "600.20",      # newer than the data: may support a CUDA release the data does not know
    "610.57.04",
])
def test_driver_beyond_the_data_is_unknown(driver):
    assert driver_max_cuda(driver) == "unknown"


@pytest.mark.parametrize("bad", [None, True, 12.4, "", "twelve", "12.4-rc1", [], {}])
def test_bad_input_raises(bad):
    for flt in (cuda_min_driver, driver_max_cuda):
        with pytest.raises(AnsibleFilterError):
            flt(bad)


def test_integer_major_is_accepted_as_text():
    assert cuda_min_driver(" 12.4 ") == "550.54.14"
    assert driver_max_cuda("v550.54.14") == "12.4"
