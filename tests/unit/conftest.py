"""Unit tests import the collection as ansible_collections.gpufleet.maintenance (see pytest.ini)."""

import os

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


@pytest.fixture
def fixture_path():
    """Path of a file under tests/unit/fixtures/."""

    def _path(*parts):
        path = os.path.join(FIXTURES, *parts)
        assert os.path.exists(path), "missing fixture %s" % path
        return path

    return _path
