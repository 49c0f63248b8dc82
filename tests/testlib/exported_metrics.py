"""Real exporter output for the Prometheus rule and dashboard tests.

``capture(workdir)`` runs tests/integration/files/metrics_capture.yml through the real
``ansible-playbook``: three hosts, all on this machine, each with its own replayed hardware

- ``gpu-h200``: the NVML double answering as the real H200 capture (tests/unit/fixtures/device_h200),
  two NVMe drives replayed by the smartctl stand-in (one QLC drive with a write rate, so the days to
  its rated TBW are projected), the replay LLM server probed for the time to first token;
- ``gpu-a100``: the NVML double on a real A100 capture whose NVML init fails with
  NVML_ERROR_LIB_RM_VERSION_MISMATCH (the driver was upgraded under a running kernel module);
- ``gpu-amd``: a rocm-smi stand-in replaying a real Radeon Pro VII capture (edge, junction and
  memory temperatures) and a SATA SSD;

gathers the facts with the collection's modules, writes each host's file with
``gpufleet.maintenance.prometheus_textfile`` and has a real ``prometheus-node-exporter`` scrape it.
What comes back is what Prometheus would store for those hosts: the samples are the input of the
``promtool test rules`` files built by :mod:`testlib.promtool`.
"""

import json
import os
import shutil
import sys
import urllib.request

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import prom as _prom
from testlib import nvml_double
from testlib.ansible_run import REPO_ROOT, run_module, run_playbook
from testlib.llm_servers import Server, free_port, start_replay
from testlib.smartctl import install_fake_smartctl
from testlib.system import apt_ensure

PLAYBOOK = os.path.join(REPO_ROOT, "tests", "integration", "files", "metrics_capture.yml")
FIXTURES = os.path.join(REPO_ROOT, "tests", "unit", "fixtures")
H200_XML = os.path.join(FIXTURES, "device_h200", "nvidia-smi-q-x.xml")
A100_XML = os.path.join(FIXTURES, "nvidia_smi", "a100-sxm4-80gb-driver535-dtdv12-attached4-one-gpu-element.xml")
AMD_JSON = os.path.join(FIXTURES, "rocm_smi", "vega20-wks-gl-xe-radeon-pro-vii.json")
NVML_LIB_RM_VERSION_MISMATCH = 18
QLC_SERIAL = "BTNH93710FS91P0B"   # the Intel 660p capture: rated 200 TBW
# node_exporter's own series about the textfile collector that the rules use besides ours.
NODE_EXPORTER_SERIES = ("node_textfile_scrape_error",)


class Sample(tuple):
    """``(host, name, labels)`` plus ``value``; ``labels`` is a sorted tuple of pairs."""

    def __new__(cls, host, name, labels, value):
        item = tuple.__new__(cls, (host, name, tuple(sorted(labels.items()))))
        item.value = value
        return item

    @property
    def host(self):
        return self[0]

    @property
    def name(self):
        return self[1]

    @property
    def labels(self):
        return dict(self[2])


class Capture:
    """The exported files and node_exporter's scrape of them, per host."""

    def __init__(self, files, scrapes, dirs=None):
        self.dirs = dirs or {}    # host -> its textfile-collector directory
        self.files = files        # host -> the .prom text prometheus_textfile wrote
        self.scrapes = scrapes    # host -> node_exporter's /metrics body
        self.samples = []
        for host, body in sorted(scrapes.items()):
            for name in family_names(body):
                if name.startswith("gpufleet_") or name in NODE_EXPORTER_SERIES:
                    for labels, value in _prom.parse_samples(body, name):
                        self.samples.append(Sample(host, name, labels, value))

    @property
    def names(self):
        """Every metric name the hosts' scrapes carry (ours and the textfile collector's)."""
        return sorted({s.name for s in self.samples})

    def find(self, name, host=None, **labels):
        """The samples of ``name`` (on ``host``) whose labels include ``labels``."""
        return [s for s in self.samples if s.name == name and (host is None or s.host == host)
                and all(s.labels.get(k) == str(v) for k, v in labels.items())]

    def one(self, name, host=None, **labels):
        found = self.find(name, host, **labels)
        if len(found) != 1:
            raise AssertionError("expected one %s%s on %s in the real export, found %d: %s"
                                 % (name, labels, host, len(found), found))
        return found[0]


def family_names(text):
    """Metric family names declared by ``# TYPE`` lines of an exposition."""
    return [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]


def _rocm_smi_standin(directory):
    os.makedirs(directory, exist_ok=True)
    tool = os.path.join(directory, "rocm-smi")
    with open(tool, "w") as handle:
        handle.write("#!/bin/sh\n# rocm-smi stand-in: replays a saved capture.\ncat '%s'\n" % AMD_JSON)
    os.chmod(tool, 0o755)
    return tool


def _smart_previous(smartctl, devices_dir):
    """An earlier reading of the QLC drive, 10 days and 500 GB of writes before now (50 GB/day)."""
    first = run_module("gpufleet.maintenance.smart_facts", {"smartctl_path": smartctl}, check=True)
    previous = first["ansible_facts"]["gpufleet_smart"]
    previous["collected_epoch_s"] -= 10 * 86400
    for device in previous["devices"]:
        if device.get("serial") == QLC_SERIAL:
            device["data_written_bytes"] -= 500 * 10 ** 9
    return previous


def _host_vars(workdir, library):
    hosts = {}
    common = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
              "capture_paths": ["/"], "capture_llm_endpoint": "", "capture_rated_tbw": {}}
    # gpu-h200
    h200 = os.path.join(workdir, "gpu-h200")
    os.makedirs(h200, exist_ok=True)
    with open(H200_XML) as handle:
        scenario = nvml_double.write_scenario(nvml_double.scenario_from_xml(handle.read()), os.path.join(h200, "nvml.txt"))
    smartctl, _log = install_fake_smartctl(os.path.join(h200, "bin"), {
        "/dev/nvme0": {"type": "nvme", "text": "text-nvme-twsc-tsc3an1t0-smartctl75.txt"},
        "/dev/nvme1": {"type": "nvme", "json": "json-nvme-intel-660p-1tb-qlc.json"}})
    hosts["gpu-h200"] = dict(common, capture_dir=os.path.join(h200, "textfile"), capture_smartctl=smartctl,
                             capture_gpu_options={"source": "nvml"},
                             capture_environment=nvml_double.nvml_env(library, scenario),
                             capture_rated_tbw={QLC_SERIAL: 200},
                             capture_smart_previous=_smart_previous(smartctl, h200))
    # gpu-a100: the kernel module and the userspace library disagree
    a100 = os.path.join(workdir, "gpu-a100")
    os.makedirs(a100, exist_ok=True)
    with open(A100_XML) as handle:
        scenario = nvml_double.write_scenario(nvml_double.scenario_from_xml(handle.read(), init=NVML_LIB_RM_VERSION_MISMATCH),
                                              os.path.join(a100, "nvml.txt"))
    smartctl, _log = install_fake_smartctl(os.path.join(a100, "bin"), {
        "/dev/nvme0": {"type": "nvme", "json": "json-nvme-intel-p4500-2tb-75pct-used.json"}})
    hosts["gpu-a100"] = dict(common, capture_dir=os.path.join(a100, "textfile"), capture_smartctl=smartctl,
                             capture_gpu_options={"source": "nvml"},
                             capture_environment=nvml_double.nvml_env(library, scenario))
    # gpu-amd
    amd = os.path.join(workdir, "gpu-amd")
    smartctl, _log = install_fake_smartctl(os.path.join(amd, "bin"), {
        "/dev/sda": {"type": "sat", "json": "json-sata-ssd-samsung-860evo-500gb-x.json"}})
    hosts["gpu-amd"] = dict(common, capture_dir=os.path.join(amd, "textfile"), capture_smartctl=smartctl,
                            capture_gpu_options={"amd_smi_path": os.path.join(amd, "none"),
                                                 "rocm_smi_path": _rocm_smi_standin(os.path.join(amd, "bin"))},
                            capture_environment={})
    for host in hosts.values():
        os.makedirs(host["capture_dir"], exist_ok=True)
    return hosts


def scrape(textfile_dir):
    """node_exporter's /metrics with only the textfile collector, reading ``textfile_dir``."""
    binary = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"
    port = free_port()
    server = Server([binary, "--web.listen-address=127.0.0.1:%d" % port, "--collector.disable-defaults",
                     "--collector.textfile", "--collector.textfile.directory=%s" % textfile_dir],
                    port=port, ready_path="/metrics", ready_timeout=30)
    try:
        with urllib.request.urlopen(server.url + "/metrics", timeout=10) as resp:
            return resp.read().decode()
    finally:
        server.stop()


def capture(workdir):
    """Run the capture playbook in ``workdir``; return a :class:`Capture`."""
    apt_ensure("prometheus-node-exporter")
    library = nvml_double.build()
    workdir = str(workdir)
    hosts = _host_vars(workdir, library)
    server = start_replay(first_delay_s=0.05, interval_s=0.002, tokens=8)
    try:
        hosts["gpu-h200"]["capture_llm_endpoint"] = server.url
        inventory = os.path.join(workdir, "inventory.json")
        with open(inventory, "w") as handle:
            json.dump({"all": {"hosts": hosts}}, handle)
        proc = run_playbook(PLAYBOOK, ["-i", inventory], env={"ANSIBLE_CACHE_PLUGIN": "memory"})
    finally:
        server.stop()
    if proc.returncode != 0:
        raise AssertionError("the metrics capture playbook failed (rc %s):\n%s\n%s"
                             % (proc.returncode, proc.stdout[-4000:], proc.stderr[-2000:]))
    files, scrapes, dirs = {}, {}, {}
    for name, host in hosts.items():
        dirs[name] = host["capture_dir"]
        with open(os.path.join(host["capture_dir"], "gpufleet.prom")) as handle:
            files[name] = handle.read()
        scrapes[name] = scrape(host["capture_dir"])
    return Capture(files, scrapes, dirs)


if __name__ == "__main__":
    # cd tests && python3 -m testlib.exported_metrics OUT_DIR : print what the hosts export
    result = capture(sys.argv[1])
    for host_name, text in sorted(result.files.items()):
        print("### %s\n%s" % (host_name, text))
