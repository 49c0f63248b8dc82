"""tests/bench/mutation.py: a weak test lets a mutant survive, a strong one kills it, the file is restored."""

import importlib.util
import os

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

MODULE = '''"""Tiny verdict: crit above 10."""


def verdict(value):
    if value > 10:
        return "crit"
    return "ok"
'''

WEAK = '''from tiny import verdict


def test_far_values():
    assert verdict(100) == "crit"
    assert verdict(0) == "ok"
'''

STRONG = WEAK + '''

def test_the_threshold_itself_is_ok_and_one_above_is_crit():
    assert verdict(10) == "ok"
    assert verdict(11) == "crit"
'''


@pytest.fixture(name="mutation")
def fixture_mutation():
    spec = importlib.util.spec_from_file_location("gpufleet_mutation_tool",
                                                  os.path.join(REPO_ROOT, "tests", "bench", "mutation.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def boundary_mutant(mutation, path):
    mutants = mutation.mutants_for(MODULE, str(path))
    picked = [m for m in mutants if m.operator == "cmp"]
    assert [(m.lineno, m.original, m.text) for m in picked] == [(5, "value > 10", "(value >= 10)")]
    return picked[0]


def run(mutation, tmp_path, test_source):
    module = tmp_path / "tiny.py"
    module.write_text(MODULE)
    before = os.stat(module).st_mtime_ns
    test = tmp_path / "test_tiny.py"
    test.write_text(test_source)
    mutant = boundary_mutant(mutation, module)
    summary = mutation.run_file(str(module), [mutant], [str(test)], timeout=120, cwd=str(tmp_path), equivalent={})
    assert module.read_text() == MODULE
    assert os.stat(module).st_mtime_ns == before
    return mutant, summary


def test_a_weak_test_lets_the_boundary_mutant_survive_and_the_file_is_restored(mutation, tmp_path):
    mutant, summary = run(mutation, tmp_path, WEAK)
    assert mutant.outcome == "survived"
    assert (summary["run"], summary["killed"], summary["survived"], summary["score_pct"]) == (1, 0, 1, 0.0)


def test_a_test_at_the_threshold_kills_the_boundary_mutant_and_the_file_is_restored(mutation, tmp_path):
    mutant, summary = run(mutation, tmp_path, STRONG)
    assert mutant.outcome == "killed"
    assert (summary["run"], summary["killed"], summary["survived"], summary["score_pct"]) == (1, 1, 0, 100.0)


def test_every_operator_yields_python_and_the_expected_replacements(mutation):
    source = 'def f(a, b):\n    if not a and b in ("warn",):\n        return a + 1.5 == 2 or True\n    return "unknown"\n'
    got = sorted((m.operator, m.original, m.text) for m in mutation.mutants_for(source, "x.py"))
    assert got == sorted([
        ("not", "not a", "(a)"),
        ("boolop", 'not a and b in ("warn",)', "(not a or b in ('warn',))"),
        ("cmp", 'b in ("warn",)', "(b not in ('warn',))"),
        ("status", '"warn"', "'crit'"),
        ("return", "a + 1.5 == 2 or True", "None"),
        ("boolop", "a + 1.5 == 2 or True", "(a + 1.5 == 2 and True)"),
        ("cmp", "a + 1.5 == 2", "(a + 1.5 != 2)"),
        ("arith", "a + 1.5", "(a - 1.5)"),
        ("num", "1.5", "3.0"),
        ("num", "2", "3"),
        ("bool", "True", "False"),
        ("return", '"unknown"', "None"),
        ("status", '"unknown"', "'ok'"),
    ])
    for mutant in mutation.mutants_for(source, "x.py"):
        mutation.apply(source, mutant)  # raises SyntaxError if a mutant is not Python


def test_sampling_is_deterministic_and_keeps_source_order(mutation):
    items = list(range(50))
    first = mutation.sample(items, 7)
    assert first == mutation.sample(items, 7)
    assert first == sorted(first) and len(set(first)) == 7
    assert mutation.sample(items, 80) == items


def test_an_equivalent_mutant_is_not_run_and_not_scored(mutation, tmp_path):
    module = tmp_path / "tiny.py"
    module.write_text(MODULE)
    mutant = boundary_mutant(mutation, module)
    summary = mutation.run_file(str(module), [mutant], ["/nonexistent/test_nothing.py"], timeout=120,
                                cwd=str(tmp_path), equivalent={mutant.key(): "reason"})
    assert mutant.outcome == "equivalent"
    assert (summary["run"], summary["equivalent"], summary["score_pct"]) == (0, 1, None)
    assert module.read_text() == MODULE
