"""An NVML test double (a C ``libnvidia-ml.so.1``) and an ``nvidia-smi`` stand-in, for the GPU tests.

The double is built with gcc into ``.cache/nvml_double/<hash>/libnvidia-ml.so.1`` and loaded by the
REAL nvidia-ml-py through ``LD_LIBRARY_PATH`` (set before the process starts). It answers from a
scenario: a JSON-able dict generated from a real ``nvidia-smi -q -x`` capture
(``scenario_from_xml``), flattened into ``key=value`` lines for the C side (``write_scenario``).
The raw values are what NVML itself returns (milliwatts, bytes, enum codes, bit masks), so the
NVML path and the nvidia-smi path of the collection can be compared on the same capture.
"""

import copy
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET

from testlib import hardware, system

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SOURCE = os.path.join(os.path.dirname(__file__), "nvml_double", "fake_nvml.c")
CACHE = os.path.join(REPO_ROOT, ".cache", "nvml_double")
MIB = 1024 * 1024
NOT_SUPPORTED = "!3"
THROTTLE_BITS = {
    "gpu_idle": 0x1, "applications_clocks_setting": 0x2, "sw_power_cap": 0x4, "hw_slowdown": 0x8,
    "sync_boost": 0x10, "sw_thermal_slowdown": 0x20, "hw_thermal_slowdown": 0x40,
    "hw_power_brake_slowdown": 0x80, "display_clocks_setting": 0x100,
}
COMPUTE_MODES = {"Default": 0, "Exclusive_Thread": 1, "Prohibited": 2, "Exclusive_Process": 3}


def build():
    """Compile the double (once per source hash); return the directory holding libnvidia-ml.so.1."""
    with open(SOURCE, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:16]
    directory = os.path.join(CACHE, digest)
    library = os.path.join(directory, "libnvidia-ml.so.1")
    if os.path.exists(library):
        return directory
    if not shutil.which("gcc"):
        system.apt_ensure("gcc", "libc6-dev")
    os.makedirs(directory, exist_ok=True)
    tmp = library + ".tmp%d" % os.getpid()
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", tmp, SOURCE], check=True)
    os.rename(tmp, library)
    return directory


def _raw(node, path):
    if node is None:
        return None
    found = node.find(path)
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    if not text or text == "N/A" or text.startswith("["):
        return None
    return text


def _num(node, path, scale=1, kind=int):
    text = _raw(node, path)
    if text is None:
        return None
    try:
        value = float(text.split()[0].rstrip("x"))
    except ValueError:
        return None
    return kind(round(value * scale)) if kind is int else value * scale


def _first(node, paths, scale=1):
    for path in paths:
        value = _num(node, path, scale)
        if value is not None:
            return value
    return None


def _yes(node, path):
    text = _raw(node, path)
    if text is None:
        return None
    return 1 if text.lower() in ("yes", "enabled", "active") else 0


def _ecc_total(node, corrected):
    if node is None:
        return None
    if node.find("single_bit") is not None:
        return _num(node, "single_bit/total" if corrected else "double_bit/total")
    names = ("sram_correctable", "dram_correctable") if corrected else (
        "sram_uncorrectable", "sram_uncorrectable_parity", "sram_uncorrectable_secded", "dram_uncorrectable")
    values = [_num(node, n) for n in names if _num(node, n) is not None]
    return sum(values) if values else None


def gpu_from_xml(gpu):
    """One ``<gpu>`` of a capture → the raw NVML readings the double serves for it."""
    out = {}

    def put(key, value):
        if value is not None:
            out[key] = value

    put("name", _raw(gpu, "product_name"))
    put("uuid", _raw(gpu, "uuid"))
    put("serial", _raw(gpu, "serial"))
    put("vbios", _raw(gpu, "vbios_version"))
    put("bus_id", _raw(gpu, "pci/pci_bus_id") or gpu.get("id"))
    put("temp", _num(gpu, "temperature/gpu_temp"))
    put("thr.0", _num(gpu, "temperature/gpu_temp_max_threshold"))
    put("thr.1", _num(gpu, "temperature/gpu_temp_slow_threshold"))
    put("power_mw", _first(gpu, ("power_readings/power_draw", "gpu_power_readings/power_draw",
                                 "gpu_power_readings/average_power_draw", "gpu_power_readings/instant_power_draw"), 1000))
    put("limit_mw", _first(gpu, ("power_readings/enforced_power_limit", "gpu_power_readings/current_power_limit",
                                 "power_readings/power_limit"), 1000))
    put("default_limit_mw", _first(gpu, ("power_readings/default_power_limit", "gpu_power_readings/default_power_limit"), 1000))
    put("max_limit_mw", _first(gpu, ("power_readings/max_power_limit", "gpu_power_readings/max_power_limit"), 1000))
    put("min_limit_mw", _first(gpu, ("power_readings/min_power_limit", "gpu_power_readings/min_power_limit"), 1000))
    put("fan", _num(gpu, "fan_speed"))
    put("mem_total", _num(gpu, "fb_memory_usage/total", MIB))
    put("mem_used", _num(gpu, "fb_memory_usage/used", MIB))
    put("mem_reserved", _num(gpu, "fb_memory_usage/reserved", MIB))
    put("util_gpu", _num(gpu, "utilization/gpu_util"))
    put("util_mem", _num(gpu, "utilization/memory_util"))
    put("clock.1", _num(gpu, "clocks/sm_clock"))
    put("clock.2", _num(gpu, "clocks/mem_clock"))
    for section, prefix in (("clocks_event_reasons", "clocks_event_reason_"), ("clocks_throttle_reasons", "clocks_throttle_reason_")):
        node = gpu.find(section)
        if node is not None:
            mask = 0
            for child in node:
                name = child.tag[len(prefix):]
                if (child.text or "").strip() == "Active" and name in THROTTLE_BITS:
                    mask |= THROTTLE_BITS[name]
            out["reasons"] = mask
            break
    ecc = _yes(gpu, "ecc_mode/current_ecc")
    put("ecc_mode", ecc)
    ecc_node = gpu.find("ecc_errors")
    for counter, part in ((0, "volatile"), (1, "aggregate")):
        section = ecc_node.find(part) if ecc_node is not None else None
        put("ecc.0.%d" % counter, _ecc_total(section, True))
        put("ecc.1.%d" % counter, _ecc_total(section, False))
    put("pages.0", _num(gpu, "retired_pages/multiple_single_bit_retirement/retired_count"))
    put("pages.1", _num(gpu, "retired_pages/double_bit_retirement/retired_count"))
    put("pages_pending", _yes(gpu, "retired_pages/pending_retirement"))
    remap = gpu.find("remapped_rows")
    if remap is not None and len(remap) and _num(remap, "remapped_row_corr") is not None:
        out["remap"] = "%d,%d,%d,%d" % (
            _num(remap, "remapped_row_corr"), _num(remap, "remapped_row_unc"),
            _yes(remap, "remapped_row_pending") or 0, _yes(remap, "remapped_row_failure") or 0)
    link = "pci/pci_gpu_link_info/"
    put("pcie_gen", _num(gpu, link + "pcie_gen/current_link_gen"))
    put("pcie_gen_max", _num(gpu, link + "pcie_gen/max_link_gen"))
    put("pcie_width", _num(gpu, link + "link_widths/current_link_width"))
    put("pcie_width_max", _num(gpu, link + "link_widths/max_link_width"))
    put("persistence", _yes(gpu, "persistence_mode"))
    put("compute_mode", COMPUTE_MODES.get(_raw(gpu, "compute_mode")))
    memory_temp = _num(gpu, "temperature/memory_temp")
    out["field.82"] = memory_temp if memory_temp is not None else NOT_SUPPORTED
    compute, graphics, names = [], [], {}
    procs = gpu.find("processes")
    for proc in (procs.findall("process_info") if procs is not None else []):
        pid = _num(proc, "pid")
        used = _num(proc, "used_memory", MIB)
        item = "%d:%s" % (pid, "na" if used is None else used)
        kind = _raw(proc, "type") or "C"
        if "C" in kind:
            compute.append(item)
        if "G" in kind:
            graphics.append(item)
        names[pid] = _raw(proc, "process_name")
    out["procs_c"] = ";".join(compute)
    out["procs_g"] = ";".join(graphics)
    return out, names


def scenario_from_xml(text, nvml_version="12.999.1", init=0):
    """A capture (``nvidia-smi -q -x``) → a scenario dict: what NVML would answer on that host."""
    root = ET.fromstring(text)
    gpus, processes = [], {}
    for node in root.findall("gpu"):
        readings, names = gpu_from_xml(node)
        gpus.append(readings)
        processes.update(names)
    cuda = _raw(root, "cuda_version")
    scenario = {"init": init, "nvml_version": nvml_version, "gpus": gpus,
                "processes": {str(pid): name for pid, name in processes.items() if name}}
    if _raw(root, "driver_version"):
        scenario["driver_version"] = _raw(root, "driver_version")
    if cuda:
        major, _dot, minor = cuda.partition(".")
        scenario["cuda"] = int(major) * 1000 + int(minor or 0) * 10
    return scenario


def xml_with_gpus(text, count):
    """A capture with its first ``<gpu>`` repeated ``count`` times (own bus id, UUID, minor, temp).

    Used for the 2- and 8-GPU scenarios: every value still comes from the real capture; only the
    identity of the copies and a +1 C step per GPU differ, so that a mix-up between GPUs shows.
    """
    root = ET.fromstring(text)
    first = root.find("gpu")
    for node in root.findall("gpu"):
        root.remove(node)
    insert_at = len(list(root))
    for index in range(count):
        gpu = copy.deepcopy(first)
        bus = "00000000:%02X:00.0" % (0x10 + index)
        gpu.set("id", bus)
        for path, value in (("pci/pci_bus_id", bus), ("pci/pci_bus", "%02X" % (0x10 + index)),
                            ("minor_number", str(index))):
            node = gpu.find(path)
            if node is not None:
                node.text = value
        uuid = gpu.find("uuid")
        if uuid is not None:
            uuid.text = uuid.text.strip()[:-2] + "%02x" % index
        temp = gpu.find("temperature/gpu_temp")
        if temp is not None and temp.text.strip()[0].isdigit():
            temp.text = "%d C" % (int(temp.text.split()[0]) + index)
        root.insert(insert_at + index, gpu)
    attached = root.find("attached_gpus")
    if attached is not None:
        attached.text = str(count)
    return ET.tostring(root, encoding="unicode")


def write_scenario(scenario, path):
    """Write the scenario for the C double (``key=value`` lines) and, beside it, as JSON."""
    lines = ["init=%s" % scenario.get("init", 0), "count=%d" % len(scenario.get("gpus", []))]
    for key in ("driver_version", "nvml_version", "cuda"):
        if key in scenario:
            lines.append("%s=%s" % (key, scenario[key]))
    for index, gpu in enumerate(scenario.get("gpus", [])):
        for key, value in gpu.items():
            lines.append("gpu.%d.%s=%s" % (index, key, value))
    for pid, name in scenario.get("processes", {}).items():
        lines.append("proc.%s=%s" % (pid, name))
    # Atomically (a temp file renamed over the old one): the double may read it at any moment.
    _replace(path, "\n".join(lines) + "\n")
    _replace(path + ".json", json.dumps(scenario, indent=1, sort_keys=True))
    return path


def _replace(path, text):
    temp = "%s.tmp-%d" % (path, os.getpid())
    with open(temp, "w") as handle:
        handle.write(text)
    os.replace(temp, path)


def nvml_env(library_dir, scenario_path, init_log=None):
    """Environment for a process that should see the double instead of a driver (``init_log``: a file
    that gets a line at each nvmlInit, after the scenario was read)."""
    env = {"LD_LIBRARY_PATH": library_dir, "GPUFLEET_NVML_SCENARIO": scenario_path}
    if init_log:
        env["GPUFLEET_NVML_INIT_LOG"] = init_log
    return env


def real_driver():
    """The path of a real libnvidia-ml.so.1 the dynamic linker finds on this machine, or None."""
    import ctypes.util
    name = ctypes.util.find_library("nvidia-ml")
    if name:
        return name
    for path in ("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", "/usr/lib64/libnvidia-ml.so.1", "/usr/lib/wsl/lib/libnvidia-ml.so.1"):
        if os.path.exists(path):
            return path
    return None


def skip_with_real_driver():
    """Tests of the no-driver paths need a machine without NVIDIA's driver (CI machines have none)."""
    found = real_driver()
    if found:
        hardware.skip_without("a machine without an NVIDIA driver",
                              "this machine has a real %s, so NVML answers instead of the fall-back under test" % found)


_RUNNER = r"""
import json, sys
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import nvml
facts, problems, mismatch, fall_back = nvml.gather(include_processes=True)
print(json.dumps({"facts": facts, "problems": problems, "mismatch": mismatch, "fall_back": fall_back}))
"""


def run_nvml_gather(library_dir, scenario_path):
    """``_tools/nvml.py``'s ``gather()`` in a fresh Python whose NVML is the double; returns its decoded result."""
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO_ROOT, ".collections"), **nvml_env(library_dir, scenario_path))
    proc = subprocess.run([sys.executable, "-c", _RUNNER], env=env, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise AssertionError("NVML gather failed (rc %s):\n%s" % (proc.returncode, proc.stderr))
    return json.loads(proc.stdout)


def nvidia_smi_standin(directory, xml_text, stderr="", rc=0, name="nvidia-smi"):
    """An executable that prints ``xml_text`` for ``-q -x`` (and ``stderr``), exiting ``rc``."""
    os.makedirs(directory, exist_ok=True)
    out_path = os.path.join(directory, name + ".stdout")
    err_path = os.path.join(directory, name + ".stderr")
    with open(out_path, "w") as handle:
        handle.write(xml_text)
    with open(err_path, "w") as handle:
        handle.write(stderr)
    script = os.path.join(directory, name)
    with open(script, "w") as handle:
        handle.write("#!/bin/sh\n# nvidia-smi stand-in for tests: replays a saved capture.\n"
                     "cat '%s'\ncat '%s' >&2\nexit %d\n" % (out_path, err_path, rc))
    os.chmod(script, os.stat(script).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def export(out_dir, capture_path, gpus=1):
    """Build the double and write, into ``out_dir``, ``libnvidia-ml.so.1``, the scenario of the capture
    (``scenario.txt``) and the capture itself (``capture.xml``, ``gpus`` GPUs): what a container host
    needs to answer as that GPU (the Molecule prepare playbooks copy these three files)."""
    os.makedirs(out_dir, exist_ok=True)
    shutil.copy(os.path.join(build(), "libnvidia-ml.so.1"), out_dir)
    with open(capture_path) as handle:
        xml = handle.read()
    if gpus != 1:
        xml = xml_with_gpus(xml, gpus)
    with open(os.path.join(out_dir, "capture.xml"), "w") as handle:
        handle.write(xml)
    write_scenario(scenario_from_xml(xml), os.path.join(out_dir, "scenario.txt"))


if __name__ == "__main__":
    # cd tests && python3 -m testlib.nvml_double OUT_DIR CAPTURE_XML [GPUS]
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python3 -m testlib.nvml_double OUT_DIR CAPTURE_XML [GPUS]  (from tests/)")
    export(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else 1)
