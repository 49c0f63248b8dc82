"""wsl verdicts called directly on hand-built facts (the collected trees are in test_wsl.py).

The rule (docs and checks.py): CUDA in WSL must load the host driver's libcuda.so.1 from /usr/lib/wsl/lib;
any other libcuda.so.1 the linker picks first is crit, whether or not the host's copy is there.
"""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.wsl import checks

WSL_LIB = "/usr/lib/wsl/lib"
LINUX_COPY = "/usr/lib/x86_64-linux-gnu/libcuda.so.1"


@pytest.mark.parametrize("libcuda, resolves_to_wsl, wsl_libraries, status", [
    (WSL_LIB + "/libcuda.so.1", True, ["libcuda.so.1"], "ok"),
    (LINUX_COPY, False, ["libcuda.so.1"], "crit"),      # a Linux driver package shadows the host's copy
    (LINUX_COPY, False, [], "crit"),                    # the host's copy is gone, only the Linux one is left
    (None, False, [], "warn"),
])
def test_libcuda_must_resolve_to_the_host_drivers_copy(libcuda, resolves_to_wsl, wsl_libraries, status):
    fact = {"wsl_lib_dir": WSL_LIB, "libcuda_path": libcuda, "libcuda_resolves_to_wsl": resolves_to_wsl,
            "wsl_libraries": wsl_libraries}
    check = checks.libcuda_check(fact)
    assert (check["check"], check["status"], check["value"]) == ("libcuda_shadowed", status, libcuda)


@pytest.mark.parametrize("path, ok, status, value", [
    ("/usr/lib/wsl/lib/nvidia-smi", True, "ok", True),
    ("/usr/lib/wsl/lib/nvidia-smi", False, "warn", False),
    (None, None, "warn", None),
])
def test_nvidia_smi_value_is_whether_it_answered_and_the_wanted_value_is_true(path, ok, status, value):
    fact = {"wsl_lib_dir": WSL_LIB, "nvidia_smi_path": path, "nvidia_smi_ok": ok, "driver_version": "576.02",
            "nvidia_smi_error": "Failed to initialize NVML: GPU access blocked by the operating system"}
    check = checks.nvidia_smi_check(fact)
    assert (check["status"], check["value"], check["threshold"]) == (status, value, True)
