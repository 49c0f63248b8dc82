"""The body of model_manifest on real files: scan (check mode, diff, idempotence), verify, the cache, bad options."""

import json
import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models import AREA
from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import model_manifest


def _params(tmp_path, **extra):
    store = tmp_path / "models"
    if not store.exists():
        store.mkdir()
        (store / "a.gguf").write_bytes(b"GGUF" + b"\x07" * 1000)
    params = dict((name, spec.get("default")) for name, spec in AREA.argument_spec().items())
    params.update(roots=[str(store)], manifest=str(tmp_path / "models.json"))
    params.update(extra)
    return params


def test_scan_check_mode_writes_nothing_then_scan_then_nothing_to_do(tmp_path):
    params = _params(tmp_path, mode="scan")
    result, warnings = model_manifest.run(params, check_mode=True, diff=True)
    assert result["changed"] is True and result["diff"]["before"] == "" and warnings == []
    assert sorted(os.listdir(str(tmp_path))) == ["models"]  # neither manifest nor cache
    result, warnings = model_manifest.run(params)
    assert result["changed"] is True and result["hashed_files"] == 1 and result["hashed_bytes"] == 1004
    assert json.loads((tmp_path / "models.json").read_text())["files"][0]["size_bytes"] == 1004
    assert (tmp_path / "models.json.hashcache.json").exists()
    again, dummy = model_manifest.run(params)
    assert again["changed"] is False and again["hashed_files"] == 0


def test_verify_sets_the_fact_and_a_broken_cache_only_costs_a_rehash(tmp_path):
    model_manifest.run(_params(tmp_path, mode="scan"))
    (tmp_path / "models.json.hashcache.json").write_text("{broken")
    result, warnings = model_manifest.run(_params(tmp_path))
    fact = result["ansible_facts"]["gpufleet_models"]
    assert fact["status"] == "ok" and fact["files_checked"] == 1 and fact["manifest"] == str(tmp_path / "models.json")
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("model_files", "ok")]
    assert result["hashed_files"] == 1 and len(warnings) == 1 and "every file is hashed again" in warnings[0]


def _rot(path):
    """Other bytes, same size and mtime: bit rot as the file system shows it."""
    stat = os.stat(str(path))
    data = bytearray(path.read_bytes())
    data[500] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(str(path), ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_bit_rot_is_found_once_the_cached_hash_is_older_than_rehash_days(tmp_path):
    day = 86400
    model_manifest.run(_params(tmp_path, mode="scan", now=1000000))
    _rot(tmp_path / "models" / "a.gguf")
    # 89 days later the cache still answers for the file (size and mtime are the same): nothing read
    result, dummy = model_manifest.run(_params(tmp_path, now=1000000 + 89 * day))
    assert result["hashed_files"] == 0 and result["ansible_facts"]["gpufleet_models"]["status"] == "ok"
    # 91 days after it was hashed, the file is read again and its checksum no longer matches
    result, dummy = model_manifest.run(_params(tmp_path, now=1000000 + 91 * day))
    fact = result["ansible_facts"]["gpufleet_models"]
    assert result["hashed_files"] == 1 and fact["status"] == "crit"
    assert [(c["check"], c["status"]) for c in fact["checks"]] == [("model_file", "crit")]


def test_rehash_days_zero_trusts_the_cache_for_unchanged_files(tmp_path):
    model_manifest.run(_params(tmp_path, mode="scan", now=1000000))
    _rot(tmp_path / "models" / "a.gguf")
    result, dummy = model_manifest.run(_params(tmp_path, now=1000000 + 400 * 86400, rehash_days=0))
    assert result["hashed_files"] == 0 and result["ansible_facts"]["gpufleet_models"]["status"] == "ok"


@pytest.mark.parametrize("extra, message", [
    ({"max_bytes_per_run": -1}, "models: max_bytes_per_run must be at least 0 (got -1)"),
    ({"rehash_days": -1}, "models: rehash_days must be at least 0 (got -1)"),
    ({"roots": ["/nonexistent/models"]}, "model store /nonexistent/models does not exist or is not a directory"),
    ({}, "no manifest at %s: run model_manifest with mode=scan first"),
])
def test_bad_options_and_a_missing_manifest_fail_naming_what(tmp_path, extra, message):
    params = _params(tmp_path, **extra)
    with pytest.raises(model_manifest.ManifestError) as info:
        model_manifest.run(params)
    assert str(info.value) == (message % params["manifest"] if "%s" in message else message)


SERVING = [{"model": "llama3.1:8b", "parameters_b": 8.0, "quantization": "Q4_K_M", "context_length": 8192,
            "layers": 32, "kv_heads": 8, "head_dim": 128}]
ONE_24G_GPU = {"nvidia": {"present": True, "gpus": [{"index": 0, "memory_total_mib": 24564}]}}


def _option(entries):
    """Serving entries as Ansible hands them to the module: every suboption present, None where not given."""
    names = AREA.argument_spec()["serving"]["options"]
    return [dict((name, entry.get(name)) for name in names) for entry in entries]


def test_scan_writes_the_serving_entries_and_a_later_scan_without_them_keeps_them(tmp_path):
    result, dummy = model_manifest.run(_params(tmp_path, mode="scan", serving=_option(SERVING)))
    written = json.loads((tmp_path / "models.json").read_text())
    assert result["changed"] is True and written["serving"] == SERVING  # unset suboptions are not written
    again, dummy = model_manifest.run(_params(tmp_path, mode="scan"))
    assert again["changed"] is False and json.loads((tmp_path / "models.json").read_text())["serving"] == SERVING
    bigger = [dict(SERVING[0], context_length=32768)]
    preview, dummy = model_manifest.run(_params(tmp_path, mode="scan", serving=_option(bigger)), check_mode=True, diff=True)
    assert preview["changed"] is True and '"context_length": 32768' in preview["diff"]["after"]
    assert json.loads((tmp_path / "models.json").read_text())["serving"] == SERVING  # check mode wrote nothing


def test_verify_judges_the_manifests_serving_entries_against_the_gpu_facts(tmp_path):
    model_manifest.run(_params(tmp_path, mode="scan", serving=_option(SERVING)))
    result, dummy = model_manifest.run(_params(tmp_path, gpu_facts=ONE_24G_GPU))
    fact = result["ansible_facts"]["gpufleet_models"]
    # 5 913 741 824 bytes (see _areas/models/test_vram.py) / (24564 * 2**20) = 23.0 %
    assert [(c["check"], c["status"], c["value"]) for c in fact["checks"]] == [
        ("model_files", "ok", 1), ("vram_headroom", "ok", 23.0)]
    assert fact["serving"][0]["need_bytes"] == 5913741824 and fact["serving"][0]["gpus"] == [0]
    # the option overrides the manifest's entries; a threshold override is honoured
    tight, dummy = model_manifest.run(_params(tmp_path, gpu_facts=ONE_24G_GPU, thresholds={"vram_need_warn_pct": 20},
                                              serving=_option(SERVING)))
    [vram] = [c for c in tight["ansible_facts"]["gpufleet_models"]["checks"] if c["check"] == "vram_headroom"]
    assert (vram["status"], vram["threshold"]) == ("warn", 20)
    # without the GPU facts it could not look
    blind, dummy = model_manifest.run(_params(tmp_path))
    assert blind["ansible_facts"]["gpufleet_models"]["status"] == "unknown"
