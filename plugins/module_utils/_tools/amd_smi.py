# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AMD GPU facts from ``amd-smi ... --json`` (preferred) or ``rocm-smi ... --json``.

Pure parsers (JSON text in, ``gpufleet_gpu.amd`` dict out) and ``gather()`` running the tools through
``_common/runner.py``. ``N/A`` strings and ``{"value", "unit"}`` objects are normalised; ``rocm-smi`` exits 0
even without a driver, so its exit code is never trusted: no ``cardN`` entry means no GPU.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common import runner as _runner
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.gpu_shapes import AMD_NOT_FOUND as NOT_FOUND
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.gpu_shapes import amd_absent as absent

ROCM_SMI_ARGS = ["--showproductname", "--showvbios", "--showtemp", "--showpower", "--showmaxpower", "--showfan",
                 "--showmeminfo", "vram", "--showuse", "--showdriverversion", "--showbus", "--json"]
MIB = 1024 * 1024
_NUMBER = re.compile(r"^\s*\(?(-?\d+(?:\.\d+)?)")


def _value(raw):
    """A reading: number, ``{"value": n, "unit": u}``, numeric string, or ``N/A`` → float or None."""
    if isinstance(raw, dict):
        raw = raw.get("value")
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    match = _NUMBER.match(str(raw))
    return float(match.group(1)) if match else None


def _int(raw):
    value = _value(raw)
    return int(round(value)) if value is not None else None


def _text(raw):
    if raw is None:
        return None
    text = str(raw).strip()
    return None if not text or text.upper().startswith("N/A") else text


def _pct(used, total):
    return round(100.0 * used / total, 1) if used is not None and total else None


def parse_rocm_smi(text):
    """``rocm-smi ... --json`` → ``(amd_facts, problems)``."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        return absent("rocm-smi output could not be read", "rocm_smi"), ["could not read the JSON (%s)" % exc]
    if not isinstance(data, dict):
        return absent("rocm-smi output could not be read", "rocm_smi"), ["expected a JSON object, got %s" % type(data).__name__]
    cards = sorted((k for k in data if re.match(r"^card\d+$", k)), key=lambda k: int(k[4:]))
    system = data.get("system") if isinstance(data.get("system"), dict) else {}
    if not cards:
        return absent("rocm-smi reports no AMD GPU (driver not loaded or no card)", "rocm_smi"), []
    gpus = []
    for key in cards:
        card = data[key] if isinstance(data[key], dict) else {}
        name = _text(card.get("Card series")) or _text(card.get("Card SKU"))
        if name and re.match(r"^0x[0-9a-fA-F]+$", name):  # old ROCm prints the vendor id here
            name = _text(card.get("Card SKU"))
        total_b = _value(card.get("VRAM Total Memory (B)"))
        used_b = _value(card.get("VRAM Total Used Memory (B)"))
        total = int(round(total_b / MIB)) if total_b is not None else None
        used = int(round(used_b / MIB)) if used_b is not None else None
        power = _value(card.get("Average Graphics Package Power (W)"))
        if power is None:
            power = _value(card.get("Current Socket Graphics Package Power (W)"))
        gpus.append(dict(
            index=int(key[4:]),
            name=name,
            gfx_target=_text(card.get("GFX Version")),
            vbios_version=_text(card.get("VBIOS version")),
            pci_bus_id=_text(card.get("PCI Bus")),
            temperature_edge_c=_value(card.get("Temperature (Sensor edge) (C)")),
            temperature_junction_c=_value(card.get("Temperature (Sensor junction) (C)")),
            temperature_memory_c=_value(card.get("Temperature (Sensor memory) (C)")),
            power_w=power,
            power_cap_w=_value(card.get("Max Graphics Package Power (W)")),
            fan_speed_pct=_value(card.get("Fan speed (%)")),
            vram_total_mib=total,
            vram_used_mib=used,
            vram_used_pct=_pct(used_b, total_b),
            ecc_correctable=_int(card.get("ECC correctable error count") or card.get("Correctable ECC errors")),
            ecc_uncorrectable=_int(card.get("ECC uncorrectable error count") or card.get("Uncorrectable ECC errors")),
        ))
    return dict(present=True, source="rocm_smi", rocm_version=None,
                driver_version=_text(system.get("Driver version")), gpus=gpus), []


def parse_amd_smi(metric_text, static_text=None, version_text=None):
    """``amd-smi metric --json`` (+ optional ``static --json``, ``version --json``) → ``(amd_facts, problems)``."""
    problems = []
    try:
        metrics = json.loads(metric_text)
    except ValueError as exc:
        return absent("amd-smi output could not be read", "amd_smi"), ["amd-smi metric --json: could not read the JSON (%s)" % exc]
    if isinstance(metrics, dict):
        metrics = metrics.get("gpu_data", [metrics]) if "gpu_data" in metrics else [metrics]
    if not isinstance(metrics, list):
        return absent("amd-smi output could not be read", "amd_smi"), ["amd-smi metric --json: expected a list of GPUs"]
    static = {}
    if static_text:
        try:
            items = json.loads(static_text)
            items = items.get("gpu_data", [items]) if isinstance(items, dict) else items
            static = dict((item.get("gpu"), item) for item in items if isinstance(item, dict))
        except ValueError as exc:
            problems.append("amd-smi static --json: could not read the JSON (%s)" % exc)
    rocm_version = driver_version = None
    if version_text:
        try:
            version = json.loads(version_text)
            version = version[0] if isinstance(version, list) and version else version
            rocm_version = _text((version or {}).get("rocm_version"))
            driver_version = _text((version or {}).get("amdgpu_version") or (version or {}).get("driver_version"))
        except (ValueError, AttributeError) as exc:
            problems.append("amd-smi version --json: could not read the JSON (%s)" % exc)
    gpus = []
    for position, item in enumerate(metrics):
        if not isinstance(item, dict):
            problems.append("amd-smi metric --json: entry %d is not an object" % position)
            continue
        index = item.get("gpu", position)
        info = static.get(index) or {}
        asic = info.get("asic") or {}
        temps = item.get("temperature") or {}
        mem = item.get("mem_usage") or {}
        power = item.get("power") or {}
        fan = item.get("fan") or {}
        ecc = item.get("ecc") or {}
        total = _int(mem.get("total_vram"))
        used = _int(mem.get("used_vram"))
        driver_version = driver_version or _text((info.get("driver") or {}).get("version"))
        gpus.append(dict(
            index=index,
            name=_text(asic.get("market_name")),
            gfx_target=_text(asic.get("target_graphics_version")),
            vbios_version=_text((info.get("vbios") or info.get("ifwi") or {}).get("version")),
            pci_bus_id=_text((info.get("bus") or {}).get("bdf")),
            temperature_edge_c=_value(temps.get("edge")),
            temperature_junction_c=_value(temps.get("hotspot") if "hotspot" in temps else temps.get("junction")),
            temperature_memory_c=_value(temps.get("mem")),
            power_w=_value(power.get("socket_power")),
            power_cap_w=_value(power.get("power_cap")) if "power_cap" in power else
            _value(((info.get("limit") or {}).get("max_power")) or ((info.get("limit") or {}).get("ppt0") or {}).get("max_power_limit")),
            fan_speed_pct=_value(fan.get("usage")),
            vram_total_mib=total,
            vram_used_mib=used,
            vram_used_pct=_pct(used, total),
            ecc_correctable=_int(ecc.get("total_correctable_count")),
            ecc_uncorrectable=_int(ecc.get("total_uncorrectable_count")),
        ))
    if not gpus:
        return absent("amd-smi reports no AMD GPU", "amd_smi"), problems
    return dict(present=True, source="amd_smi", rocm_version=rocm_version, driver_version=driver_version, gpus=gpus), problems


def gather(run_command, amd_smi_path=None, rocm_smi_path=None, timeout=20):
    """Run amd-smi (or rocm-smi) and parse its JSON; ``(amd_facts, problems)``; absent tools → present false."""
    amd_smi = _runner.find_tool("amd-smi", amd_smi_path)
    if amd_smi:
        try:
            metric = _runner.run(run_command, [amd_smi, "metric", "--json"], timeout=timeout)
        except _runner.ToolError as exc:
            return absent("%s metric --json: %s" % (amd_smi, exc), "amd_smi"), ["%s metric --json: %s" % (amd_smi, exc)]
        if metric.rc != 0:
            message = "%s metric --json exited %s: %s" % (amd_smi, metric.rc, (metric.stderr or metric.stdout).strip()[:300])
            return absent(message, "amd_smi"), [message]
        extra = {}
        for name in ("static", "version"):
            try:
                result = _runner.run(run_command, [amd_smi, name, "--json"], timeout=timeout)
                extra[name] = result.stdout if result.rc == 0 else None
            except _runner.ToolError:
                extra[name] = None
        return parse_amd_smi(metric.stdout, extra["static"], extra["version"])
    rocm_smi = _runner.find_tool("rocm-smi", rocm_smi_path)
    if rocm_smi:
        try:
            result = _runner.run(run_command, [rocm_smi] + ROCM_SMI_ARGS, timeout=timeout)
        except _runner.ToolError as exc:
            return absent("%s: %s" % (rocm_smi, exc), "rocm_smi"), ["%s --json: %s" % (rocm_smi, exc)]
        facts, problems = parse_rocm_smi(result.stdout)
        return facts, ["%s --json: %s" % (rocm_smi, p) for p in problems]
    return absent(NOT_FOUND), []
