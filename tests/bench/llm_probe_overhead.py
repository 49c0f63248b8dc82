"""Measure llm_probe's accuracy and cost against the replay server, as ratios measured in one run.

Run: .venv/bin/python tests/bench/llm_probe_overhead.py [repeats]

The replay server (tests/testlib/llm_replay_server.py) records, for every stream, when it really
handed the first and the last token to the socket and the token rate it really wrote. Each run
compares the probe's figures with those recorded times of the same requests (not with the nominal
schedule, which a loaded machine does not keep):

  TTFT ratio    probe's median TTFT / server's median TTFT      target: 1.000 to 1.017 (5 ms at 300 ms)
  rate ratio    probe's median tokens/s / server's median tokens/s   target: 0.98 to 1.02

and prints the probe's CPU time per streamed token. Exits 1 when a ratio misses its target.
Figures go to docs/performance.md.
"""

import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", ".collections"))

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.benchmark.collect import probe  # noqa: E402
from testlib.llm_servers import http_json, start_replay  # noqa: E402

TARGETS = {"ttft": (1.0, 1.0 + 0.005 / 0.3), "rate": (0.98, 1.02)}


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    missed = []
    for api in ("openai", "ollama"):
        server = start_replay(first_delay_s=0.3, interval_s=0.02, tokens=100)
        try:
            opts = dict(endpoint=server.url, api=api, model="replay:1b", prompts=[dict(name="p", prompt="x", max_tokens=100)],
                        repeats=repeats, warmup=1, timeout_s=30, concurrency=1, headers={}, validate_certs=True)
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            wall0 = time.monotonic()
            result = probe(opts)
            wall = time.monotonic() - wall0
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            sent = http_json(server.url + "/_stats")["sent"][-repeats:]  # the measured requests (after the warm-up)
        finally:
            server.stop()
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        entry = result["results"][0]
        server_ttft = statistics.median(s["ttft_s"] for s in sent)
        server_rate = statistics.median(s["tokens_per_s"] for s in sent)
        ratios = {"ttft": entry["ttft_s"]["median"] / server_ttft, "rate": entry["decode_tokens_per_s"]["median"] / server_rate}
        tokens = (repeats + 1) * 100
        print("%s: TTFT probe %.4f s / server %.4f s = %.4f (+%.1f ms); tokens/s probe %.2f / server %.2f = %.4f; "
              "nominal TTFT 0.300 s (server +%.1f ms late), 50 tokens/s; probe CPU %.0f us/token, %.1f %% of wall; "
              "load %s" % (api, entry["ttft_s"]["median"], server_ttft, ratios["ttft"],
                           (entry["ttft_s"]["median"] - server_ttft) * 1000, entry["decode_tokens_per_s"]["median"],
                           server_rate, ratios["rate"], (server_ttft - 0.3) * 1000, cpu / tokens * 1e6, cpu / wall * 100,
                           "%.1f %.1f %.1f" % os.getloadavg()))
        for name, (low, high) in TARGETS.items():
            if not low <= ratios[name] <= high:
                missed.append("%s %s ratio %.4f outside %.3f-%.3f" % (api, name, ratios[name], low, high))
    if missed:
        print("MISSED: " + "; ".join(missed))
        return 1
    print("all ratios within their targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
