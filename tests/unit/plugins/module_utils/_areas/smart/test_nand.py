"""The smart area's NAND table: NAND type of known models, each with a source; unknown models are never guessed."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.smart import nand as _nand


@pytest.mark.parametrize("model, kind", [
    ("INTEL SSDPEKNW010T8", "qlc"),
    ("Samsung SSD 870 QVO 4TB", "qlc"),
    ("CT1000P1SSD8", "qlc"),
    ("Samsung SSD 970 EVO Plus 500GB", "tlc"),
    ("Samsung SSD 860 EVO 500GB", "tlc"),
    ("INTEL SSDPE2KX020T7", "tlc"),
    ("Micron_7450_MTFDKCC3T2TFS", "tlc"),
    ("KINGSTON SA400M8120G", "tlc"),
    ("SAMSUNG MZ7L3240HCHQ-00A07", "tlc"),
    ("INTEL SSDPEDMD800G4", "mlc"),
    ("INTEL SSDSC2BB120G6", "mlc"),
    ("Samsung SSD 970 PRO 512GB", "mlc"),
    ("TWSC TSC3AN1T0-F2T60S", "unknown"),
    ("", "unknown"),
    (None, "unknown"),
])
def test_nand_type(model, kind):
    found, source = _nand.nand_type(model)
    assert found == kind
    assert (source is None) == (kind == "unknown")


def test_every_entry_has_a_valid_type_and_a_source():
    for pattern, kind, product, source in _nand.KNOWN_MODELS:
        assert kind in _nand.NAND_TYPES and kind != "unknown", pattern
        assert product and source and len(source) > 20, pattern
