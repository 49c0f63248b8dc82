"""Every plugin's DOCUMENTATION, EXAMPLES and RETURN is YAML that parses (ansible-doc and the
sanity layer need it; a stray ``: `` in a plain scalar broke two modules' docs before)."""

import ast
import glob
import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FILES = sorted(p for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))
               + glob.glob(os.path.join(ROOT, "plugins", "doc_fragments", "*.py")) if not p.endswith("__init__.py"))
SIDECARS = sorted(glob.glob(os.path.join(ROOT, "plugins", "filter", "*.yml")))


def _doc_strings(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
                    yield target.id, node.value.value


@pytest.mark.parametrize("path", FILES, ids=[os.path.relpath(p, ROOT) for p in FILES])
def test_docs_are_yaml(path):
    found = dict(_doc_strings(path))
    assert "DOCUMENTATION" in found, "no DOCUMENTATION in %s" % path
    for name, text in found.items():
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as exc:
            pytest.fail("%s of %s is not YAML: %s" % (name, os.path.relpath(path, ROOT), exc))


@pytest.mark.parametrize("path", SIDECARS, ids=[os.path.basename(p) for p in SIDECARS])
def test_filter_sidecar_docs_are_yaml(path):
    with open(path) as handle:
        doc = yaml.safe_load(handle)
    assert "DOCUMENTATION" in doc and doc["DOCUMENTATION"]["name"] == os.path.basename(path)[:-4]
