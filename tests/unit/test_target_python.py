"""Code that runs on the managed hosts parses as Python 3.9: macOS's /usr/bin/python3 is 3.9 and the
macos area runs with it (issue 20, part 3; ansible-core 2.21 supports 3.9 targets). Syntax only: the
integration test tests/integration/test_macos_facts.py runs the modules with a real 3.9 where one is
installed."""

import ast
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST_CODE = sorted(os.path.join(folder, name)
                   for base in ("modules", "module_utils")
                   for folder, _dirs, files in os.walk(os.path.join(ROOT, "plugins", base))
                   for name in files if name.endswith(".py"))


@pytest.mark.parametrize("path", HOST_CODE, ids=[os.path.relpath(p, ROOT) for p in HOST_CODE])
def test_host_code_parses_as_python_39(path):
    with open(path) as handle:
        ast.parse(handle.read(), filename=path, feature_version=(3, 9))


def test_the_check_refuses_newer_syntax():
    with pytest.raises(SyntaxError):
        ast.parse("match x:\n    case 1:\n        pass\n", feature_version=(3, 9))
