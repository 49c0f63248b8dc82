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
