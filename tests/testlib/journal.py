"""A real systemd journal and a real wtmp from records a test chooses, and a private mount namespace in
which the collection's modules read exactly those with the real journalctl and last.

- :func:`write_journal` turns entries into the journal export format and has systemd's own
  ``systemd-journal-remote`` write a journal file from them (the entries keep their own timestamps
  and boot ids).
- :func:`write_wtmp` writes utmp records (glibc's ``struct utmp`` on Linux, 384 bytes) as
  ``systemd-update-utmp`` writes them at boot (``BOOT_TIME``, user ``reboot``) and at shutdown
  (``RUN_LVL`` 0 or 6, user ``shutdown``), for ``last -x`` to read.
- :func:`namespace_script` mounts a tmpfs over ``/var/log`` inside ``unshare --mount``, puts the
  journal and wtmp there, and runs a command; nothing on the machine changes.

``SAMPLE_BOOTS`` is the week the unit-test captures under ``tests/unit/fixtures/journalctl`` and
``tests/unit/fixtures/last`` were recorded from (``python -m testlib.journal DIR`` writes that journal
and wtmp again).
"""

import os
import struct
import subprocess
import sys

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT_TIME, RUN_LVL = 2, 1
_UTMP = struct.Struct("<h2xi32s4s32s256shhiii4i20s")  # glibc x86_64/aarch64 struct utmp: 384 bytes

# Shutdown lines quoted from real journals: systemd/systemd#2868 (journalctl -b -1, systemd 229),
# systemd/systemd#11821 (systemd 241), lkrg-org/lkrg#129 (systemd 249+), openbmc/openbmc#3316.
POWER_OFF = [("systemd", 1, "Reached target Shutdown."), ("systemd", 1, "Reached target Final Step."),
             ("systemd", 1, "Starting Power-Off..."), ("systemd", 1, "Reached target Power-Off."),
             ("systemd", 1, "Shutting down.")]
REBOOT = [("systemd", 1, "Reached target System Reboot."), ("systemd", 1, "Shutting down."),
          ("systemd-journald", 312, "Journal stopped")]
# The end of a boot that lost power or hung: ordinary work, then nothing. The Xid line follows the
# kernel's format as quoted in public NVIDIA reports; the user manager's "Reached target Shutdown."
# (a user logging out, PID not 1, as in systemd/systemd#8452) is not the system shutting down.
CRASH = [("ollama", 812, "llama runner started in 2.01 seconds"),
         ("kernel", 0, "NVRM: Xid (PCI:0000:01:00): 79, pid=1234, GPU has fallen off the bus."),
         ("systemd", 1199, "Reached target Shutdown."),
         ("ollama", 812, "CUDA error: unspecified launch failure")]
WORK = [("systemd", 1, "Started Session 5 of User ops."), ("ollama", 812, "llama runner started in 1.87 seconds")]
DAY = 86400
# (boot id, first entry, last entry, the lines it ends with) -- a week in November 2026 (UTC).
SAMPLE_BOOTS = [
    ("5c4b0f1d2e3a4b5c6d7e8f9a0b1c2d3e", 1794816000, 1794949200, POWER_OFF),   # 11-16 08:00 to 11-17 21:00, clean
    ("6d5c1e2f3a4b5c6d7e8f9a0b1c2d3e4f", 1794949320, 1795058220, CRASH),       # to 11-19 03:17: crashed
    ("7e6d2f3a4b5c6d7e8f9a0b1c2d3e4f5a", 1795058340, 1795255200, CRASH[:2]),   # to 11-21 10:00: crashed
    ("8f7e3a4b5c6d7e8f9a0b1c2d3e4f5a6b", 1795255320, 1795426200, REBOOT),      # to 11-23 09:30, clean reboot
    ("9a8f4b5c6d7e8f9a0b1c2d3e4f5a6b7c", 1795426320, 1795430000, WORK),        # 11-23 09:32: the last boot
]
SAMPLE_SINCE = 1795046400  # 2026-11-19 00:00 UTC: the window of the week


def sample_wtmp_events(boots=None):
    """The wtmp records of ``boots`` (default ``SAMPLE_BOOTS``): a boot record each, and a shutdown/reboot
    record where it ended cleanly."""
    events = []
    for _boot_id, first, last, ending in SAMPLE_BOOTS if boots is None else boots:
        events.append(("boot", first))
        if ending is POWER_OFF or ending is REBOOT:
            events.append(("shutdown" if ending is POWER_OFF else "reboot", last))
    return events


def boot_entries(boots):
    """Journal entries ``(epoch s, boot id, monotonic us, identifier, pid, priority, message)`` of ``boots``."""
    entries = []
    for boot_id, first, last, ending in boots:
        lines = [("kernel", 0, "Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org)")] + list(WORK) + list(ending)
        step = (last - first) / float(len(lines) - 1)
        for number, (ident, pid, message) in enumerate(lines):
            stamp = first + step * number
            entries.append((stamp, boot_id, int((stamp - first + 1) * 1e6), ident, pid, 6, message))
    return entries


def export(entries):
    """The journal export format (systemd's "Journal Export Format") of ``entries``."""
    blocks = []
    for stamp, boot_id, monotonic, ident, pid, priority, message in entries:
        blocks.append("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n_PID=%d\nPRIORITY=%d\n"
                      "SYSLOG_IDENTIFIER=%s\nMESSAGE=%s\n" % (int(stamp * 1e6), monotonic, boot_id, pid, priority, ident, message))
    return "\n".join(blocks) + "\n"


def write_journal(path, entries):
    """Write a real journal file at ``path`` (systemd-journal-remote) holding ``entries``."""
    proc = subprocess.run([JOURNAL_REMOTE, "--output=%s" % path, "-"], input=export(entries), capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0 or not os.path.exists(path):
        raise RuntimeError("systemd-journal-remote failed: %s" % proc.stderr)
    return path


def utmp_record(kind, user, stamp, kernel="6.1.0-28-amd64", runlevel=None, previous="5"):
    """One wtmp record: ``kind`` BOOT_TIME (user ``reboot``) or RUN_LVL (user ``shutdown`` with ``runlevel``
    '0'/'6', or ``runlevel`` with '5' after boot)."""
    pid = ord(runlevel) + 256 * ord(previous) if runlevel else 0
    line = b"~" if kind in (BOOT_TIME, RUN_LVL) else b""
    seconds = int(stamp)
    return _UTMP.pack(kind, pid, line, b"~~", user.encode(), kernel.encode(), 0, 0, 0, seconds,
                      int((stamp - seconds) * 1e6), 0, 0, 0, 0, b"")


def write_wtmp(path, events):
    """``events``: ``[("boot"|"shutdown"|"reboot", epoch s)]`` → a wtmp file ``last -x`` reads (a boot is
    followed 20 s later by the runlevel record systemd-update-utmp writes)."""
    with open(path, "wb") as handle:
        for what, stamp in events:
            if what == "boot":
                handle.write(utmp_record(BOOT_TIME, "reboot", stamp))
                handle.write(utmp_record(RUN_LVL, "runlevel", stamp + 20, runlevel="5", previous="N"))
            else:
                handle.write(utmp_record(RUN_LVL, "shutdown", stamp, runlevel="0" if what == "shutdown" else "6"))
    return path


def namespace_script(journal=None, wtmp=None):
    """The shell that sets up the private /var/log (run as ``sh -c SCRIPT sh COMMAND...``)."""
    lines = ["set -e", "mount -t tmpfs gpufleet-test /var/log",
             "if [ -d /run/log/journal ]; then mount -t tmpfs gpufleet-test /run/log/journal; fi"]
    if journal:
        lines += ['mkdir -p "/var/log/journal/$(cat /etc/machine-id)"',
                  'cp "%s" "/var/log/journal/$(cat /etc/machine-id)/system.journal"' % journal]
    if wtmp:
        lines += ['cp "%s" /var/log/wtmp' % wtmp]
    return "; ".join(lines) + '; exec "$@"'


def run_in_namespace(argv, journal=None, wtmp=None, **kwargs):
    """Run ``argv`` in a private mount namespace whose /var/log holds only ``journal`` and ``wtmp``."""
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                           namespace_script(journal, wtmp), "sh"] + list(argv), check=False, **kwargs)


if __name__ == "__main__":
    write_journal(os.path.join(sys.argv[1], "system.journal"), boot_entries(SAMPLE_BOOTS))
    write_wtmp(os.path.join(sys.argv[1], "wtmp"), sample_wtmp_events())
