"""The HTML report in a real headless Chromium at phone (390×844) and desktop (1440×900) sizes (issue 18).

Four runs of a made-up three-host fleet go through the real ``cadence_report`` action
(tests/integration/files/report_history_play.yml: history recorded, a report written each run) with
the cadence playbooks' own chart list (``gpufleet_report_charts``). The last report is opened with a
measuring page around it (the report itself carries no script): the page must
not scroll sideways on the phone, every chart with data is an SVG inside the page, the legend entries
do not overlap, and every chart without data is a "no data yet" panel that says why.

The fleet: ``box-a`` and ``box-b`` have the same disk use (24.4 → 24.6 %, two series on top of each
other); ``box-a`` has a GPU; ``box-b``'s GPU could not be read (``unknown``); a third host with a long
name has its own disk use. No host reports SMART wear, junction temperature or an LLM probe.
"""

import html as htmllib
import json
import os
import re

import pytest
import yaml

from testlib import chromium
from testlib.ansible_run import REPO_ROOT, run_playbook

pytestmark = pytest.mark.integration

DAY = 86400.0
T0 = 1764730800.0   # 2025-12-03T03:00:00Z
LONG = "gpu-worker-with-a-rather-long-name-17.lab.example.internal"
DISK_AB = [24.4, 24.5, 24.5, 24.6]
DISK_LONG = [61.0, 61.5, 62.0, 62.5]
GPU_A = [55.0, 57.0, 56.0, 58.0]

# Chromium's headless windows are at least 500 px wide, so the report is shown in an iframe of the
# size asked for (srcdoc: same origin as the page around it, which measures it once it has loaded).
FRAME = """<!DOCTYPE html><html><head><meta charset="utf-8"><script>
function measure(frame) {
  var win = frame.contentWindow, doc = frame.contentDocument;
  function box(el) { var r = el.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, height: r.height}; }
  var out = {inner: win.innerWidth, scroll: doc.documentElement.scrollWidth, svgs: [], panels: []};
  doc.querySelectorAll("svg.chart").forEach(function (svg) {
    var entries = Array.prototype.map.call(svg.querySelectorAll("g.legend-entry"), function (g) {
      var b = box(g); b.row = g.getAttribute("data-row"); return b; });
    var b = box(svg); b.metric = svg.getAttribute("data-metric"); b.entries = entries;
    b.ymin = svg.getAttribute("data-y-min"); b.ymax = svg.getAttribute("data-y-max"); out.svgs.push(b);
  });
  doc.querySelectorAll(".no-data").forEach(function (p) {
    var b = box(p); b.metric = p.getAttribute("data-metric"); b.text = p.textContent; out.panels.push(b); });
  var pre = document.createElement("pre"); pre.id = "measured"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}
</script></head><body style="margin:0">
<iframe width="%d" height="%d" style="border:0;display:block" onload="measure(this)" srcdoc="%s"></iframe>
</body></html>"""


def _charts():
    with open(os.path.join(REPO_ROOT, "playbooks", "group_vars", "all", "gpufleet.yml")) as handle:
        return yaml.safe_load(handle)["gpufleet_report_charts"]


def _host(disk, gpu=None, gpu_status="ok"):
    facts = {"gpufleet_host": {"status": "ok", "disks": [{"path": "/", "present": True, "used_pct": disk}],
                               "checks": [{"check": "disk_used", "status": "ok", "value": disk, "subject": {"path": "/"},
                                           "message": "disk use of / is %s %%" % disk}]}}
    if gpu is not None:
        facts["gpufleet_gpu"] = {"status": "ok", "checks": [], "nvidia": {"gpus": [{"index": 0, "temperature_c": gpu}]}}
    elif gpu_status == "unknown":
        facts["gpufleet_gpu"] = {"status": "unknown", "checks": [{
            "check": "gpu_present", "status": "unknown", "message": "could not look: NVML: Driver Not Loaded: load the driver"}]}
    return facts


def _runs():
    return [{"now": T0 + run * 7 * DAY,
             "hosts": {"box-a": _host(DISK_AB[run], GPU_A[run]), "box-b": _host(DISK_AB[run], gpu_status="unknown"),
                       LONG: _host(DISK_LONG[run])}} for run in range(4)]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report-browser")
    evars = {"report_runs": _runs(), "report_charts": _charts(), "report_dest": str(tmp / "reports"),
             "report_history": str(tmp / "history.db")}
    (tmp / "vars.json").write_text(json.dumps(evars))
    proc = run_playbook("tests/integration/files/report_history_play.yml", ["-e", "@%s" % (tmp / "vars.json")])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    last = os.path.join(str(tmp / "reports"), "daily-20251224T030000Z")   # the fourth run, T0 + 21 days
    with open(last + ".json") as handle:
        data = json.load(handle)
    with open(last + ".html") as handle:
        page = handle.read()
    return {"tmp": tmp, "json": data, "html": page}


def _measure(report, size, name):
    page = report["tmp"] / ("%s.html" % name)
    page.write_text(FRAME % (size[0], size[1], htmllib.escape(report["html"], quote=True)))
    window = (max(size[0], 500), size[1])
    shot = report["tmp"] / ("%s.png" % name)
    dom = chromium.render("file://%s" % page, report["tmp"] / "profile", size=window, screenshot=shot)
    assert chromium.png_size(shot) == window
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return json.loads(htmllib.unescape(found.group(1)))


WITH_DATA = ["gpu.%.temperature\\_c", "host.disks.used\\_pct"]
WITHOUT = {
    "gpu.%.memory\\_temperature\\_c": "No data yet: the gpu area was read on 2 host(s) (box-a ok, box-b unknown) but none "
                                      "reported gpu.%.memory\\_temperature\\_c",
    "smart.devices.wear\\_pct\\_used": "No data yet: the smart area is not gathered by this cadence",
    "llm\\_probe.%ttft%\\_s": "No data yet: the llm_probe area is not gathered by this cadence",
}


def test_the_report_of_four_runs_keeps_every_chart(report):
    charts = dict((c["metric_like"], c) for c in report["json"]["charts"])
    assert sorted(charts) == sorted(WITH_DATA + list(WITHOUT))
    disk = charts["host.disks.used\\_pct"]
    assert [(s["host"], [p[1] for p in s["points"]]) for s in disk["series"]] == [
        ("box-a", DISK_AB), ("box-b", DISK_AB), (LONG, DISK_LONG)]
    assert disk["no_data"] is None and disk["note"] is None
    for metric, text in WITHOUT.items():
        assert charts[metric]["series"] == [] and ("No data yet: " + charts[metric]["no_data"]).startswith(text), metric
    # the two identical series are both drawn, and the legend says they coincide
    assert "box-b path=/ (same values as box-a path=/)" in report["html"]


@pytest.mark.parametrize("size, name", [((390, 844), "phone"), ((1440, 900), "desktop")])
def test_the_report_fits_and_shows_every_chart_in_chromium(report, size, name):
    got = _measure(report, size, name)
    width = size[0]
    assert got["inner"] == width, got["inner"]
    assert got["scroll"] <= width, "the page scrolls sideways at %d px: %d px wide" % (width, got["scroll"])
    assert [s["metric"] for s in got["svgs"]] == WITH_DATA
    for svg in got["svgs"]:
        assert svg["left"] >= 0 and svg["right"] <= width, (name, svg["metric"], svg["left"], svg["right"])
        assert svg["right"] - svg["left"] >= min(width - 60, 640) - 1, (name, svg["metric"])   # scaled to fit, not shrunk away
        rows = {}
        for entry in svg["entries"]:
            assert svg["left"] <= entry["left"] and entry["right"] <= svg["right"] + 0.5, (name, svg["metric"], entry)
            rows.setdefault(entry["row"], []).append(entry)
        for entries in rows.values():
            entries.sort(key=lambda e: e["left"])
            for one, other in zip(entries, entries[1:]):
                assert other["left"] >= one["right"], (name, svg["metric"], "legend entries overlap", one, other)
    disk = [s for s in got["svgs"] if s["metric"] == "host.disks.used\\_pct"][0]
    assert (disk["ymin"], disk["ymax"]) == ("0", "100")
    # three hosts with long labels do not fit one 640-unit row: the legend wrapped
    assert len(set(e["row"] for e in disk["entries"])) >= 2
    panels = dict((p["metric"], p) for p in got["panels"])
    assert sorted(panels) == sorted(WITHOUT)
    for metric, text in WITHOUT.items():
        panel = panels[metric]
        assert panel["height"] > 0 and 0 <= panel["left"] and panel["right"] <= width, (name, panel)
        assert text in " ".join(panel["text"].split()), (name, panel["text"])
