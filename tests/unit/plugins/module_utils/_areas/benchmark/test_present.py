"""The benchmark summary section and the candidate table (benchmark_table filter)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.maintenance.plugins.filter.benchmark import benchmark_table
from ansible_collections.gpufleet.maintenance.plugins.plugin_utils._summary import summary_lines


def stat(v):
    return dict(median=v, p95=v, min=v, max=v)


PROBE = dict(api="ollama", model="gemma3:1b", runner="ollama", runner_version="0.12.6", endpoint="http://h:11434",
             measured=True, vram_bytes=1802502144, status="ok",
             results=[dict(prompt="classify", ok=True, ttft_s=stat(0.052), decode_tokens_per_s=stat(70.14), expect_passed=True),
                      dict(prompt="dates", ok=True, ttft_s=stat(0.06), decode_tokens_per_s=stat(68.0), expect_passed=False),
                      dict(prompt="down", ok=False, error_kind="cut")])


def test_section_in_the_summary():
    fact = dict(mode="suite", probe=PROBE, baseline=dict(action="kept"), status="crit",
                checks=[dict(check="benchmark_regression", status="crit", message="prompt dates regressed")])
    lines = summary_lines(dict(gpufleet_benchmark=fact))
    assert lines == [
        "status: CRIT",
        "llm ollama gemma3:1b (ollama 0.12.6) on http://h:11434: suite mode",
        "llm prompt classify: first token 0.052 s, 70.1 tokens/s, expect ok",
        "llm prompt dates: first token 0.060 s, 68.0 tokens/s, expect FAILED",
        "llm prompt down: failed (cut)",
        "llm baseline: kept",
        "CRIT benchmark_regression: prompt dates regressed",
    ]


def test_section_skipped_and_compare():
    skipped = dict(PROBE, measured=False, results=[], skipped_reason="GPU busy 97 %")
    lines = summary_lines(dict(gpufleet_benchmark=dict(mode="health", probe=skipped)))
    assert "llm probe skipped: GPU busy 97 %" in lines
    fact = dict(mode="compare", endpoint="http://h:11434", candidates=benchmark_table([PROBE]), checks=[], status="ok")
    lines = summary_lines(dict(gpufleet_benchmark=fact))
    assert lines[1] == "llm candidates on http://h:11434:"
    assert lines[3].split() == ["gemma3:1b", "0.056", "69.1", "50%", "1719", "ok", "(failed)"]


@pytest.mark.parametrize("probes, expected", [
    ([PROBE], [dict(model="gemma3:1b", runner="ollama", runner_version="0.12.6", model_digest=None, ok=False,
                    ttft_s=0.056, decode_tokens_per_s=69.07, expect_pass_rate=0.5, vram_bytes=1802502144, status="ok")]),
    ([], []),
    (None, []),
    ([dict(model="m", results=[])], [dict(model="m", runner=None, runner_version=None, model_digest=None, ok=False, ttft_s=None,
                                          decode_tokens_per_s=None, expect_pass_rate=None, vram_bytes=None, status=None)]),
])
def test_benchmark_table_rows(probes, expected):
    assert benchmark_table(probes) == expected


def test_benchmark_table_lines_and_errors():
    lines = benchmark_table([PROBE], lines=True)
    assert lines[1].split() == ["gemma3:1b", "0.056", "69.1", "50%", "1719", "ok", "(failed)"]
    with pytest.raises(AnsibleFilterError, match="expects a list"):
        benchmark_table("x")
    with pytest.raises(AnsibleFilterError, match="llm_probe results"):
        benchmark_table([1])


def test_benchmark_fact_combines_checks():
    from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark import build_fact as benchmark_fact

    probe = dict(PROBE, checks=[dict(check="llm_ttft", status="ok")], invocation={"module_args": {}}, changed=False)
    baseline = dict(action="kept", checks=[dict(check="benchmark_regression", status="warn")], invocation={})
    fact = benchmark_fact("suite", probe, baseline)
    assert fact["status"] == "warn" and [c["check"] for c in fact["checks"]] == ["llm_ttft", "benchmark_regression"]
    assert "invocation" not in fact["probe"] and "invocation" not in fact["baseline"]
    fact = benchmark_fact("compare", candidates=[dict(PROBE, checks=[dict(check="llm_request", status="crit")])])
    assert fact["status"] == "crit" and fact["checks"][0]["model"] == "gemma3:1b"
    assert fact["candidates"][0]["model"] == "gemma3:1b" and fact["endpoint"] == "http://h:11434"
    assert benchmark_fact("health", dict(PROBE))["status"] == "ok"
