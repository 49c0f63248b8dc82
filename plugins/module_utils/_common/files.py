# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and writing files the way every part of the collection should: one atomic writer.

:func:`atomic_write` (and :func:`atomic_writer`, for data written in pieces, such as a gzip
stream) writes a temporary file in the target's directory and renames it over the target, so a
reader (node_exporter, the next run, a person) never sees half a file, and a full disk leaves the
old file and no temporary behind. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
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
    with atomic_writer(path, binary=isinstance(data, bytes), mode=mode, make_dirs=make_dirs) as out:
        out.write(data)


@contextlib.contextmanager
def atomic_writer(path, binary=False, mode=None, make_dirs=None, times=None):
    """:func:`atomic_write` for data written in pieces: ``with atomic_writer(path) as out: out.write(...)``.

    The file object writes to a temporary in the target's directory; when the block ends without an
    exception the temporary gets ``mode`` (as in :func:`atomic_write`) and ``times`` (``(atime,
    mtime)`` for ``os.utime``, default: now) and is renamed over ``path``. When the block raises, the
    temporary is removed and ``path`` is untouched.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if make_dirs is not None and not os.path.isdir(directory):
        os.makedirs(directory, make_dirs)
    handle, tmp = tempfile.mkstemp(prefix=".gpufleet-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb" if binary else "w") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        if times is not None:
            os.utime(tmp, times)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
