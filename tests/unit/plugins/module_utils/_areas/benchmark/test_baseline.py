"""The benchmark area's baselines (baseline.py): keys, regression verdicts, new rows for new versions, the JSON file store."""

import json
import os
import threading

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark.baseline import (
    BaselineStoreError, JsonFileStore, compare, find_rows, row_from_result, side_by_side)


def result(ttft=0.05, rate=70.0, version="0.12.6", digest="sha256:aa", ok=True, host="gpu-ws-01"):
    def stat(value):
        return dict(median=value, p95=value, min=value, max=value)

    return dict(host=host, endpoint="http://127.0.0.1:11434", model="gemma3:1b", model_digest=digest,
                runner="ollama", runner_version=version,
                results=[dict(prompt="classify", ok=ok, ttft_s=stat(ttft), decode_tokens_per_s=stat(rate),
                              prompt_tokens_per_s=stat(500.0), output_tokens=32)])


def test_first_run_creates_a_row():
    out = compare([], result(), 15, 30)
    assert out["action"] == "created" and len(out["rows"]) == 1
    assert out["rows"][0]["key"]["runner_version"] == "0.12.6"
    assert out["rows"][0]["prompts"]["classify"]["decode_tokens_per_s"] == 70.0
    assert out["status"] == "ok" and "no baseline yet" in out["checks"][0]["message"]


@pytest.mark.parametrize("ttft, rate, status", [
    (0.05, 70.0, "ok"),
    (0.05, 60.0, "ok"),       # 14.3 % slower: under 15 %
    (0.05, 59.0, "warn"),     # 15.7 % slower
    (0.05, 45.0, "crit"),     # 35.7 % slower
    (0.07, 70.0, "ok"),       # TTFT +40 % but only +20 ms: under the floor
    (0.50, 70.0, "crit"),     # TTFT x10
    (0.03, 90.0, "ok"),       # faster is never a regression
])
def test_regression_verdicts(ttft, rate, status):
    rows = compare([], result(), 15, 30)["rows"]
    out = compare(rows, result(ttft, rate), 15, 30)
    expected = status
    assert out["action"] == "kept" and out["rows"] == rows
    regression = [c for c in out["checks"] if c["check"] == "benchmark_regression"][0]
    assert regression["status"] == expected, out["comparison"]
    if expected != "ok":
        assert "regressed against the baseline" in regression["message"]
        assert "benchmark_update_baseline=true" in regression["message"]


def test_update_replaces_the_row_only_when_asked():
    rows = compare([], result(), 15, 30, now="2026-01-01T00:00:00Z")["rows"]
    kept = compare(rows, result(rate=40.0), 15, 30)
    assert kept["action"] == "kept" and kept["rows"][0]["prompts"]["classify"]["decode_tokens_per_s"] == 70.0
    updated = compare(rows, result(rate=40.0), 15, 30, update=True, now="2026-02-01T00:00:00Z")
    assert updated["action"] == "updated" and len(updated["rows"]) == 1
    assert updated["rows"][0]["prompts"]["classify"]["decode_tokens_per_s"] == 40.0


def test_new_runner_version_starts_a_row_and_compares_with_the_old_one():
    rows = compare([], result(version="0.11.0"), 15, 30, now="2026-01-01T00:00:00Z")["rows"]
    out = compare(rows, result(rate=14.0, version="0.12.6"), 15, 30, now="2026-02-01T00:00:00Z")
    assert out["action"] == "created" and len(out["rows"]) == 2
    assert out["previous"]["key"]["runner_version"] == "0.11.0" and out["baseline"] is None
    assert out["status"] == "crit"  # a 5x drop between releases
    note = [c for c in out["checks"] if c["check"] == "benchmark_baseline"][0]
    assert "runner 0.11.0 → 0.12.6" in note["message"]
    lines = side_by_side(out["comparison"])
    assert any("decode_tokens_per_s" in line and "70" in line and "14" in line and "crit" in line for line in lines)
    # the next run of 0.12.6 compares with its own row
    again = compare(out["rows"], result(rate=14.0, version="0.12.6"), 15, 30)
    assert again["action"] == "kept" and again["status"] == "ok"


def test_other_hosts_and_failed_prompts():
    rows = compare([], result(host="a"), 15, 30)["rows"]
    exact, previous = find_rows(rows, result(host="b"))
    assert exact is None and previous is None
    out = compare(rows, result(host="a", ok=False), 15, 30)
    assert out["comparison"] == [] and out["action"] == "kept"
    assert compare([], result(ok=False), 15, 30)["action"] == "none"


def test_gate_key_fields_compare_across_models():
    fields = ("host", "endpoint")
    rows = compare([], result(), 15, 30, update=True, fields=fields)["rows"]
    other = result(rate=30.0)
    other["model"] = "qwen3:1.7b"
    out = compare(rows, other, 15, 30, fields=fields)
    assert out["baseline"] is not None and out["status"] == "crit"
    # gate rows and deployment rows never match each other
    assert find_rows(rows, result()) == (None, None)


def test_bad_thresholds():
    with pytest.raises(ValueError, match="crit_pct"):
        compare([], result(), 30, 15)


def test_row_from_result():
    row = row_from_result(result(), now="t")
    assert row == dict(key=dict(host="gpu-ws-01", endpoint="http://127.0.0.1:11434", model="gemma3:1b",
                                model_digest="sha256:aa", runner="ollama", runner_version="0.12.6"),
                       recorded_at="t", prompts=dict(classify=dict(ttft_s=0.05, decode_tokens_per_s=70.0,
                                                                   prompt_tokens_per_s=500.0, output_tokens=32)))


def test_json_store_roundtrip_and_lock(tmp_path):
    path = str(tmp_path / "inv" / "benchmark_baselines.json")
    store = JsonFileStore(path)
    assert store.read() == []

    def add(host):
        store.update(lambda rows: compare(rows, result(host=host), 15, 30)["rows"])

    threads = [threading.Thread(target=add, args=("host%d" % i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    rows = store.read()
    assert sorted(r["key"]["host"] for r in rows) == ["host%d" % i for i in range(8)]  # no lost update
    assert json.load(open(path))["schema_version"] == 1
    _rows, changed = store.update(lambda rows: rows)
    assert changed is False


def test_json_store_never_overwrites_a_broken_file(tmp_path):
    path = tmp_path / "b.json"
    path.write_text("{not json")
    store = JsonFileStore(str(path))
    with pytest.raises(BaselineStoreError, match="not valid JSON"):
        store.update(lambda rows: rows + [1])
    assert path.read_text() == "{not json"
    path.write_text("[]")
    with pytest.raises(BaselineStoreError, match="no 'rows' list"):
        store.read()


def test_json_store_unwritable(tmp_path):
    target = tmp_path / "ro"
    target.mkdir()
    blocker = target / "file"
    blocker.write_text("x")
    store = JsonFileStore(str(blocker / "b.json"))  # a directory that is a file
    with pytest.raises(BaselineStoreError, match="cannot write baseline file"):
        store.update(lambda rows: rows + [{"key": {}}])
    assert os.path.exists(str(blocker))
