"""The benchmark area's verdicts whole (status, value, threshold, message), from hand-built entries."""

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import checks

URL = "http://127.0.0.1:11434"


def msg(kind, error):
    return checks.fault_message(kind, error, URL, "gemma3:4b", "ollama")


def test_fault_messages_per_kind():
    assert msg("http", "HTTP 503: Service Unavailable").startswith(
        "runner error at %s: HTTP 503: Service Unavailable: check the runner's logs" % URL)
    assert msg("http", "HTTP 401: Unauthorized") == (
        "request refused by %s: HTTP 401: Unauthorized: check api, model and headers (API key)" % URL)
    # a 4xx body that mentions a 5xx code is still a refusal, not a runner error
    assert msg("http", "HTTP 400: upstream said HTTP 500").startswith("request refused by")
    assert msg("malformed", "not JSON: b'<html>'") == (
        "unreadable stream from %s: not JSON: b'<html>': check api (ollama or openai) and any proxy in between" % URL)
    assert msg("http", "HTTP 404: model 'gemma3:4b' not found").startswith("model gemma3:4b not found at %s" % URL)
    assert "ollama pull gemma3:4b" in msg("http", "HTTP 404: not found")


def _entry(**kw):
    entry = {"prompt": "answer", "model": "gemma3:4b", "ttft_s": {"median": 0.4}, "expect_passed": None,
             "expect_pass_rate": None, "answer": None}
    entry.update(kw)
    return entry


def _records(ok, failed=0):
    return [{"ok": True}] * ok + [{"ok": False, "error_kind": "refused", "error": "Connection refused"}] * failed


def _limits():
    return {"ttft_warn_s": 5.0, "ttft_crit_s": 10.0}


def test_failed_requests_are_crit_with_count_and_threshold_zero():
    found = checks.prompt_checks({}, _entry(), _records(2, 1), _limits(), URL, "ollama")
    request = [c for c in found if c["check"] == "llm_request"][0]
    assert (request["status"], request["value"], request["threshold"]) == ("crit", 1, 0)
    assert request["message"].startswith("prompt answer: 1 of 3 request(s) failed: runner down at %s" % URL)
    assert [c["check"] for c in found] == ["llm_request", "llm_ttft"]


def test_expect_pass_and_fail_name_the_rate_the_full_threshold_and_80_characters():
    ok = checks.prompt_checks({"expect": "Paris"}, _entry(expect_passed=True, expect_pass_rate=1.0), _records(2),
                              _limits(), URL, "ollama")
    [expect] = [c for c in ok if c["check"] == "llm_expect"]
    assert (expect["status"], expect["value"], expect["threshold"]) == ("ok", 1.0, 1.0)
    answer = "x" * 79 + "YZ"   # 81 characters: the message keeps the first 80
    bad = checks.prompt_checks({"expect": "Paris"}, _entry(expect_passed=False, expect_pass_rate=0.5, answer=answer),
                               _records(2), _limits(), URL, "ollama")
    [expect] = [c for c in bad if c["check"] == "llm_expect"]
    assert (expect["status"], expect["value"], expect["threshold"]) == ("crit", 0.5, 1.0)
    assert "(got %r)" % (answer[:80],) in expect["message"] and "YZ" not in expect["message"]
    none = checks.prompt_checks({"expect": "Paris"}, _entry(expect_passed=False, expect_pass_rate=0.0, answer=None),
                                _records(2), _limits(), URL, "ollama")
    assert "(got '')" in [c for c in none if c["check"] == "llm_expect"][0]["message"]


def test_no_expect_no_expect_check_even_when_the_entry_says_failed():
    found = checks.prompt_checks({}, _entry(expect_passed=False, expect_pass_rate=0.0), _records(2), _limits(), URL, "ollama")
    assert "llm_expect" not in [c["check"] for c in found]
