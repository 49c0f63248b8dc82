# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and writing files the way every part of the collection should: one atomic writer.

:func:`atomic_write` writes a temporary file in the target's directory and renames it over the
target, so a reader (node_exporter, the next run, a person) never sees half a file, and a full
disk leaves the old file and no temporary behind. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import tempfile


def read_text(path, missing=None):
    """The text of ``path``, or ``missing`` when it does not exist; other errors propagate."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return missing
        raise


def atomic_write(path, data, mode=None, make_dirs=None):
    """Write ``data`` (text, or bytes) to ``path`` atomically.

    ``mode``: permissions of the new file (default: what the umask gives, like ``open``).
    ``make_dirs``: create the missing parent directories with this mode (default: do not).
    Raises ``OSError``/``IOError``; on failure the target is untouched and the temporary removed.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if make_dirs is not None and not os.path.isdir(directory):
        os.makedirs(directory, make_dirs)
    handle, tmp = tempfile.mkstemp(prefix=".gpufleet-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb" if isinstance(data, bytes) else "w") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
