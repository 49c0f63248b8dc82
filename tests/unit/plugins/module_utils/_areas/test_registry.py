"""The area registry: every area complete, and every rule of "adding a check" enforced.

docs/architecture.md walks through adding a check; each file the walk-through names is checked
here, so forgetting one fails a test that names it:

- the check is a row of its area's table (``_areas/<area>/checks.py``) — ``Area.gather`` refuses a
  result whose check is not in the table (see tests/unit/plugins/module_utils/_common/test_area.py);
- every reading it judges (``Check.reads``) is declared in the area's ``readings`` (the history
  records only declared readings) — :func:`test_every_reading_a_check_judges_is_recorded`;
- docs/checks.md has a row for it — :func:`test_every_check_has_a_row_in_docs_checks`;
- the module that sets the fact documents it — :func:`test_every_check_is_in_its_modules_documentation`;
- its area's tests exercise it — :func:`test_every_check_is_exercised_by_its_areas_tests`.
"""

import os
import re

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
TESTS = os.path.dirname(__file__)
SPLIT = [area for area in registry.areas() if len(area.checks)]
ROWS = [(area, check) for area in SPLIT for check in area.checks]
IDS = ["%s.%s" % (area.name, check.name) for area, check in ROWS]


def _read(*parts):
    with open(os.path.join(*parts)) as handle:
        return handle.read()


def test_the_tables_say_what_the_areas_are():
    # NAMES and GATHERED are written out so that a module run imports only the areas it gathers;
    # each name must load the area of that name, and GATHERED must be exactly those with a collector.
    loaded = [registry.area(name) for name in registry.NAMES]
    assert [area.name for area in loaded] == list(registry.NAMES)
    assert [area.name for area in loaded if area.collect is not None] == list(registry.GATHERED)
    package = os.path.join(ROOT, "plugins", "module_utils", "_areas")
    on_disk = sorted(name for name in os.listdir(package) if os.path.isfile(os.path.join(package, name, "__init__.py")))
    assert sorted(registry.NAMES) == on_disk


def test_an_area_is_imported_only_when_asked_for():
    import subprocess
    import sys
    code = ("import sys; from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry; "
            "registry.area('host'); prefix = registry.__name__.rsplit('.', 1)[0] + '.'; "
            "print(sorted(set(m[len(prefix):].split('.')[0] for m in sys.modules if m.startswith(prefix))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout
    assert out.strip() == "['host', 'registry']"
    assert "docker" not in out


def test_the_controller_maps_names_to_facts_and_facts_to_areas_importing_only_those_present():
    # The report, the summary and the area_facts filter run on the controller, in a worker per host for
    # some: they import the areas of the facts they are given, not all nineteen (docs/fleet.md, Scale).
    import subprocess
    import sys
    code = ("import sys; from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas import registry; "
            "facts = [registry.fact_of(n) for n in ('host', 'llm', 'wsl')]; "
            "present = [a.name for a in registry.present_in({'gpufleet_gpu': {}, 'gpufleet_host': None, "
            "'gpufleet_trends': {}, 'gpufleet_wsl': 'not a dict'})]; "
            "prefix = registry.__name__.rsplit('.', 1)[0] + '.'; "
            "print(facts, present, sorted(set(m[len(prefix):].split('.')[0] for m in sys.modules if m.startswith(prefix))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout
    assert out.strip() == "['gpufleet_host', 'gpufleet_benchmark', 'gpufleet_wsl'] ['gpu'] ['gpu', 'registry']"
    with pytest.raises(KeyError, match="unknown area 'nope'.*known: access"):
        registry.fact_of("nope")
    assert [registry.fact_of(name) for name in registry.NAMES] == [registry.area(name).fact for name in registry.NAMES]


def test_unknown_names():
    with pytest.raises(KeyError, match="unknown area 'nope'.*known: access"):
        registry.area("nope")
    assert registry.known("nope") is None and registry.known("llm") is None
    assert registry.area("llm") is registry.area("benchmark") and registry.known("gpu").fact == "gpufleet_gpu"
    assert registry.of_fact("gpufleet_gpu").name == "gpu" and registry.of_fact("gpufleet_trends") is None
    assert registry.of_fact("host") is None and registry.of_fact(None) is None


def test_names_and_facts_are_unique_and_namespaced():
    names = [area.name for area in registry.areas()]
    facts = [area.fact for area in registry.areas()]
    assert len(set(names)) == len(names) and len(set(facts)) == len(facts)
    assert all(fact == "gpufleet_" + name for name, fact in zip(names, facts))


@pytest.mark.parametrize("area", registry.areas(), ids=[a.name for a in registry.areas()])
def test_every_area_has_a_title_a_summary_section_and_a_module_that_exists(area):
    assert area.title and area.present is not None
    assert area.module and os.path.exists(os.path.join(ROOT, "plugins", "modules", area.module + ".py")), area.module


def test_the_gathered_areas_are_health_facts_choices():
    source = _read(ROOT, "plugins", "doc_fragments", "health_areas.py")
    choices = re.search(r"choices: \[([^\]]*)\]", source).group(1)
    assert sorted(c.strip() for c in choices.split(",")) == sorted(registry.GATHERED)


@pytest.mark.parametrize("area", SPLIT, ids=[a.name for a in SPLIT])
def test_an_area_with_a_checks_table_has_a_summary(area):
    # (Its readings: the history records only declared ones; test_every_reading_a_check_judges_is_recorded.)
    assert area.summary, "%s: a one-line summary for the docs" % area.name


@pytest.mark.parametrize("area, check", ROWS, ids=IDS)
def test_every_reading_a_check_judges_is_recorded(area, check):
    declared = set(reading.path for reading in area.readings)
    missing = [path for path in check.reads if path not in declared]
    assert not missing, "%s.%s judges %s, which %s does not record: add a Reading" % (area.name, check.name, missing, area.name)


@pytest.mark.parametrize("area, check", ROWS, ids=IDS)
def test_every_check_has_a_summary_and_a_fix(area, check):
    assert check.summary.endswith("."), "%s.%s: a one-sentence summary" % (area.name, check.name)
    assert check.fix, "%s.%s: the fix an operator reads in the message" % (area.name, check.name)


@pytest.mark.parametrize("area, check", ROWS, ids=IDS)
def test_every_check_has_a_row_in_docs_checks(area, check):
    rows = [line for line in _read(ROOT, "docs", "checks.md").splitlines() if line.startswith("| `%s`" % check.name)]
    assert any("`%s`" % area.fact in row for row in rows), "docs/checks.md: no row for %s in %s" % (check.name, area.fact)


@pytest.mark.parametrize("area, check", ROWS, ids=IDS)
def test_every_check_is_in_its_modules_documentation(area, check):
    source = _read(ROOT, "plugins", "modules", area.module + ".py")
    assert "C(%s)" % check.name in source, "%s.py: name the check C(%s) in its documentation" % (area.module, check.name)


@pytest.mark.parametrize("area, check", ROWS, ids=IDS)
def test_every_check_is_exercised_by_its_areas_tests(area, check):
    folder = os.path.join(TESTS, area.name)
    sources = "".join(_read(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".py"))
    assert '"%s"' % check.name in sources, "tests/unit/plugins/module_utils/_areas/%s/: no test names %s" % (area.name, check.name)


@pytest.mark.parametrize("area", SPLIT, ids=[a.name for a in SPLIT])
def test_the_threshold_defaults_are_written_once(area):
    # The module's thresholds come from the table: no module file restates a default.
    source = _read(ROOT, "plugins", "modules", area.module + ".py")
    assert "DEFAULT_THRESHOLDS" not in source
