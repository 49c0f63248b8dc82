"""scripts/test: every failing command of a layer fails the layer and is named.

The layers below are sourced through GPUFLEET_EXTRA_LAYERS, so the real scripts/test runs them
with its real layer runner. Each broken layer would have passed under the old
``if ( set -e; layer )`` runner, because bash ignores ``set -e`` in an ``if`` condition.
"""

import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

LAYERS = r"""
layer_first_step_fails() { false; echo "AFTER-FIRST"; true; }
layer_pipeline_fails() { printf 'x\n' | grep -q nothing | cat; echo "AFTER-PIPELINE"; }
layer_substitution_fails() { local v; v=$(false; echo hi); echo "AFTER-SUBSTITUTION $v"; }
helper_that_fails() { ls /gpufleet/does/not/exist >/dev/null 2>&1; echo "AFTER-HELPER"; }
layer_helper_fails() { helper_that_fails; echo "AFTER-CALL"; }
layer_fine() { echo "FINE-RAN"; }
"""


def run_layers(tmp_path, *layers):
    extra = tmp_path / "layers.sh"
    extra.write_text(LAYERS)
    env = dict(os.environ, GPUFLEET_EXTRA_LAYERS=str(extra), GPUFLEET_VENV=sys.prefix)
    return subprocess.run([os.path.join(REPO_ROOT, "scripts", "test")] + list(layers), env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("layer, step, never_printed", [
    ("first_step_fails", "false", "AFTER-FIRST"),
    ("pipeline_fails", "cat", "AFTER-PIPELINE"),
    ("substitution_fails", "v=$(false; echo hi)", "AFTER-SUBSTITUTION"),
    ("helper_fails", "ls /gpufleet/does/not/exist > /dev/null 2>&1", "AFTER-HELPER"),
])
def test_a_broken_step_fails_its_layer_and_is_named(tmp_path, layer, step, never_printed):
    proc = run_layers(tmp_path, layer, "fine")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert never_printed not in out  # the layer stopped at the failing step
    assert "[test:%s] step failed (exit " % layer in out
    assert "): %s\n" % step in out
    assert "FAILED layers: %s\n" % layer in proc.stdout
    assert "layers: 1 passed, 1 failed" in proc.stdout
    assert "FINE-RAN" in out  # the next layer still ran


def test_passing_layers_pass(tmp_path):
    proc = run_layers(tmp_path, "fine")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "layers: 1 passed, 0 failed" in proc.stdout


def test_an_unknown_layer_is_refused(tmp_path):
    proc = run_layers(tmp_path, "no_such_layer")
    assert proc.returncode == 1
    assert "unknown layer 'no_such_layer'" in proc.stderr
