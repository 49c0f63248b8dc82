"""_common.files: the one atomic writer; a failed write leaves the old file and no temporary."""

import os

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import atomic_write, read_text


def test_write_replace_and_read(tmp_path):
    path = str(tmp_path / "a" / "report.html")
    atomic_write(path, "one", make_dirs=0o755)
    atomic_write(path, b"two", mode=0o600)
    assert read_text(path) == "two"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert read_text(str(tmp_path / "none"), missing="") == ""
    assert os.listdir(str(tmp_path / "a")) == ["report.html"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = str(tmp_path / "metrics.prom")
    atomic_write(path, "old")

    with pytest.raises(TypeError):
        atomic_write(path, 12345)  # not text nor bytes: the write fails after the temporary exists
    assert read_text(path) == "old"
    assert os.listdir(str(tmp_path)) == ["metrics.prom"]


def test_atomic_writer_streams_sets_times_and_cleans_up_on_error(tmp_path):
    import gzip

    from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.files import atomic_writer

    path = str(tmp_path / "old.jsonl.gz")
    with atomic_writer(path, binary=True, mode=0o640, times=(1_700_000_000, 1_700_000_000)) as out:
        with gzip.GzipFile(fileobj=out, mode="wb") as stream:
            for number in range(3):
                stream.write(b'{"n": %d}\n' % number)
    assert gzip.open(path).read() == b'{"n": 0}\n{"n": 1}\n{"n": 2}\n'
    assert os.stat(path).st_mtime == 1_700_000_000 and os.stat(path).st_mode & 0o777 == 0o640

    with pytest.raises(RuntimeError):
        with atomic_writer(path, binary=True) as out:
            out.write(b"half")
            raise RuntimeError("disk gone")
    assert gzip.open(path).read().count(b"\n") == 3  # the old file, untouched
    assert os.listdir(str(tmp_path)) == ["old.jsonl.gz"]
