"""A stand-in ``smartctl`` that replays real captured output (the hardware boundary of smart_facts).

It reads a scenario (JSON) from ``$GPUFLEET_FAKE_SMARTCTL_SCENARIO`` or, when unset, from
``scenario.json`` next to the executable. The scenario maps device paths to captures::

    {"fixtures": "/path/to/tests/unit/fixtures/smartctl",
     "log": "/tmp/calls.log",                 # optional: one JSON argv per line
     "devices": {
        "/dev/nvme0": {"type": "nvme", "text": "text-nvme-....txt", "json": "json-nvme-....json",
                       "rc": 0, "standby": false}}}

It answers the argument patterns pySMART and smart_facts use:

* ``--version``: the version banner (smartctl 7.3);
* ``--scan-open`` (text, or ``--json``): one line per device, ``/dev/X -d TYPE # ...``;
* ``-d test DEV``: ``Device of type 'TYPE' [...] opened``; unknown devices: smartctl's own
  "Unable to detect device type" text and exit status 1;
* ``[-n standby] [-d TYPE] (-a|--all|-x|--info) DEV``: the text capture, with the saved exit status
  (``rc``); ``standby: true`` with ``-n standby`` prints smartctl's "Device is in STANDBY mode" and
  exits 2 (as smartctl does); without ``-n`` the capture is served (the disk would be woken);
* the same with ``--json``/``-j``: the JSON capture with its ``smartctl.exit_status``; a device
  without a JSON capture answers like smartctl 6.x does to ``--json`` (UNRECOGNIZED OPTION, exit 1);
* ``-l sataphy`` / ``-l sasphy``: "not supported" (exit 4), so pySMART falls back to ``--all``;
* anything else, including ``-t``/``-X`` (self-test start/abort), is refused with exit 1 and logged,
  so a test can prove smart_facts never starts a test.
"""

import json
import os
import sys

HEADER = ("smartctl 7.3 2022-02-28 r5338 [x86_64-linux-6.1.0-gpufleet] (local build)\n"
          "Copyright (C) 2002-22, Bruce Allen, Christian Franke, www.smartmontools.org\n\n")
UNRECOGNIZED_JSON = ("=======> UNRECOGNIZED OPTION: json\n"
                     "=======> VALID ARGUMENTS ARE: -h -V -i -a -x ...\n"
                     "\nUse smartctl -h to get a usage summary\n\n")
PROTOCOL = {"nvme": "NVMe", "sat": "ATA", "ata": "ATA", "scsi": "SCSI", "sntasmedia": "NVMe"}


def _scenario():
    path = os.environ.get("GPUFLEET_FAKE_SMARTCTL_SCENARIO") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "scenario.json")
    with open(path) as handle:
        return json.load(handle)


def _read(scenario, name):
    with open(os.path.join(scenario["fixtures"], name), "rb") as handle:
        return handle.read()


def main(argv):
    scenario = _scenario()
    if scenario.get("log"):
        with open(scenario["log"], "a") as handle:
            handle.write(json.dumps(argv) + "\n")
    devices = scenario.get("devices", {})
    out = sys.stdout.buffer
    want_json = "--json" in argv or "-j" in argv or any(a.startswith("--json=") for a in argv)

    if "--version" in argv or "-V" in argv:
        out.write(HEADER.encode())
        return 0

    if "--scan-open" in argv or "--scan" in argv:
        if want_json:
            listing = {"json_format_version": [1, 0], "smartctl": {"version": [7, 3], "exit_status": 0},
                       "devices": [{"name": name, "info_name": name, "type": dev["type"],
                                    "protocol": PROTOCOL.get(dev["type"], "SCSI")}
                                   for name, dev in sorted(devices.items())]}
            out.write(json.dumps(listing, indent=2).encode() + b"\n")
        else:
            for name, dev in sorted(devices.items()):
                out.write(("%s -d %s # %s, %s device\n" % (name, dev["type"], name,
                                                           PROTOCOL.get(dev["type"], "SCSI"))).encode())
        return 0

    target = argv[-1] if argv else ""
    dev = devices.get(target)
    dtype = argv[argv.index("-d") + 1] if "-d" in argv and argv.index("-d") + 1 < len(argv) else None
    if dtype == "test":
        if dev is None:
            out.write((HEADER + "%s: Unable to detect device type\n"
                       "Please specify device type with the -d option.\n\n"
                       "Use smartctl -h to get a usage summary\n\n" % target).encode())
            return 1
        out.write((HEADER + "%s: Device of type '%s' [%s] detected\n%s: Device of type '%s' [%s] opened\n"
                   % (target, dev["type"], PROTOCOL.get(dev["type"], "SCSI"), target, dev["type"],
                      PROTOCOL.get(dev["type"], "SCSI"))).encode())
        return 0
    if "-l" in argv:
        out.write((HEADER + "SATA Phy Event Counters / SAS PHY log not supported\n").encode())
        return 4
    if any(a in argv for a in ("-t", "--test", "-X", "--abort", "-s", "--smart")):
        sys.stderr.write("fake smartctl: refusing a state-changing call %r\n" % (argv,))
        return 1
    if not any(a in argv for a in ("-a", "--all", "-x", "--xall", "-i", "--info", "-H", "--health")):
        sys.stderr.write("fake smartctl: unexpected arguments %r\n" % (argv,))
        return 1
    if dev is None:
        if want_json:
            doc = {"json_format_version": [1, 0],
                   "smartctl": {"version": [7, 3], "exit_status": 1,
                                "messages": [{"string": "%s: Unable to detect device type" % target,
                                              "severity": "error"}]}}
            out.write(json.dumps(doc, indent=2).encode() + b"\n")
        else:
            out.write((HEADER + "%s: Unable to detect device type\n"
                       "Please specify device type with the -d option.\n" % target).encode())
        return 1
    if dev.get("standby") and "-n" in argv and argv[argv.index("-n") + 1].startswith("standby"):
        if want_json:
            doc = {"json_format_version": [1, 0],
                   "smartctl": {"version": [7, 3], "exit_status": 2,
                                "messages": [{"string": "Device is in STANDBY mode, exit(2)",
                                              "severity": "information"}]},
                   "device": {"name": target, "info_name": target, "type": dev["type"]}}
            out.write(json.dumps(doc, indent=2).encode() + b"\n")
        else:
            out.write((HEADER + "Device is in STANDBY mode, exit(2)\n").encode())
        return 2
    if want_json:
        if not dev.get("json"):
            out.write(UNRECOGNIZED_JSON.encode())
            return 1
        raw = _read(scenario, dev["json"])
        out.write(raw)
        try:
            return int(json.loads(raw.decode("utf-8")).get("smartctl", {}).get("exit_status", dev.get("rc", 0)))
        except (ValueError, AttributeError):
            return int(dev.get("rc", 0))
    if dev.get("text"):
        out.write(_read(scenario, dev["text"]))
    else:
        out.write(HEADER.encode())
    return int(dev.get("rc", 0))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
