"""Area tls: certificate expiry from get_certificate loop results (dates hand-counted)."""

import datetime

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.tls import AREA, build

NOW = datetime.datetime(2026, 11, 26, tzinfo=datetime.timezone.utc)


def test_tls_fact_levels_and_unreachable():
    results = [
        {"item": {"name": "caddy", "host": "a", "port": 443}, "not_after": "20270101000000Z", "subject": {"commonName": "a"}},
        {"item": {"host": "b", "port": 8443}, "not_after": "20261210000000Z", "subject": {}},
        {"item": {"host": "c"}, "not_after": "20261128000000Z"},
        {"item": {"host": "d", "port": 443}, "failed": True, "msg": "Unable to connect"},
        {"item": {"host": "e", "port": 443}, "not_after": "garbage"},
    ]
    fact = build(AREA.validate({"results": results, "warn_days": 21, "crit_days": 7}), NOW)
    statuses = [(ch["check"], ch["subject"]["endpoint"], ch["status"]) for ch in fact["checks"]]
    assert statuses == [("tls_days_left", "caddy", "ok"), ("tls_days_left", "b:8443", "warn"),
                        ("tls_days_left", "c:443", "crit"), ("tls_expiry", "d:443", "crit"), ("tls_expiry", "e:443", "warn")]
    # 2027-01-01 is 36 days after 2026-11-26; 2026-12-10 is 14 (warn at 21), 2026-11-28 is 2 (crit at 7).
    assert [e["days_left"] for e in fact["endpoints"]] == [36.0, 14.0, 2.0, None, None]
    assert fact["endpoints"][0]["days_left"] == 36.0 and fact["endpoints"][0]["subject"] == "a"
    assert fact["status"] == "crit"
    assert "Unable to connect" in fact["checks"][3]["message"]
    assert build(AREA.validate({"results": []}), NOW)["status"] == "ok"


def test_the_thresholds_are_top_level_options_with_the_tables_defaults():
    params = AREA.validate({"results": []})
    assert (params["warn_days"], params["crit_days"]) == (21, 7)
    assert sorted(AREA.argument_spec()) == ["crit_days", "now", "results", "warn_days"]


def test_now_sets_the_day_the_days_left_count_from():
    """A replayed timeline passes its simulated time: 2026-12-10 is 24 days after 2026-11-16 (1794787200)."""
    results = [{"item": {"name": "front", "host": "a", "port": 443}, "not_after": "20261210000000Z"}]
    fact = build(AREA.validate({"results": results, "now": 1794787200}))
    assert fact["endpoints"][0]["days_left"] == 24.0 and fact["status"] == "ok"
    fact = build(AREA.validate({"results": results, "now": 1794787200 + 10 * 86400}))
    assert fact["endpoints"][0]["days_left"] == 14.0 and fact["status"] == "warn"
