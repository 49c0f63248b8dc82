"""testlib.promtool.metric_names: the metric names a PromQL expression selects (what the rule and
dashboard tests compare with the exporter's output), and Grafana's variables put in place."""

import pytest

from testlib.promtool import grafana_substitute, metric_names


@pytest.mark.parametrize("expr, names", [
    ("gpufleet_status == 2", {"gpufleet_status"}),
    ('gpufleet_check_status{check!~"gpu_temperature|wear", area="gpu"} == 1', {"gpufleet_check_status"}),
    ('gpufleet_gpu_temperature_celsius and on (instance, job, gpu) label_replace(gpufleet_check_status{check="x"} == 2, '
     '"gpu", "$1", "subject", "gpu=(.+)")', {"gpufleet_gpu_temperature_celsius", "gpufleet_check_status"}),
    ("max without (area, subject) (gpufleet_check_status) == 2", {"gpufleet_check_status"}),
    ("predict_linear(gpufleet_disk_used_ratio[3d], 7 * 86400) >= 1", {"gpufleet_disk_used_ratio"}),
    ("(time() - gpufleet_last_success_timestamp_seconds{cadence=\"daily\"}) > 2 * 86400 offset 1d",
     {"gpufleet_last_success_timestamp_seconds"}),
    ("sum by (instance) (rate(node_textfile_scrape_error[5m])) > bool 0", {"node_textfile_scrape_error"}),
    ('{__name__="gpufleet_ssd_wear_ratio", device="/dev/sda"}', {"gpufleet_ssd_wear_ratio"}),
    ("a / on (x) group_left (name, uuid) b", {"a", "b"}),
    ("up", {"up"}),
    ("1.5e3 + 2", set()),
])
def test_metric_names(expr, names):
    assert metric_names(expr) == names


def test_grafana_variables_become_what_grafana_sends():
    assert grafana_substitute('rate(x{instance=~"$instance"}[$__rate_interval])') == 'rate(x{instance=~".+"}[5m])'
