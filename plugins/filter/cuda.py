# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CUDA/driver compatibility filters: cuda_min_driver, driver_max_cuda (data: module_utils/_areas/driver_stack/cuda_data.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.driver_stack import cuda as _cuda_compat


def _text(value, name):
    if isinstance(value, bool) or value is None:
        raise AnsibleFilterError("%s expects a version string such as '12.4', got %r" % (name, value))
    if isinstance(value, float):
        raise AnsibleFilterError("%s: pass the version as a string ('%s' loses trailing zeros as a number)" % (name, value))
    text = str(value).strip()
    if _cuda_compat.version_key(text) is None:
        raise AnsibleFilterError("%s: %r is not a version (expected digits and dots, e.g. '12.4' or '550.54.14')" % (name, value))
    return text


def cuda_min_driver(version):
    """CUDA release → minimum Linux x86_64 driver, or 'unknown' beyond the data."""
    return _cuda_compat.cuda_min_driver(_text(version, "cuda_min_driver"))


def driver_max_cuda(version):
    """Driver version → newest CUDA release (major.minor) it supports, or 'unknown' beyond the data."""
    return _cuda_compat.driver_max_cuda(_text(version, "driver_max_cuda"))


class FilterModule(object):
    """CUDA compatibility filters."""

    def filters(self):
        return {
            "cuda_min_driver": cuda_min_driver,
            "driver_max_cuda": driver_max_cuda,
        }
