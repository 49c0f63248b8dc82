"""The one clock: explicit now, then gpufleet_now, then GPUFLEET_NOW, then the controller's clock."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.plugin_utils import _clock


def real():
    return 42.0


def test_order_explicit_variable_environment_clock():
    env = {"GPUFLEET_NOW": "300"}
    assert _clock.now(100, "200", env, real) == 100.0
    assert _clock.now(None, "200", env, real) == 200.0
    assert _clock.now(None, None, env, real) == 300.0
    assert _clock.now(None, "", {"GPUFLEET_NOW": ""}, real) == 42.0
    assert _clock.now(None, None, {}, real) == 42.0


@pytest.mark.parametrize("variable,env,source", [("tomorrow", {}, "gpufleet_now"), (None, {"GPUFLEET_NOW": "x"}, "GPUFLEET_NOW"),
                                                 ("-5", {}, "gpufleet_now")])
def test_a_value_that_is_not_a_time_is_an_error_naming_its_source(variable, env, source):
    with pytest.raises(_clock.ClockError, match=source):
        _clock.now(None, variable, env, real)


class _Templar(object):
    def template(self, value):
        return {"{{ day0 + 86400 }}": "1764086400"}.get(value, value)


class _Action(object):
    _templar = _Templar()


def test_of_action_templates_the_variable(monkeypatch):
    monkeypatch.delenv("GPUFLEET_NOW", raising=False)
    assert _clock.of_action(_Action(), None, {"gpufleet_now": "{{ day0 + 86400 }}"}) == 1764086400.0
    assert _clock.of_action(_Action(), 5, {"gpufleet_now": "{{ day0 + 86400 }}"}) == 5.0
    monkeypatch.setenv("GPUFLEET_NOW", "1764000000")
    assert _clock.of_action(_Action(), None, {}) == 1764000000.0
