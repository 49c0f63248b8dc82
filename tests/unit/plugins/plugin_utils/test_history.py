"""The run history: schema and migrations, transactional writes, queries, locked/corrupt databases."""

import os
import sqlite3

import pytest

from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _history as h
from ansible_collections.gpufleet.maintenance.plugins.module_utils import _nvidia_smi

DAY = 86400.0
T0 = 1764000000.0


def _facts(temp, junction, power=300.0, disk=40.0, status="ok"):
    return {
        "gpufleet_gpu": {"schema_version": 1, "status": status, "gpus": [
            {"index": 0, "temperature_c": temp, "memory_temperature_c": junction, "power_draw_w": power, "name": "RTX 4090"}],
            "checks": [{"check": "gpu_temperature", "gpu": 0, "status": status, "value": temp, "threshold": 85,
                        "message": "GPU 0 temperature is %s" % temp}]},
        "gpufleet_host": {"schema_version": 1, "uptime_s": 100, "load_1m": 0.5, "memory_available_pct": 50.0,
                          "disks": [{"path": "/", "used_pct": disk, "size_bytes": 1000}],
                          "checks": [{"check": "disk_used", "path": "/", "status": "ok", "value": disk, "threshold": 80, "message": "ok"}]},
        "not_gpufleet": {"x_c": 1.0},
    }


def test_migrations_create_every_table_and_set_the_version(tmp_path):
    path = str(tmp_path / "sub" / "history.db")
    conn = h.connect(path)
    assert h.schema_version(conn) == h.SCHEMA_VERSION == 3
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "metrics", "checks", "alert_state"} <= tables
    conn.close()
    # Re-opening applies nothing twice.
    conn = h.connect(path)
    assert h.schema_version(conn) == 3
    conn.close()


def test_a_version_1_database_is_migrated_and_keeps_its_rows(tmp_path):
    path = str(tmp_path / "history.db")
    conn = sqlite3.connect(path)
    conn.executescript(h.MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    conn.execute("INSERT INTO runs (cadence, ts, hosts) VALUES ('daily', 1, 1)")
    conn.commit()
    conn.close()
    conn = h.connect(path)
    assert h.schema_version(conn) == 3
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    assert h.alert_state(conn) == {}


def test_a_newer_schema_is_refused_with_the_fix(tmp_path):
    path = str(tmp_path / "history.db")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(h.HistoryError, match="schema 99, newer .* upgrade gpufleet.maintenance"):
        h.connect(path)


def test_a_corrupt_file_gives_a_clear_error_and_is_kept(tmp_path):
    path = tmp_path / "history.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(h.HistoryError, match="damaged .*move it aside"):
        h.connect(str(path))
    assert path.read_bytes().startswith(b"this is not a database")


def test_a_locked_database_gives_a_clear_error(tmp_path):
    path = str(tmp_path / "history.db")
    h.connect(path).close()
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    conn = sqlite3.connect(path, timeout=0.1)
    with pytest.raises(h.HistoryError, match="locked by another run"):
        h.record_run(conn, "daily", T0, {"a": _facts(60, 70)})
    holder.rollback()
    holder.close()


def test_extract_metrics_names_areas_lists_and_subjects():
    rows = h.extract_metrics(_facts(61.0, 78.0))
    assert ("gpu.gpus.temperature_c", "gpu=0", 61.0) in rows
    assert ("gpu.gpus.memory_temperature_c", "gpu=0", 78.0) in rows
    assert ("gpu.gpus.power_draw_w", "gpu=0", 300.0) in rows
    # host declares its readings (load_1m among them); the others still use the unit-suffix rule.
    assert ("host.disks.used_pct", "path=/", 40.0) in rows
    assert ("host.memory_available_pct", "", 50.0) in rows
    assert ("host.uptime_s", "", 100.0) in rows
    assert ("host.load_1m", "", 0.5) in rows
    # Not a number, checks, schema_version and non-gpufleet facts stay out.
    assert not [r for r in rows if "schema_version" in r[0] or r[0].startswith("not_")]
    assert not [r for r in rows if "checks" in r[0] or "name" in r[0]]


def test_extract_metrics_reads_the_real_gpu_fact_one_level_down():
    # The gpufleet_gpu fact nests the GPUs under nvidia/amd: built here from a real nvidia-smi capture.
    xml = open(os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "gpu", "nvidia_smi_xml",
                            "a10g-driver515-dtdv11.xml")).read()
    nvidia, problems = _nvidia_smi.parse_xml(xml)
    assert problems == []
    fact = {"schema_version": 1, "nvidia": nvidia, "amd": {"present": False, "gpus": []},
            "thresholds": {"temperature_warn_c": 85}, "checks": [], "status": "ok"}
    rows = h.extract_metrics({"gpufleet_gpu": fact})
    assert ("gpu.nvidia.gpus.temperature_c", "gpu=0", 17.0) in rows
    assert ("gpu.nvidia.gpus.power_draw_w", "gpu=0", 25.58) in rows
    assert ("gpu.nvidia.gpus.memory_total_mib", "gpu=0", 23028.0) in rows
    # Settings are not readings, and a dict two levels down (ecc, clocks) is not walked.
    assert not [r for r in rows if r[0].startswith("gpu.thresholds")]
    assert all(r[0].count(".") <= 3 for r in rows)


def test_record_run_is_one_transaction_and_queries_answer(tmp_path):
    conn = h.connect(str(tmp_path / "history.db"))
    # Junction creep 78 -> 92 °C over 28 days (the guides' example).
    for day in range(0, 29, 7):
        junction = 78.0 + day * 0.5
        h.record_run(conn, "daily", T0 + day * DAY, {"box1": _facts(60.0 + day * 0.1, junction)},
                     failed_hosts={"box2": "unreachable"} if day == 14 else None)
    assert h.last_value(conn, "box1", "gpu.gpus.memory_temperature_c", "gpu=0") == (T0 + 28 * DAY, 92.0)
    assert h.last_value(conn, "box1", "gpu.gpus.memory_temperature_c", "gpu=0", before=T0 + 28 * DAY)[1] == 88.5
    points = h.series(conn, "box1", "gpu.gpus.memory_temperature_c", "gpu=0")
    assert [p[1] for p in points] == [78.0, 81.5, 85.0, 88.5, 92.0]
    assert h.slope_per_30_days(points) == pytest.approx(15.0)
    trend = h.trend(conn, "box1", "gpu.gpus.memory_temperature_c", "gpu=0", T0 + 28 * DAY, 90)
    assert trend["slope_per_30d"] == 15.0 and trend["max"] == 92.0 and len(trend["points"]) == 5
    maxima = h.maxima(conn, T0 + 21 * DAY, "%temperature\\_c")
    assert maxima == {"box1": {"gpu.gpus.memory_temperature_c": {"gpu=0": 92.0}, "gpu.gpus.temperature_c": {"gpu=0": pytest.approx(62.8)}}}
    incidents = h.incidents(conn, T0)
    assert incidents["box2"] == {"crit_runs": 1, "warn_runs": 0, "failed_runs": 1}
    assert incidents["box1"] == {"crit_runs": 0, "warn_runs": 0, "failed_runs": 0}
    last = h.last_values(conn, ["box1", "box2"], "gpu.%temperature\\_c", before=T0 + 28 * DAY)
    assert last == {"box1": {"gpu.gpus.memory_temperature_c": {"gpu=0": [T0 + 21 * DAY, 88.5]},
                             "gpu.gpus.temperature_c": {"gpu=0": [T0 + 21 * DAY, pytest.approx(62.1)]}}}
    assert h.last_values(conn, ["box2"], "gpu.%") == {}
    trends = h.trends(conn, ["box1", "box2"], ["gpu.%temperature\\_c"], T0 + 28 * DAY, 90)
    assert [(t["host"], t["metric"], t["subject"]) for t in trends] == [
        ("box1", "gpu.gpus.memory_temperature_c", "gpu=0"), ("box1", "gpu.gpus.temperature_c", "gpu=0")]


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    conn = h.connect(str(tmp_path / "history.db"))

    class Boom(dict):
        def get(self, *args):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        h.record_run(conn, "daily", T0, {"box1": _facts(60, 70)}, failed_hosts=Boom(box9=1))
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM metrics").fetchone()[0] == 0


def test_slope_needs_two_distinct_times():
    assert h.slope_per_30_days([]) is None
    assert h.slope_per_30_days([(T0, 1.0)]) is None
    assert h.slope_per_30_days([(T0, 1.0), (T0, 2.0)]) is None
    assert h.slope_per_30_days([(T0, 10.0), (T0 + 30 * DAY, 4.0)]) == pytest.approx(-6.0)
    # readings a few hours apart say nothing about a month (seen: +522 per 30 days from one hour of disk use)
    assert h.slope_per_30_days([(T0, 29.0), (T0 + 3600, 29.7)]) is None
    assert h.slope_per_30_days([(T0, 29.0), (T0 + 2 * DAY, 29.7)]) == pytest.approx(10.5)


def test_alert_state_round_trip(tmp_path):
    conn = h.connect(str(tmp_path / "history.db"))
    state = {("box1", "gpu/gpu_temperature/0"): {"status": "crit", "message": "hot", "changed_at": T0, "sent_at": T0}}
    h.save_alert_state(conn, state)
    assert h.alert_state(conn) == state
    h.save_alert_state(conn, {})
    assert h.alert_state(conn) == {}


def test_readonly_open_of_a_missing_database_writes_nothing(tmp_path):
    path = str(tmp_path / "none" / "history.db")
    conn = h.connect(path, readonly=True)
    assert h.series(conn, "x", "y") == []
    assert not os.path.exists(os.path.dirname(path))


def test_default_path_is_beside_the_inventory():
    assert h.default_path("/srv/fleet", "/tmp") == "/srv/fleet/.cache/gpufleet/history.db"
    assert h.default_path(None, "/tmp") == "/tmp/.cache/gpufleet/history.db"
    assert h.iso(0) == "1970-01-01T00:00:00Z"


def test_extract_metrics_records_smart_wear_for_the_ssd_wear_chart():
    facts = {"gpufleet_smart": {"devices": [{"name": "/dev/nvme1", "serial": "PHLF7", "wear_pct_used": 75,
                                             "temperature_c": 38, "model": "INTEL SSDPE2KX020T7"}]}}
    metrics = sorted(h.extract_metrics(facts))
    assert ("smart.devices.wear_pct_used", "device=/dev/nvme1", 75.0) in [(m, s, float(v)) for m, s, v in metrics]


def test_migration_3_writes_the_subjects_of_stored_series_and_alert_keys_as_key_value(tmp_path):
    # A version-2 history as the collection wrote it before subjects were key=value.
    path = str(tmp_path / "history.db")
    conn = sqlite3.connect(path)
    for number in (1, 2):
        conn.executescript(h.MIGRATIONS[number - 1])
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO runs (cadence, ts, hosts) VALUES ('daily', 1, 1)")
    rows = [("gpu.nvidia.gpus.temperature_c", "0"), ("host.disks.used_pct", "/var/lib/ollama"),
            ("smart.devices.wear_pct_used", "/dev/nvme0"), ("host.uptime_s", ""), ("docker.images.total_bytes", "")]
    conn.executemany("INSERT INTO metrics (run_id, ts, host, cadence, metric, subject, value) "
                     "VALUES (1, 1, 'box', 'daily', ?, ?, 1.0)", rows)
    conn.executemany("INSERT INTO alert_state (host, key, status, message, changed_at) VALUES ('box', ?, 'crit', '', 1)",
                     [("gpu/memory_temperature/0",), ("host/memory_available/",), ("run/reachable/",)])
    conn.commit()
    conn.close()
    conn = h.connect(path)
    assert h.schema_version(conn) == 3
    assert sorted(conn.execute("SELECT metric, subject FROM metrics")) == sorted([
        ("gpu.nvidia.gpus.temperature_c", "gpu=0"), ("host.disks.used_pct", "path=/var/lib/ollama"),
        ("smart.devices.wear_pct_used", "device=/dev/nvme0"), ("host.uptime_s", ""), ("docker.images.total_bytes", "")])
    assert sorted(key for _host, key in h.alert_state(conn)) == [
        "gpu/memory_temperature/gpu=0", "host/memory_available/", "run/reachable/"]
