"""Benchmark of gpu_facts' own work for an 8-GPU host (targets: NVML < 300 ms, nvidia-smi < 1 s).

    .venv/bin/python tests/bench/bench_gpu_facts.py [--repeat 20]

* NVML: a fresh Python per run with the NVML double on LD_LIBRARY_PATH, 8-GPU scenario generated
  from a real A100 capture; timed from before ``import pynvml`` to the finished fact, checks included
  (the gpu area gathered with ``source: nvml``), processes included.
* nvidia-smi: the gpu area gathered with ``source: nvidia_smi`` against a stand-in that prints the 8-GPU XML
  (process start of the stand-in included), and ``parse_xml`` alone.
Prints a Markdown table for docs/performance.md. Not a test: nothing is asserted.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [os.path.join(REPO, ".collections"), os.path.join(REPO, "tests")]

from testlib import nvml_double  # noqa: E402

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA  # noqa: E402
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools import nvidia_smi  # noqa: E402

CAPTURE = os.path.join(REPO, "tests", "unit", "fixtures", "nvidia_smi",
                       "a100-sxm4-80gb-driver535-dtdv12-attached4-one-gpu-element.xml")

_CHILD = r"""
import json, sys, time
start = time.perf_counter()
import pynvml
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.gpu import AREA
imported = time.perf_counter()
fact, _w = AREA.gather(None, AREA.validate({"source": "nvml", "include_processes": True}))
end = time.perf_counter()
assert fact["nvidia"]["gpu_count"] == 8, fact["nvidia"]
print(json.dumps({"s": end - start, "gather_s": end - imported}))
"""


def run_command(args, check_rc=False, environ_update=None, data=None, handle_exceptions=False):
    env = dict(os.environ, **(environ_update or {}))
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def summary(samples):
    return "median %.1f ms, max %.1f ms (n=%d)" % (statistics.median(samples) * 1000, max(samples) * 1000, len(samples))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with open(CAPTURE) as handle:
        xml = nvml_double.xml_with_gpus(handle.read(), 8)
    tmp = tempfile.mkdtemp(prefix="gpufleet-bench-")
    library = nvml_double.build()
    scenario = nvml_double.write_scenario(nvml_double.scenario_from_xml(xml), os.path.join(tmp, "scenario.txt"))
    tool = nvml_double.nvidia_smi_standin(os.path.join(tmp, "bin"), xml)

    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, ".collections"), **nvml_double.nvml_env(library, scenario))
    nvml_samples, gather_samples = [], []
    for _sample in range(args.repeat):
        out = json.loads(subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True).stdout)
        nvml_samples.append(out["s"])
        gather_samples.append(out["gather_s"])

    smi_samples, parse_samples = [], []
    for _sample in range(args.repeat):
        start = time.perf_counter()
        fact, _w = AREA.gather(run_command, AREA.validate({"source": "nvidia_smi", "nvidia_smi_path": tool,
                                                           "include_processes": True}))
        smi_samples.append(time.perf_counter() - start)
        assert fact["nvidia"]["gpu_count"] == 8
        start = time.perf_counter()
        nvidia_smi.parse_xml(xml)
        parse_samples.append(time.perf_counter() - start)

    machine = "%s, %d CPU(s), Python %s" % (platform.platform(terse=True), os.cpu_count(), platform.python_version())
    print("| what | target | measured | machine |")
    print("| --- | --- | --- | --- |")
    print("| gpu_facts NVML path, 8 GPUs (double), import pynvml → fact with checks | < 300 ms | %s | %s |" % (summary(nvml_samples), machine))
    print("| of which NVML init + 8 GPUs read + checks (imports done) | — | %s | %s |" % (summary(gather_samples), machine))
    print("| gpu_facts nvidia-smi path, 8 GPUs (stand-in, %d KiB XML), run + parse + checks | < 1 s | %s | %s |"
          % (len(xml) // 1024, summary(smi_samples), machine))
    print("| `parse_xml` alone, 8-GPU XML | — | %s | %s |" % (summary(parse_samples), machine))


if __name__ == "__main__":
    main()
