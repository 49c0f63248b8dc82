"""cuda_min_driver / driver_max_cuda: every row of the data file, each release's boundaries, bad input."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.filter.cuda import FilterModule, cuda_min_driver, driver_max_cuda
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack.cuda import version_key
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack.cuda_data import CUDA_RELEASES

ROWS = [pytest.param(row[0], row[2], id=row[1]) for row in CUDA_RELEASES]
GA_ROWS = [row for row in CUDA_RELEASES if row[1].endswith(" GA")]


def _below(driver):
    """The driver version just below ``driver`` (550.54.14 → 550.54.13, 570.26 → 570.25)."""
    parts = list(version_key(driver))
    parts[-1] -= 1
    return ".".join(str(p) for p in parts)


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"cuda_min_driver", "driver_max_cuda"}


def test_data_covers_cuda_11_0_through_13_0_in_order():
    versions = [version_key(row[0]) for row in CUDA_RELEASES]
    assert versions == sorted(versions)
    drivers = [version_key(row[2]) for row in CUDA_RELEASES]
    assert drivers == sorted(drivers), "a newer toolkit never needs an older driver"
    minors = set(v[:2] for v in versions)
    for minor in [(11, m) for m in range(9)] + [(12, m) for m in (0, 1, 2, 3, 4, 5, 6, 8, 9)] + [(13, 0)]:
        assert minor in minors


@pytest.mark.parametrize("release, minimum", ROWS)
def test_every_release_row(release, minimum):
    assert cuda_min_driver(release) == minimum


@pytest.mark.parametrize("row", GA_ROWS, ids=[r[1] for r in GA_ROWS])
def test_major_minor_means_the_ga_release(row):
    assert cuda_min_driver("%d.%d" % version_key(row[0])[:2]) == row[2]


@pytest.mark.parametrize("release, minimum", ROWS)
def test_boundaries_of_each_release(release, minimum):
    """At its minimum driver a release is reached; one step below it is not."""
    mm = "%d.%d" % version_key(release)[:2]
    at = driver_max_cuda(minimum)
    assert at != "unknown" and version_key(at) >= version_key(mm)
    below = driver_max_cuda(_below(minimum))
    if below != "unknown":
        # below the minimum of this release: the newest CUDA is this minor only when an earlier
        # update of the same minor is met (e.g. 12.4 Update 1 needs 550.54.15, 12.4 GA 550.54.14)
        ga_min = cuda_min_driver(mm)
        if version_key(_below(minimum)) < version_key(ga_min):
            assert version_key(below) < version_key(mm)
        else:
            assert below == mm


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
