"""Mutation score of the verdict code: does a test fail when a decision in the code changes?

    .venv/bin/python tests/bench/mutation.py [--files GLOB ...] [--max-mutants-per-file N]
                                             [--json PATH] [--list] [--timeout S] [--resume PREV.json]

Self-contained (standard library only). For each file it parses the source, makes one mutant per
(node, operator) below, writes the mutated source over the file, runs only the tests that concern
the file (``pytest -x -q -p no:cacheprovider``, test_<stem>.py first) with a per-mutant timeout, and
restores the file (try/finally, also on Ctrl-C and SIGTERM; checked with ``git diff`` at the end).

A mutant is *killed* when the tests fail (or time out), *survived* when they pass. Score =
killed / (run - equivalent). Mutants listed in ``EQUIVALENT`` (no observable change, with the
reason) are not run and not counted.

Operators:

* ``cmp``: ``<``/``<=``, ``>``/``>=``, ``==``/``!=``, ``in``/``not in``, ``is``/``is not``
* ``num``: an int constant ``c`` becomes ``c + 1``, a float ``c`` becomes ``c * 2`` (``1.0`` for 0.0)
* ``boolop``: ``and``/``or``
* ``bool``: ``True``/``False``
* ``status``: ``"ok"`` -> ``"warn"``, ``"warn"`` -> ``"crit"``, ``"crit"`` -> ``"warn"``,
  ``"unknown"`` -> ``"ok"``
* ``not``: ``not x`` -> ``x``
* ``return``: ``return <value>`` -> ``return None``
* ``arith``: ``+``/``-``

Sampling: with ``--max-mutants-per-file N`` and more than N mutants in a file, N of them are drawn
with a fixed seed (same source, same sample). What the sample hides: a surviving mutant outside the
sample is not seen, so the score is an estimate of the full score (its error shrinks with N), and
which lines are weak is only known for the sampled mutants.

``--resume PREV.json`` runs again only the mutants that survived in a previous result of the same
sample (same source, seed and N): after adding tests, the score is brought up to date without
running the killed ones again (a test added cannot make a killed mutant pass).

While it runs, the file on disk is a mutant: do not commit (``git add -A``) or run other tests that
import it until it has finished.

Which tests run for a file: the mirror directory under tests/unit (``plugins/module_utils/_areas/
gpu/checks.py`` -> ``tests/unit/plugins/module_utils/_areas/gpu/``) plus every test file under
tests/unit that imports the module (found by grep). ``--tests`` replaces that list.
Not a test: nothing is asserted; the figures go to docs/performance.md.
"""

import argparse
import ast
import copy
import datetime
import fnmatch
import glob
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

DEFAULT_FILES = [
    "plugins/module_utils/_areas/*/checks.py",
    "plugins/module_utils/_common/checks.py",
    "plugins/module_utils/_common/options.py",
]
SEED = 16

# Mutants with no observable change: (file, function, operator, original, mutated): reason.
# Keyed by the enclosing function, not the line, so the entry survives edits above it.
EQUIVALENT = {
    ("plugins/module_utils/_areas/docker/checks.py", "evaluate", "status", '"warn"', "'crit'"):
        "limits.get('unpinned_status', 'warn'): the default is never used, AREA.validate always fills unpinned_status "
        "from the checks table (default warn), and evaluate only sees validated params",
    ("plugins/module_utils/_common/checks.py", "worst_status", "cmp", "_RANK[status] > _RANK[worst]",
     "(_RANK[status] >= _RANK[worst])"):
        "equal ranks mean the same status (unrecognised statuses are turned into 'unknown' first), so replacing "
        "worst by status on a tie changes nothing",
    ("plugins/module_utils/_common/checks.py", "level_check.beyond", "return", "False", "None"):
        "beyond() is only used as an if condition (if beyond(crit) / if beyond(warn)), where False and None are alike",
}

CMP_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
            ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
            ast.Is: ast.IsNot, ast.IsNot: ast.Is}
STATUS_SWAP = {"ok": "warn", "warn": "crit", "crit": "warn", "unknown": "ok"}


class Mutant:
    """One change: the source segment ``start``..``end`` (line, col; 1-based lines) replaced by ``text``."""

    def __init__(self, path, func, operator, lineno, start, end, original, text):
        self.path = path
        self.func = func
        self.operator = operator
        self.lineno = lineno
        self.start = start
        self.end = end
        self.original = original
        self.text = text
        self.outcome = None
        self.seconds = None

    def key(self):
        return (self.path, self.func, self.operator, self.original, self.text)

    def as_dict(self):
        return {"file": self.path, "line": self.lineno, "function": self.func, "operator": self.operator,
                "original": self.original, "mutated": self.text, "outcome": self.outcome,
                "seconds": self.seconds}

    def describe(self):
        return "%s:%d %s (%s) %s -> %s" % (self.path, self.lineno, self.operator, self.func,
                                           self.original, self.text)


def _segment_offsets(source, node):
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode("utf-8")))
    data = source.encode("utf-8")
    begin = starts[node.lineno - 1] + node.col_offset
    end = starts[node.end_lineno - 1] + node.end_col_offset
    return data, begin, end


def _one_line(text):
    return " ".join(text.split())


def _variants(node):
    """(operator, mutated node) pairs for one AST node."""
    out = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            swap = CMP_SWAP.get(type(op))
            if swap:
                new = copy.deepcopy(node)
                new.ops[i] = swap()
                out.append(("cmp", new))
    elif isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        out.append(("boolop", new))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("not", copy.deepcopy(node.operand)))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        new = copy.deepcopy(node)
        new.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
        out.append(("arith", new))
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            out.append(("bool", ast.Constant(not value)))
        elif isinstance(value, int):
            out.append(("num", ast.Constant(value + 1)))
        elif isinstance(value, float):
            out.append(("num", ast.Constant(value * 2 if value else 1.0)))
        elif isinstance(value, str) and value in STATUS_SWAP:
            out.append(("status", ast.Constant(STATUS_SWAP[value])))
    return out


class _Finder(ast.NodeVisitor):
    def __init__(self):
        self.found = []  # (node, function name, operator, mutated node or None for "return None")
        self.func = "<module>"

    def visit_FunctionDef(self, node):
        outer, self.func = self.func, (node.name if self.func == "<module>" else self.func + "." + node.name)
        for stmt in node.body:
            self.visit(stmt)  # decorators, defaults and annotations are not mutated
        self.func = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        outer, self.func = self.func, node.name
        for stmt in node.body:
            self.visit(stmt)
        self.func = outer

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # docstring
        self.generic_visit(node)

    def visit_JoinedStr(self, node):
        return  # f-strings: messages, and their parts have no usable positions

    def visit_Import(self, node):
        return

    def visit_ImportFrom(self, node):
        return

    def visit_Return(self, node):
        if node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            self.found.append((node.value, self.func, "return", None))
        self.generic_visit(node)

    def generic_visit(self, node):
        if isinstance(node, ast.expr):
            for operator, new in _variants(node):
                self.found.append((node, self.func, operator, new))
        super().generic_visit(node)


def mutants_for(source, path):
    """Every mutant of ``source`` (``path`` is only a label), in source order."""
    tree = ast.parse(source)
    finder = _Finder()
    finder.visit(tree)
    out = []
    for node, func, operator, new in finder.found:
        data, begin, end = _segment_offsets(source, node)
        original = data[begin:end].decode("utf-8")
        text = "None" if new is None else ast.unparse(new)
        if not isinstance(new, ast.Constant) and new is not None:
            text = "(" + text + ")"
        out.append(Mutant(path, func, operator, node.lineno, begin, end, _one_line(original), text))
    return out


def apply(source, mutant):
    data = source.encode("utf-8")
    mutated = (data[:mutant.start] + mutant.text.encode("utf-8") + data[mutant.end:]).decode("utf-8")
    ast.parse(mutated)  # a mutant must still be Python
    return mutated


def sample(mutants, limit, seed=SEED):
    if limit is None or len(mutants) <= limit:
        return list(mutants)
    picked = sorted(random.Random(seed).sample(range(len(mutants)), limit))
    return [mutants[i] for i in picked]


def tests_for(path, root=REPO):
    """Test files for a source file: its mirror directory under tests/unit plus the files importing it."""
    rel = os.path.relpath(os.path.abspath(path), root)
    stem = os.path.splitext(os.path.basename(rel))[0]
    mirror = os.path.join(root, "tests", "unit", os.path.dirname(rel))
    files = set(glob.glob(os.path.join(mirror, "**", "test_*.py"), recursive=True))
    dotted = os.path.splitext(rel)[0].replace(os.sep, ".")
    package, module = dotted.rsplit(".", 1)
    pattern = re.compile(r"%s\b|%s\s+import\s+(\([^)]*|[^\n]*)\b%s\b"
                         % (re.escape(dotted), re.escape(package), re.escape(module)))
    for test in glob.glob(os.path.join(root, "tests", "unit", "**", "test_*.py"), recursive=True):
        with open(test, encoding="utf-8") as handle:
            if pattern.search(handle.read()):
                files.add(test)
    first = "test_%s.py" % stem
    return sorted(files, key=lambda f: (os.path.basename(f) != first, os.path.dirname(f) != mirror, f))


def run_tests(tests, timeout, cwd=REPO):
    """'killed', 'survived' or 'timeout' for the tests against whatever is on disk now."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header"] + list(tests)
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "timeout"
    return "survived" if proc.returncode == 0 else "killed"


class _Restore:
    """Writes mutants over ``path`` and always puts the original bytes and times back."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as handle:
            self.original = handle.read()
        self.stat = os.stat(path)
        self.counter = 0

    def write(self, text):
        with open(self.path, "w", encoding="utf-8") as handle:
            handle.write(text)
        # A distinct mtime per mutant: a .pyc of another mutant of the same size never looks fresh.
        self.counter += 1
        stamp = int(self.stat.st_mtime) + 100000 + self.counter
        os.utime(self.path, (stamp, stamp))

    def restore(self):
        with open(self.path, "wb") as handle:
            handle.write(self.original)
        os.utime(self.path, ns=(self.stat.st_atime_ns, self.stat.st_mtime_ns))


def _terminate(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def run_file(path, mutants, tests, timeout, cwd=REPO, equivalent=None, log=None, known=None):
    """Run ``mutants`` of ``path``; fills each mutant's outcome. Returns the per-file summary.

    ``known``: {mutant key: outcome} already established (``--resume``); those are not run again."""
    equivalent = EQUIVALENT if equivalent is None else equivalent
    known = known or {}
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    guard = _Restore(path)
    try:
        for mutant in mutants:
            if mutant.key() in equivalent:
                mutant.outcome = "equivalent"
                continue
            if mutant.key() in known:
                mutant.outcome = known[mutant.key()]
                continue
            guard.write(apply(source, mutant))
            began = time.monotonic()
            mutant.outcome = run_tests(tests, timeout, cwd=cwd)
            mutant.seconds = round(time.monotonic() - began, 2)
            if log:
                log("  %-9s %s" % (mutant.outcome, mutant.describe()))
    finally:
        guard.restore()
    return summarize(mutants)


def summarize(mutants):
    counts = {k: sum(1 for m in mutants if m.outcome == k) for k in ("killed", "timeout", "survived", "equivalent")}
    scored = counts["killed"] + counts["timeout"] + counts["survived"]
    counts["run"] = scored
    counts["score_pct"] = round(100.0 * (counts["killed"] + counts["timeout"]) / scored, 1) if scored else None
    return counts


def _git_clean(paths):
    rel = [os.path.relpath(p, REPO) for p in paths]
    proc = subprocess.run(["git", "diff", "--quiet", "--"] + rel, cwd=REPO, check=False)
    return proc.returncode == 0


def _resume(previous, rel, source, chosen):
    """Outcomes carried over from a previous result: every sampled mutant that did not survive there.

    Valid only for the same source and the same sample (checked by the file's hash, the number of
    mutants and the sample size); tests only added since can kill more mutants, never fewer."""
    entry = (previous or {}).get("files", {}).get(rel)
    if not entry or "run" not in entry:
        return {}
    same = (entry.get("sha256") in (None, _sha(source)) and entry.get("mutants_total") == len(mutants_for(source, rel))
            and entry.get("sampled") == len(chosen))
    if not same:
        print("%s: changed since the previous result; every sampled mutant runs" % rel)
        return {}
    survived = set((m["file"], m["function"], m["operator"], m["original"], m["mutated"]) for m in entry["survivors"])
    return dict((m.key(), "killed") for m in chosen if m.key() not in survived)


def _sha(source):
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def select_files(patterns, root=REPO):
    out = []
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            if path not in out and not fnmatch.fnmatch(os.path.basename(path), "test_*"):
                out.append(path)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--files", action="append", help="glob relative to the repository (repeatable); "
                        "default: the verdict files %s" % DEFAULT_FILES)
    parser.add_argument("--max-mutants-per-file", type=int, default=None)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per mutant; default 5 x the unmutated run, at least 20")
    parser.add_argument("--tests", nargs="+", help="test paths to run instead of the discovered ones")
    parser.add_argument("--json", help="write the result here")
    parser.add_argument("--list", action="store_true", help="only count the mutants per file")
    parser.add_argument("--resume", help="a previous --json result (same seed and sampling): run again only the mutants "
                        "that survived there, keep the others' outcome")
    args = parser.parse_args(argv)

    files = select_files(args.files or DEFAULT_FILES)
    if not files:
        parser.error("no file matches %s" % (args.files or DEFAULT_FILES))
    started = time.monotonic()
    result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "command": " ".join(["tests/bench/mutation.py"] + list(sys.argv[1:] if argv is None else argv)),
              "seed": args.seed, "max_mutants_per_file": args.max_mutants_per_file, "files": {}}
    every = []
    previous = None
    if args.resume:
        with open(args.resume, encoding="utf-8") as handle:
            previous = json.load(handle)
        result["resumed_from"] = {"path": args.resume, "date": previous.get("date"), "command": previous.get("command")}
    signal.signal(signal.SIGTERM, _terminate)
    try:
        for path in files:
            rel = os.path.relpath(path, REPO)
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
            allm = mutants_for(source, rel)
            chosen = sample(allm, args.max_mutants_per_file, args.seed)
            tests = args.tests or tests_for(path)
            entry = {"mutants_total": len(allm), "sampled": len(chosen), "sha256": _sha(source),
                     "tests": [os.path.relpath(t, REPO) for t in tests]}
            result["files"][rel] = entry
            if args.list:
                print("%-55s %4d mutants, %d tests files" % (rel, len(allm), len(tests)))
                continue
            if not tests:
                print("%s: no tests found; skipped" % rel)
                entry["error"] = "no tests"
                continue
            began = time.monotonic()
            if previous is not None and rel not in previous.get("files", {}):
                print("%s: not in the previous result; every sampled mutant runs" % rel)
            baseline = run_tests(tests, None)
            base_s = time.monotonic() - began
            if baseline != "survived":
                print("%s: the tests fail without any mutant; skipped" % rel)
                entry["error"] = "tests fail unmutated"
                continue
            timeout = args.timeout or max(20.0, 5 * base_s)
            print("%s: %d of %d mutants, tests %.1f s unmutated" % (rel, len(chosen), len(allm), base_s), flush=True)
            known = _resume(previous, rel, source, chosen)
            entry["carried_over"] = len(known)
            entry.update(run_file(path, chosen, tests, timeout, log=lambda line: print(line, flush=True), known=known))
            entry["survivors"] = [m.as_dict() for m in chosen if m.outcome == "survived"]
            entry["equivalent_excluded"] = [dict(m.as_dict(), reason=EQUIVALENT[m.key()])
                                            for m in chosen if m.outcome == "equivalent"]
            every.extend(chosen)
    finally:
        clean = _git_clean(files)
    if not args.list:
        result["total"] = summarize(every)
        result["seconds"] = round(time.monotonic() - started, 1)
        result["files_restored"] = clean
        print("\n%-55s %6s %6s %6s %6s %6s" % ("file", "run", "killed", "surv", "equiv", "score"))
        rows = [(rel, entry) for rel, entry in result["files"].items() if "run" in entry] + [("TOTAL", result["total"])]
        for rel, entry in rows:
            print("%-55s %6d %6d %6d %6d %5s%%" % (
                rel, entry["run"], entry["killed"] + entry["timeout"], entry["survived"], entry["equivalent"],
                entry["score_pct"]))
        survivors = [m for m in every if m.outcome == "survived"]
        if survivors:
            print("\nsurviving mutants:")
            for mutant in survivors:
                print("  " + mutant.describe())
        print("\nfiles restored (git diff clean): %s; %.0f s" % (clean, result["seconds"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
