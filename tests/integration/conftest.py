"""Fixtures shared by integration test modules."""

import pytest

from testlib.exported_metrics import capture


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """What three replayed hosts really export (tests/testlib/exported_metrics.py), once per session."""
    return capture(tmp_path_factory.mktemp("exported"))
