"""scripts/test: every failing command of a layer fails the layer and is named.

The layers below are sourced through GPUFLEET_EXTRA_LAYERS, so the real scripts/test runs them
with its real layer runner. Each broken layer would have passed under the old
``if ( set -e; layer )`` runner, because bash ignores ``set -e`` in an ``if`` condition.
"""

import os
import subprocess
import sys
import time

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


ALONGSIDE = r"""
prepare_alongside() { echo "PREPARED"; }
start_prebuilds() { echo "PREBUILD-STARTED"; }
layer_integration() {
  touch "$MARKS/integration-start"; sleep 2
  [ -e "$MARKS/timeline-start" ] && echo "SAW-TIMELINE-RUNNING"
  touch "$MARKS/integration-end"
}
layer_timeline() { touch "$MARKS/timeline-start"; sleep 1; echo "TIMELINE-OUTPUT"; [ -z "${TIMELINE_FAILS:-}" ]; }
layer_after() { [ -e "$MARKS/integration-end" ] && echo "AFTER-RAN"; }
"""

STATIC = r"""
layer_integration() {
  touch "$MARKS/integration-start"
  for _ in $(seq 1 50); do [ -e "$MARKS/sanity-end" ] && break; sleep 0.1; done
  [ -e "$MARKS/sanity-end" ] && echo "SAW-SANITY-END"
  touch "$MARKS/integration-end"
}
layer_timeline() { echo "TIMELINE-OUTPUT"; }
layer_lint() { touch "$MARKS/lint-start"; echo "LINT-OUTPUT"; [ -z "${LINT_FAILS:-}" ]; }
layer_sanity() { [ -e "$MARKS/lint-start" ] && echo "SANITY-AFTER-LINT"; echo "SANITY-OUTPUT"; touch "$MARKS/sanity-end"; }
layer_after() { [ -e "$MARKS/integration-end" ] && echo "AFTER-RAN"; }
"""


def run_alongside(tmp_path, *layers, layers_text=ALONGSIDE, **env_extra):
    extra = tmp_path / "alongside.sh"
    extra.write_text(layers_text)
    marks = tmp_path / "marks"
    marks.mkdir()
    env = dict(os.environ, GPUFLEET_EXTRA_LAYERS=str(extra), GPUFLEET_VENV=sys.prefix, MARKS=str(marks), **env_extra)
    env.pop("GPUFLEET_TEST_SERIAL", None)
    env.update(env_extra)
    return subprocess.run([os.path.join(REPO_ROOT, "scripts", "test")] + list(layers), env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_the_timeline_runs_alongside_integration_and_keeps_its_own_verdict(tmp_path):
    proc = run_alongside(tmp_path, "integration", "timeline", "after")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "PREPARED" in out and "SAW-TIMELINE-RUNNING" in out  # started before integration ended
    assert out.index("layer integration passed") < out.index("TIMELINE-OUTPUT")  # its output whole, after
    assert "layer timeline passed in " in out and "(alongside integration)" in out
    assert "AFTER-RAN" in out and "layers: 3 passed, 0 failed" in proc.stdout
    assert out.index("PREBUILD-STARTED") < out.index("=== layer integration ===")  # before the first layer


def test_a_failing_timeline_alongside_fails_its_own_layer(tmp_path):
    proc = run_alongside(tmp_path, "integration", "timeline", TIMELINE_FAILS="1")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "FAILED layers: timeline\n" in proc.stdout and "layer integration passed" in out
    assert "[test:timeline] step failed (exit 1)" in out


def test_serial_runs_them_one_after_the_other(tmp_path):
    proc = run_alongside(tmp_path, "integration", "timeline", GPUFLEET_TEST_SERIAL="1")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "SAW-TIMELINE-RUNNING" not in out and "PREPARED" not in out and "alongside" not in out
    assert "PREBUILD-STARTED" not in out
    assert out.index("layer integration passed") < out.index("=== layer timeline ===")


def test_a_timeline_named_before_integration_runs_on_its_own_in_order(tmp_path):
    proc = run_alongside(tmp_path, "timeline", "integration")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "SAW-TIMELINE-RUNNING" in out  # integration ran after the timeline had started (and ended)
    assert "alongside" not in out and "PREPARED" not in out
    assert out.index("layer timeline passed") < out.index("=== layer integration ===")
    assert "layers: 2 passed, 0 failed" in proc.stdout


def test_lint_and_sanity_run_alongside_integration_one_after_the_other(tmp_path):
    proc = run_alongside(tmp_path, "integration", "timeline", "lint", "sanity", "after", layers_text=STATIC)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "SAW-SANITY-END" in out  # lint and sanity had both ended before integration did
    assert "SANITY-AFTER-LINT" in out  # in their lane, one after the other
    # each one's output whole, after integration's verdict, in the order the layers were asked for
    order = ["layer integration passed", "TIMELINE-OUTPUT", "layer timeline passed", "LINT-OUTPUT",
             "layer lint passed", "SANITY-OUTPUT", "layer sanity passed", "AFTER-RAN"]
    assert [out.index(mark) for mark in order] == sorted(out.index(mark) for mark in order), out
    assert "layer sanity passed in " in out and out.count("(alongside integration)") == 3
    assert "layers: 5 passed, 0 failed" in proc.stdout


def test_a_failing_layer_alongside_fails_alone_and_its_lane_goes_on(tmp_path):
    proc = run_alongside(tmp_path, "integration", "lint", "sanity", layers_text=STATIC, LINT_FAILS="1")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "FAILED layers: lint\n" in proc.stdout and "layer sanity passed" in out
    assert "[test:lint] step failed (exit 1)" in out


def test_lint_named_before_integration_runs_on_its_own_in_order(tmp_path):
    proc = run_alongside(tmp_path, "lint", "integration", "sanity", layers_text=STATIC)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert out.index("layer lint passed") < out.index("=== layer integration ===")
    assert out.count("(alongside integration)") == 1  # sanity only


PREPARE = r"""
prepare_alongside() { sleep 1; touch "$MARKS/prepared"; [ -z "${PREPARE_FAILS:-}" ]; }
start_prebuilds() { :; }
layer_integration() { [ -e "$MARKS/prepared" ] && echo "INTEGRATION-AFTER-PREPARED"; }
layer_timeline() { [ -e "$MARKS/prepared" ] && echo "TIMELINE-AFTER-PREPARED"; }
layer_lint() { [ -e "$MARKS/prepared" ] || echo "LINT-BEFORE-PREPARED"; sleep 3; touch "$MARKS/lint-end"; }
"""


def test_a_lane_without_containers_starts_before_the_images_are_prepared(tmp_path):
    proc = run_alongside(tmp_path, "integration", "timeline", "lint", layers_text=PREPARE)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "LINT-BEFORE-PREPARED" in out  # the lint lane used the time the image builds take
    assert "TIMELINE-AFTER-PREPARED" in out and "INTEGRATION-AFTER-PREPARED" in out
    assert "layers: 3 passed, 0 failed" in proc.stdout


def test_a_failed_preparation_stops_the_run_and_the_lane_already_started(tmp_path):
    proc = run_alongside(tmp_path, "integration", "timeline", "lint", layers_text=PREPARE, PREPARE_FAILS="1")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "could not be prepared" in out and "=== layer integration ===" not in out
    time.sleep(4)  # longer than the lint stand-in would have run
    assert not (tmp_path / "marks" / "lint-end").exists(), "the lint lane went on after the run stopped"
