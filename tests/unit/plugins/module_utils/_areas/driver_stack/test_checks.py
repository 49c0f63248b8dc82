"""driver_stack verdicts called directly on hand-built readings (the fixture trees are in test_driver_stack.py).

Expected values come from the rules as documented in checks.py's docstrings and docs/driver_stack.md:
Secure Boot refuses an unsigned module; the container toolkit checks NVIDIA_REQUIRE_CUDA unless
NVIDIA_DISABLE_REQUIRE is set; a crit NVML is "broken" unless a module/library mismatch explains it.
"""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import checks

RUNNING = "6.8.0-45-generic"


def kernel(secure_boot):
    return {"secure_boot": secure_boot, "running_release": RUNNING, "newest_release": RUNNING,
            "installed_releases": [RUNNING], "reboot_required": False, "reboot_required_packages": []}


def secure_boot_data(secure_boot, live, signed=False):
    return {"nvidia": {"installed": True}, "kernel": kernel(secure_boot), "live": live,
            "_nvidia_module_files": {RUNNING: {"signed": signed, "path": "/lib/modules/%s/updates/dkms/nvidia.ko" % RUNNING}}}


def test_secure_boot_off_on_the_live_host_gives_no_secure_boot_check():
    assert checks.secure_boot_checks(secure_boot_data("disabled", live=True)) == []


def test_an_unreadable_secure_boot_state_in_a_replayed_tree_gives_no_check():
    # "unknown" only means "could not look" on the live host; a replayed tree has no EFI variables
    assert checks.secure_boot_checks(secure_boot_data("unknown", live=False)) == []
    [check] = checks.secure_boot_checks(secure_boot_data("unknown", live=True))
    assert check["status"] == "unknown"


def test_an_unsigned_module_under_secure_boot_is_crit_with_the_value_false_and_a_signed_one_ok_true():
    [check] = checks.secure_boot_checks(secure_boot_data("enabled", live=False, signed=False))
    assert (check["status"], check["value"], check["subject"]) == ("crit", False, {"module": "nvidia", "kernel": RUNNING})
    [check] = checks.secure_boot_checks(secure_boot_data("enabled", live=False, signed=True))
    assert (check["status"], check["value"]) == ("ok", True)


def container_data(required_cuda, require_disabled, driver="550.54.15"):
    container = {"name": "trainer", "image": "nvcr.io/nvidia/pytorch:24.05-py3", "nvml_ok": True, "nvml_message": None,
                 "required_cuda": required_cuda, "require_disabled": require_disabled}
    return {"nvidia": {"kernel_module_version": driver, "userspace_version": driver, "nvml_ok": True,
                       "cuda_driver_version": "12.4"},
            "container_toolkit": {"containers": [container]}, "_unread": {}}


def image_checks(data):
    return [c for c in checks.container_checks(data) if c["check"] == "image_cuda_newer_than_driver"]


def test_an_image_requiring_a_newer_cuda_is_crit_unless_the_requirement_is_disabled():
    # CUDA 12.8 needs driver >= 570.26 (NVIDIA's table); 550.54.15 does not meet it
    [check] = image_checks(container_data("12.8", require_disabled=False))
    assert check["status"] == "crit"
    # NVIDIA_DISABLE_REQUIRE=true: the toolkit does not check, so neither do we
    assert image_checks(container_data("12.8", require_disabled=True)) == []


def test_no_cuda_requirement_or_no_driver_gives_no_image_check():
    assert image_checks(container_data(None, require_disabled=False)) == []
    assert image_checks(container_data("12.4", require_disabled=False, driver=None)) == []


def chain_fact(*results, userspace="550.54.15"):
    return {"checks": [{"check": name, "status": status, "message": "m"} for name, status in results],
            "kernel": kernel("disabled"),
            "nvidia": {"kernel_module_version": "550.54.15", "userspace_version": userspace}}


def test_a_crit_nvml_without_a_library_mismatch_is_broken():
    verdict = checks.verdict(chain_fact(("nvml_init", "crit")))
    assert (verdict["verdict"], verdict["verdict_link"]) == ("broken", "nvml")
    verdict = checks.verdict(chain_fact(("nvml_init", "crit"), ("driver_library_mismatch", "warn")))
    assert verdict["verdict"] == "broken"


def test_a_crit_nvml_explained_by_a_crit_library_mismatch_is_not_broken():
    # module 550.54.15 loaded, libraries upgraded to 550.90.07: the reboot realigns both
    verdict = checks.verdict(chain_fact(("nvml_init", "crit"), ("driver_library_mismatch", "crit"), userspace="550.90.07"))
    assert (verdict["verdict"], verdict["verdict_link"]) == ("reboot_pending", "kernel_module")


def test_an_unsigned_module_for_the_next_kernel_only_is_warn_the_running_one_is_crit():
    # the running kernel keeps its loaded module; the kernel booted next would refuse the unsigned one
    data = secure_boot_data("enabled", live=False, signed=True)
    newest = "6.8.0-48-generic"
    data["kernel"]["newest_release"] = newest
    data["_nvidia_module_files"][newest] = {"signed": False, "path": "/lib/modules/%s/updates/dkms/nvidia.ko" % newest}
    found = dict((c["subject"]["kernel"], (c["status"], c["value"])) for c in checks.secure_boot_checks(data))
    assert found == {RUNNING: ("ok", True), newest: ("warn", False)}


def test_a_container_that_lost_its_gpu_while_the_host_works_is_crit_with_the_value_false():
    data = container_data(None, require_disabled=False)
    data["container_toolkit"]["containers"][0].update(nvml_ok=False, nvml_message="Failed to initialize NVML: Unknown Error")
    [lost] = [c for c in checks.container_checks(data) if c["check"] == "container_lost_gpu"]
    assert (lost["status"], lost["value"], lost["subject"]) == ("crit", False, {"container": "trainer"})
