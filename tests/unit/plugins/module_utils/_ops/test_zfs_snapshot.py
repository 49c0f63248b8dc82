"""zfs_snapshot: the plan (pure) and the options refused before any zfs runs. The runs against a real pool:
tests/integration/test_backup.py and test_snapshot_before_change.py."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._ops import zfs_snapshot

SERIES = "gpufleet-driver_bump"
EXISTING = ["gpufleet-driver_bump-20251101T000000Z", "gpufleet-driver_bump-20251120T080000Z", "my-own"]


def test_plan_takes_the_snapshot_then_drops_the_oldest_beyond_keep():
    actions, kept = zfs_snapshot.plan(EXISTING, SERIES, "gpufleet-driver_bump-20251201T000000Z", 2)
    assert actions == [{"action": "snapshot", "name": "gpufleet-driver_bump-20251201T000000Z"},
                       {"action": "destroy", "name": "gpufleet-driver_bump-20251101T000000Z"}]
    assert kept == ["gpufleet-driver_bump-20251120T080000Z", "gpufleet-driver_bump-20251201T000000Z"]


def test_plan_is_empty_when_the_snapshot_exists_and_the_series_fits():
    assert zfs_snapshot.plan(EXISTING, SERIES, EXISTING[1], 2) == ([], EXISTING[:2])
    assert zfs_snapshot.plan(EXISTING, SERIES, "gpufleet-driver_bump-20251201T000000Z", 0)[0] == [
        {"action": "snapshot", "name": "gpufleet-driver_bump-20251201T000000Z"}]  # keep 0: nothing destroyed


def _params(**extra):
    params = dict((name, spec.get("default")) for name, spec in zfs_snapshot.ARGUMENT_SPEC.items())
    params.update(dataset="tank/models", reason="driver_bump")
    params.update(extra)
    return params


def _never(*args, **kwargs):
    raise AssertionError("no command may run: %r" % (args,))


@pytest.mark.parametrize("extra, message", [
    ({"keep": -1}, "keep must be at least 0 (got -1)"),
    ({"timeout_s": 0}, "timeout_s must be at least 1 (got 0)"),
    ({"dataset": "tank/models@x"}, "dataset 'tank/models@x' must be a ZFS dataset name such as tank/models (no @, not a path)"),
    ({"dataset": "/tank/models"}, "dataset '/tank/models' must be a ZFS dataset name"),
    ({"reason": "pre bump"}, "reason 'pre bump' may hold only lowercase letters, digits and '_'"),
    ({"stamp": "now"}, "stamp 'now' must start with a digit"),
])
def test_bad_options_fail_before_zfs_runs(extra, message):
    with pytest.raises(zfs_snapshot.BackupError) as info:
        zfs_snapshot.run(_never, _params(**extra), find=lambda name, explicit=None: "/sbin/zfs")
    assert str(info.value).startswith(message)


def test_no_zfs_on_the_host_says_what_to_install_or_unset():
    with pytest.raises(zfs_snapshot.BackupError) as info:
        zfs_snapshot.run(_never, _params(), find=lambda name, explicit=None: None)
    assert str(info.value) == ("zfs is not installed (no zfs command on this host): install zfsutils-linux (OpenZFS) or leave "
                               "the ZFS dataset unset to use the rsync backup instead")
