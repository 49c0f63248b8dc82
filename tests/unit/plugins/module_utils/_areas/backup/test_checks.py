"""backup_restore_drill verdicts, each one whole (status, value, threshold, message, fix), from hand-built drills."""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.backup import checks

A = "a" * 64
B = "b" * 64


def _drill(problems=(), files_checked=3, restore=None):
    return {"snapshot": "2026-12-01T0300", "restore": restore or {}, "problems": list(problems), "files_checked": files_checked}


def test_all_files_match():
    [result] = checks.evaluate(_drill())
    assert (result["status"], result["value"], result["threshold"]) == ("ok", 3, 0)
    assert result["message"] == "restored 3 file(s), every checksum matches the manifests"


def test_an_unreachable_target_is_unknown_with_the_fix():
    [result] = checks.evaluate(_drill(restore={"error": "ssh: connect to host nas port 22: No route to host", "reached": False}))
    assert (result["status"], result["threshold"]) == ("unknown", 0)
    assert result["message"].startswith("could not look: the backup target of snapshot 2026-12-01T0300 could not be reached "
                                        "(ssh: connect to host nas port 22: No route to host)")
    assert checks.FIX_UNREACHED in result["message"]


def test_a_failed_restore_of_a_reached_target_is_crit():
    [result] = checks.evaluate(_drill(restore={"error": "rsync: change_dir failed: No such file or directory (2)", "reached": True}))
    assert (result["status"], result["value"], result["threshold"]) == ("crit", None, 0)
    assert result["message"].startswith("could not restore snapshot 2026-12-01T0300: rsync: change_dir failed")
    assert checks.FIX_RESTORE in result["message"]


def test_wrong_files_are_crit_and_name_the_first():
    found = [{"problem": "checksum_mismatch", "path": "/etc/gpufleet/images.yml", "detail": "sha256 differs"},
             {"problem": "missing", "path": "/etc/gpufleet/b.yml", "detail": "not in the restored copy"},
             {"problem": "unreadable", "path": "/etc/gpufleet/c.yml", "detail": "Permission denied"}]
    [result] = checks.evaluate(_drill(found))
    assert (result["status"], result["value"], result["threshold"]) == ("crit", 2, 0)
    assert result["message"].startswith("restore drill found 2 problem(s), first checksum_mismatch: /etc/gpufleet/images.yml: "
                                        "sha256 differs: the backup cannot be trusted")


def test_only_unreadable_files_are_unknown():
    found = [{"problem": "unreadable", "path": "/srv/m.gguf", "detail": "the restored copy could not be read (EIO)"}]
    [result] = checks.evaluate(_drill(found))
    assert (result["status"], result["value"], result["threshold"]) == ("unknown", 1, 0)
    assert "1 restored file(s) could not be read, first /srv/m.gguf: the restored copy could not be read (EIO)" in result["message"]


def test_backup_manifest_comparison_names_sizes_and_12_hex_digits():
    entry = {"expected": [{"path": "x", "size_bytes": 10, "sha256": A}, {"path": "y", "size_bytes": 5, "sha256": A},
                          {"path": "z", "size_bytes": 5, "sha256": A}, {"path": "w", "size_bytes": 1, "sha256": A}],
             "seen": [{"missing": False, "error": None, "size_bytes": 10, "sha256": B},
                      {"missing": False, "error": None, "size_bytes": 6, "sha256": A},
                      {"missing": True, "error": None, "size_bytes": None, "sha256": None},
                      {"missing": False, "error": None, "size_bytes": 1, "sha256": A}]}
    found, checked = checks.problems({"manifests": [dict(entry, kind="backup", error=None, path="m.json")]})
    assert checked == 2  # x (hashed, wrong) and w (hashed, right); y's size differs, z is missing
    assert found == [
        {"problem": "checksum_mismatch", "path": "x", "detail": "sha256 bbbbbbbbbbbb... differs from the manifest's aaaaaaaaaaaa..."},
        {"problem": "size_mismatch", "path": "y", "detail": "size 6 bytes, manifest says 5"},
        {"problem": "missing", "path": "z", "detail": "not in the restored copy"}]
