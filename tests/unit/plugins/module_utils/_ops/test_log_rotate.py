import gzip
import os

from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops.log_rotate import DAY, compress, find, open_files, plan

NOW = 1_800_000_000


def test_plan_compresses_deletes_and_skips_open_files():
    files = [
        {"path": "/l/new.jsonl", "mtime": NOW - 5 * DAY, "size_bytes": 10},
        {"path": "/l/old.jsonl", "mtime": NOW - 31 * DAY, "size_bytes": 20},
        {"path": "/l/older.jsonl.gz", "mtime": NOW - 40 * DAY, "size_bytes": 5},
        {"path": "/l/ancient.log", "mtime": NOW - 400 * DAY, "size_bytes": 30},
        {"path": "/l/busy.log", "mtime": NOW - 60 * DAY, "size_bytes": 40},
    ]
    actions = plan(files, NOW, 30, 365, held={"/l/busy.log"})
    assert [(a["action"], a["path"]) for a in actions] == [
        ("compress", "/l/old.jsonl"), ("delete", "/l/ancient.log"), ("skip", "/l/busy.log")]
    assert actions[2]["reason"] == "open by a running process"
    assert plan(files, NOW, 30, None)[-1] == {"action": "compress", "path": "/l/busy.log", "age_days": 60.0, "size_bytes": 40}


def test_find_compress_and_open_files(tmp_path):
    log = tmp_path / "a" / "x.jsonl"
    log.parent.mkdir()
    log.write_text('{"ok":1}\n' * 100)
    os.utime(log, (NOW, NOW))
    (tmp_path / "a" / "keep.txt").write_text("x")
    assert find([str(tmp_path)], ["*.jsonl"]) == [str(log)]
    size = compress(str(log))
    assert not log.exists() and size < 900
    gz = tmp_path / "a" / "x.jsonl.gz"
    assert os.stat(gz).st_mtime == NOW
    assert gzip.open(gz).read().decode().count("ok") == 100
    with open(tmp_path / "held.log", "w") as handle:
        handle.write("x")
        assert str(tmp_path / "held.log") in open_files()


def test_out_of_range_days_fail_naming_the_option(tmp_path):
    import pytest

    from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops.log_rotate import RotateError, run

    params = {"paths": [str(tmp_path)], "patterns": ["*.log"], "compress_days": -1, "delete_days": -5, "recurse": True}
    with pytest.raises(RotateError, match=r"^compress_days must be at least 0 \(got -1\); delete_days must be at least 0 \(got -5\)$"):
        run(params)
    with pytest.raises(RotateError, match=r"^delete_days \(10\) must not be below compress_days \(30\)$"):
        run(dict(params, compress_days=30, delete_days=10))
