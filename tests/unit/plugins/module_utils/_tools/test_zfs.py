"""zfs: the command lines of a dataset's snapshots and the parser of ``zfs list -H -o name``."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import zfs

# `zfs list -H -o name -t snapshot -d 1 hbktank/models` from zfs-fuse 0.7.0 (Debian 12) on a file-backed pool of
# this build machine, with two snapshots of the dataset; OpenZFS prints the same (one name per line, no header).
LISTING = "hbktank/models@gpufleet-test-20261201T000000Z\nhbktank/models@before-upgrade\n"
MISSING = "cannot open 'hbktank/nope': dataset does not exist\n"  # the same run, rc 1, for a dataset that is not there


def test_argv():
    assert zfs.list_argv("/sbin/zfs", "tank/models") == ["/sbin/zfs", "list", "-H", "-o", "name", "-t", "snapshot", "-d", "1",
                                                         "tank/models"]
    assert zfs.snapshot_argv("zfs", "tank/models@a-1") == ["zfs", "snapshot", "tank/models@a-1"]
    assert zfs.destroy_argv("zfs", "tank/models@a-1") == ["zfs", "destroy", "tank/models@a-1"]


def test_destroy_refuses_what_is_not_a_snapshot():
    with pytest.raises(ValueError):
        zfs.destroy_argv("zfs", "tank/models")  # never a dataset


def test_parse_list_keeps_the_datasets_own_snapshots():
    assert zfs.parse_list(LISTING, "hbktank/models") == ["before-upgrade", "gpufleet-test-20261201T000000Z"]
    with_child = LISTING + "hbktank/models/child@x\n"
    assert zfs.parse_list(with_child, "hbktank/models") == ["before-upgrade", "gpufleet-test-20261201T000000Z"]
    assert zfs.parse_list("", "hbktank/models") == []


def test_dataset_missing():
    assert zfs.dataset_missing(MISSING) is True
    assert zfs.dataset_missing("cannot create snapshot 'a@b': out of space\n") is False
