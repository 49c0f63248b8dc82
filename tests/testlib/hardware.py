"""The only skips allowed under CI: hardware that no CI machine has (see tests/conftest.py)."""

import pytest

PREFIX = "needs hardware: "


def skip_without(what, why=""):
    """Skip the test because ``what`` (a GPU, a real SMART disk...) is not on this machine."""
    pytest.skip("%s%s%s" % (PREFIX, what, (": " + why) if why else ""))
