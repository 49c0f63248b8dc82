"""Log rotation: plan, apply (data kept), idempotence."""

import gzip
import os
import time

from ansible_collections.gpufleet.maintenance.plugins.module_utils import _logrotate as lr


def _make(path, text, age_days):
    path.write_text(text)
    then = time.time() - age_days * 86400
    os.utime(str(path), (then, then))


def test_plan_apply_and_second_run_is_empty(tmp_path):
    (tmp_path / "sub").mkdir()
    _make(tmp_path / "old.jsonl", '{"a": 1}\n', 40)
    _make(tmp_path / "sub" / "older.jsonl", '{"b": 2}\n', 90)
    _make(tmp_path / "new.jsonl", '{"c": 3}\n', 1)
    _make(tmp_path / "old.txt", "x", 90)
    actions, missing = lr.plan([str(tmp_path), str(tmp_path / "absent")], ["*.jsonl"], 30, time.time())
    assert [os.path.basename(a["path"]) for a in actions] == ["old.jsonl", "older.jsonl"]
    assert missing == [str(tmp_path / "absent")]
    assert lr.diff(actions)["after"].endswith("older.jsonl.gz\n")
    mtime = os.path.getmtime(str(tmp_path / "old.jsonl"))
    assert lr.apply(actions) == []
    with gzip.open(str(tmp_path / "old.jsonl.gz"), "rt") as handle:
        assert handle.read() == '{"a": 1}\n'
    assert not (tmp_path / "old.jsonl").exists()
    assert os.path.getmtime(str(tmp_path / "old.jsonl.gz")) == mtime
    assert lr.plan([str(tmp_path)], ["*.jsonl"], 30, time.time())[0] == []


def test_existing_gz_is_not_overwritten_and_failure_keeps_the_original(tmp_path):
    _make(tmp_path / "a.jsonl", "keep", 40)
    (tmp_path / "a.jsonl.gz").write_bytes(b"other")
    assert lr.plan([str(tmp_path)], ["*.jsonl"], 30, time.time())[0] == []
    _make(tmp_path / "b.jsonl", "keep me", 40)
    actions = lr.plan([str(tmp_path)], ["*.jsonl"], 30, time.time())[0]
    os.chmod(str(tmp_path), 0o500)
    try:
        errors = lr.apply(actions)
    finally:
        os.chmod(str(tmp_path), 0o700)
    if os.geteuid() != 0:
        assert errors and (tmp_path / "b.jsonl").read_text() == "keep me"
    else:  # root ignores the mode: the file is compressed, nothing lost
        assert errors == [] and gzip.open(str(tmp_path / "b.jsonl.gz"), "rt").read() == "keep me"
