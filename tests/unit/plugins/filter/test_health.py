import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.filter.health import FilterModule, summary_lines, worst_status


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"worst_status", "summary_lines", "health_summary"}


@pytest.mark.parametrize("items, expected", [
    (None, "ok"), ([], "ok"), ("warn", "warn"), ({"status": "crit"}, "crit"),
    (["ok", "warn"], "warn"), ([{"status": "ok"}, {"status": "crit"}], "crit"),
])
def test_worst_status(items, expected):
    assert worst_status(items) == expected


def test_worst_status_rejects_unknown_status():
    with pytest.raises(AnsibleFilterError, match="'bad' is not a status"):
        worst_status(["ok", "bad"])


def test_worst_status_rejects_non_iterable():
    with pytest.raises(AnsibleFilterError, match="expects a list"):
        worst_status(5)


def test_summary_lines_rejects_a_list():
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        summary_lines([])
