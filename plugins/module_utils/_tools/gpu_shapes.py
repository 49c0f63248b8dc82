# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shapes the GPU readers share: a vendor's section where no tool reported a GPU (``absent``), and the
entry of a GPU the driver lost (``lost_gpu``).

Apart from the readers (``nvml.py``, ``nvidia_smi.py``, ``amd_smi.py``) so that a host where a tool is not
installed never imports that tool's parser: the ``gpu`` area runs on every host at every daily, and each
module a run imports is compiled there from source (twice, by zipimport: python/cpython#141276), which is
most of what the run costs a host beyond its Python start (docs/performance.md, Fleet scale).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

AMD_NOT_FOUND = "neither amd-smi nor rocm-smi found"


def nvidia_absent(reason, source):
    """The ``nvidia`` section where NVML and nvidia-smi reported no GPU (``reason`` says why)."""
    return dict(present=False, reason=reason, source=source, driver_version=None, cuda_driver_version=None,
                nvml_version=None, gpu_count=0, gpus=[])


def amd_absent(reason, source=None):
    """The ``amd`` section where amd-smi and rocm-smi reported no GPU (``reason`` says why)."""
    return dict(present=False, reason=reason, source=source, rocm_version=None, driver_version=None, gpus=[])


def lost_gpu(index, pci_bus_id, error):
    """A GPU entry for a GPU the driver lost: identity where known, every reading None."""
    entry = dict((key, None) for key in (
        "name", "uuid", "serial", "vbios_version", "temperature_c", "memory_temperature_c",
        "temperature_slowdown_c", "temperature_shutdown_c", "power_draw_w", "power_limit_w",
        "power_default_limit_w", "power_max_limit_w", "fan_speed_pct", "memory_total_mib", "memory_used_mib",
        "memory_used_pct", "utilization_gpu_pct", "clocks_sm_mhz", "clocks_mem_mhz", "throttle_reasons",
        "persistence_mode", "compute_mode", "processes"))
    entry.update(index=index, state="lost", error=error, pci_bus_id=pci_bus_id,
                 ecc=dict.fromkeys(("mode_current", "volatile_corrected", "volatile_uncorrected",
                                    "aggregate_corrected", "aggregate_uncorrected")),
                 retired_pages=dict.fromkeys(("single_bit", "double_bit", "pending")),
                 remapped_rows=dict.fromkeys(("correctable", "uncorrectable", "pending", "failure")),
                 pcie=dict.fromkeys(("gen_current", "gen_max", "width_current", "width_max")))
    return entry
