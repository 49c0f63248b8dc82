"""Measure llm_probe's own error and cost against the replay server (known delays).

Run: .venv/bin/python tests/bench/llm_probe_overhead.py [repeats]
Prints the median TTFT error (measured minus the server's 300 ms), the tokens/s error against the
server's 50 tokens/s, and the probe's CPU time per streamed token. Figures go to docs/performance.md.
"""

import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", ".collections"))

from ansible_collections.gpufleet.maintenance.plugins.module_utils._llm_client import probe  # noqa: E402
from testlib.llm_servers import start_replay  # noqa: E402


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    server = start_replay(first_delay_s=0.3, interval_s=0.02, tokens=100)
    try:
        for api in ("openai", "ollama"):
            opts = dict(endpoint=server.url, api=api, model="replay:1b", prompts=[dict(name="p", prompt="x", max_tokens=100)],
                        repeats=repeats, warmup=1, timeout_s=30, concurrency=1, headers={}, validate_certs=True)
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            wall0 = time.monotonic()
            result = probe(opts)
            wall = time.monotonic() - wall0
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
            entry = result["results"][0]
            tokens = (repeats + 1) * 100
            print("%s: TTFT median %.4f s (error %+.1f ms, min %.4f, p95 %.4f); decode %.2f tokens/s (error %+.2f %%); "
                  "probe CPU %.0f us/token, %.1f %% of wall; load %s" % (
                      api, entry["ttft_s"]["median"], (entry["ttft_s"]["median"] - 0.3) * 1000, entry["ttft_s"]["min"],
                      entry["ttft_s"]["p95"], entry["decode_tokens_per_s"]["median"],
                      (entry["decode_tokens_per_s"]["median"] - 50) / 50 * 100, cpu / tokens * 1e6, cpu / wall * 100,
                      "%.1f %.1f %.1f" % os.getloadavg()))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
