"""Headless Chromium (Debian's ``chromium``) for the report tests: a screenshot and the DOM after
load, at a given window size."""

import os
import struct
import subprocess

from testlib.system import apt_ensure

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def _run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, "chromium rc %s: %s" % (proc.returncode, proc.stderr[-2000:])
    return proc


def png_size(path):
    """``(width, height)`` of a PNG file, from its IHDR chunk."""
    with open(str(path), "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG: %r" % head[:8]
    return struct.unpack(">II", head[16:24])


def render(url, profile, size=(1200, 1600), screenshot=None):
    """The DOM of ``url`` after load (``--dump-dom``), and a PNG at ``screenshot`` when given."""
    apt_ensure("chromium")
    os.makedirs(str(profile), exist_ok=True)
    base = ["chromium"] + FLAGS + ["--user-data-dir=%s" % profile, "--window-size=%d,%d" % size]
    if screenshot is not None:
        _run(base + ["--screenshot=%s" % screenshot, url])
    return _run(base + ["--dump-dom", url]).stdout
