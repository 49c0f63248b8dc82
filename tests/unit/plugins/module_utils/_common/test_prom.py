from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.prom import (
    Families,
    escape_label,
    metrics_from_facts,
    parse_samples,
    render,
    textfile,
)

FACTS = {
    "gpufleet_host": {
        "disks": [{"path": "/srv/models", "mount": "/srv", "present": True, "used_pct": 81.5},
                  {"path": "/var/lib/ollama", "present": False, "used_pct": None}],
        "memory_available_pct": 40.0,
        "checks": [{"check": "disk_used", "status": "warn", "path": "/srv/models"}],
        "status": "warn",
    },
    "gpufleet_gpu": {
        "nvidia": {"gpus": [{"index": 0, "uuid": "GPU-b29d356a", "name": "NVIDIA H200", "temperature_c": 31,
                             "memory_temperature_c": 35, "power_draw_w": 101.4, "power_limit_w": 700.0,
                             "memory_used_mib": 615, "memory_total_mib": 143771, "utilization_gpu_pct": 0,
                             "fan_speed_pct": None, "ecc": {"volatile_uncorrected": 0, "volatile_corrected": 0}}]},
        "amd": {"gpus": [{"index": 0, "name": "Radeon RX 6700 XT", "temperature_edge_c": 45.0, "temperature_junction_c": 52.0,
                          "vram_used_mib": 1024, "vram_total_mib": 12272, "ecc_uncorrectable": None}]},
        "checks": [{"check": "temperature", "gpu": 0, "status": "ok"}],
        "status": "ok",
    },
    "gpufleet_smart": {"devices": [{"name": "/dev/nvme0", "model": "Samsung SSD 970 EVO Plus", "serial": "S4EV",
                                    "wear_pct_used": 3, "projected_days_to_rated_tbw": 1520.5, "temperature_c": 41,
                                    "data_written_bytes": 24006803456000}],
                       "checks": [], "status": "ok"},
    "gpufleet_docker": {"images": {"reclaimable_bytes": 1048576}, "build_cache": {"reclaimable_bytes": 0}, "status": "ok"},
    "not_ours": {"status": "crit"},
}


def _samples(text, name):
    return {tuple(sorted(labels.items())): value for labels, value in parse_samples(text, name)}


def test_metrics_from_facts_units_labels_and_nulls():
    text = render(metrics_from_facts(FACTS))
    temp = _samples(text, "gpufleet_gpu_temperature_celsius")
    assert temp[(("gpu", "0"), ("name", "NVIDIA H200"), ("uuid", "GPU-b29d356a"), ("vendor", "nvidia"))] == 31
    assert temp[(("gpu", "0"), ("name", "Radeon RX 6700 XT"), ("uuid", ""), ("vendor", "amd"))] == 45
    assert list(_samples(text, "gpufleet_gpu_memory_used_bytes").values()) == [615 * 1048576, 1024 * 1048576]
    # fan speed not reported: no sample at all rather than a fake 0
    assert "gpufleet_gpu_fan_speed_ratio" not in text
    assert _samples(text, "gpufleet_disk_used_ratio") == {(("mount", "/srv"), ("path", "/srv/models")): 0.815}
    assert _samples(text, "gpufleet_ssd_projected_seconds_to_rated_tbw") == {
        (("device", "/dev/nvme0"), ("model", "Samsung SSD 970 EVO Plus"), ("serial", "S4EV")): 1520.5 * 86400}
    assert _samples(text, "gpufleet_docker_reclaimable_bytes") == {(("category", "build_cache"),): 0, (("category", "images"),): 1048576}
    assert _samples(text, "gpufleet_status") == {(("area", "docker"),): 0, (("area", "gpu"),): 0, (("area", "host"),): 1,
                                                 (("area", "smart"),): 0}
    assert _samples(text, "gpufleet_check_status")[(("area", "host"), ("check", "disk_used"), ("subject", "path=/srv/models"))] == 1
    assert "not_ours" not in text
    assert "# TYPE gpufleet_disk_data_written_bytes_total counter" in text
    assert "# HELP gpufleet_gpu_power_watts GPU power draw." in text


def test_render_escapes_labels_and_drops_duplicate_series():
    fam = Families()
    fam.add("gpufleet_x", "X.", "gauge", {"path": 'a"b\\c\nd'}, 1)
    fam.add("gpufleet_x", "X.", "gauge", {"path": 'a"b\\c\nd'}, 2)
    fam.add("gpufleet_x", "X.", "gauge", {"path": "ok"}, float("nan"))
    text = render(fam)
    assert text == '# HELP gpufleet_x X.\n# TYPE gpufleet_x gauge\ngpufleet_x{path="a\\"b\\\\c\\nd"} 1\n'
    assert escape_label('"') == '\\"'
    assert parse_samples(text, "gpufleet_x") == [({"path": 'a"b\\c\nd'}, 1.0)]


def test_textfile_keeps_other_cadences_last_success():
    first, dummy_count = textfile({}, cadence="weekly", now=1000.5)
    second, count = textfile(FACTS, cadence="daily", now=2000, previous_text=first)
    last = _samples(second, "gpufleet_last_success_timestamp_seconds")
    assert last == {(("cadence", "daily"),): 2000, (("cadence", "weekly"),): 1000.5}
    assert count > 10
    unchanged, dummy = textfile(FACTS, previous_text=second)
    assert _samples(unchanged, "gpufleet_last_success_timestamp_seconds") == last
    assert textfile({}) == ("", 0)


def test_without_last_success_ignores_only_the_last_run_samples():
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.prom import without_last_success

    first, dummy = textfile(FACTS, cadence="daily", now=1000)
    second, dummy = textfile(FACTS, cadence="daily", now=2000, previous_text=first)
    assert first != second and without_last_success(first) == without_last_success(second)
    moved = dict(FACTS, gpufleet_host=dict(FACTS["gpufleet_host"], memory_available_pct=10.0))
    third, dummy = textfile(moved, cadence="daily", now=3000, previous_text=second)
    assert without_last_success(third) != without_last_success(second)
