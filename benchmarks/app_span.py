"""What an instrumented call costs more when the app calls Ollama inside its own span.

    .venv/bin/python benchmarks/app_span.py                  # ours, 1,500 pairs
    .venv/bin/python benchmarks/app_span.py --variant openllmetry
    .venv/bin/python benchmarks/app_span.py --exemplar-filter always_off   # the reference

In production the call usually runs inside the app's HTTP server span. Everything recorded
in that context can take the app's span as an exemplar: a trace-based exemplar filter samples
every measurement made while a sampled span is current. This script runs, in one process with
the variant's telemetry on, pairs of the same non-streaming chat: one inside a sampled server
span, one beside it (the span is started and ended just before, so both pay for it). The
median difference, on the calling thread's CPU clock, is the cost of calling inside the span.

The servers and the variants' setup are those of ``overhead.py``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Sequence

import overhead


def _measure(variant: str, pairs: int, url: str) -> list[float]:
    from opentelemetry import trace

    flush, counter = overhead._setup(variant)
    server = trace.get_tracer("app")
    calls = overhead._Calls(url)

    def one(inside: bool) -> float:
        started = time.thread_time()
        with server.start_as_current_span("POST /ask", kind=trace.SpanKind.SERVER):
            if inside:
                calls.chat()
        if not inside:
            calls.chat()
        return (time.thread_time() - started) * 1e6

    for _ in range(50):
        one(True)
        one(False)
    gc.collect()
    gc.freeze()
    spans = counter.count
    added = []
    for pair in range(pairs):
        cpu = {inside: one(inside) for inside in ((True, False) if pair % 2 else (False, True))}
        added.append(cpu[True] - cpu[False])
        if pair % 200 == 199:
            flush()
    flush()
    if counter.count - spans != 2 * pairs:
        raise RuntimeError(f"{counter.count - spans} chat spans for {2 * pairs} calls")
    return added


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variant", default="ours", choices=[*overhead.OURS, "openllmetry"])
    parser.add_argument("--pairs", type=int, default=1500, help="[1500]")
    parser.add_argument(
        "--exemplar-filter",
        choices=["trace_based", "always_off", "always_on"],
        default="trace_based",
        help="OTEL_METRICS_EXEMPLAR_FILTER for the run [trace_based, the SDK's default]",
    )
    args = parser.parse_args(argv)
    exemplars = {"OTEL_METRICS_EXEMPLAR_FILTER": args.exemplar_filter}
    with overhead.in_this_process(args.variant, exemplars) as url:
        added = _measure(args.variant, args.pairs, url)
    quartiles = statistics.quantiles(added, n=4)
    print(
        f"{args.variant}, exemplar filter {args.exemplar_filter}: a chat inside the app's "
        f"server span costs {statistics.median(added):+.1f} µs CPU more than one beside it "
        f"(quartiles {quartiles[0]:+.1f}, {quartiles[2]:+.1f}; {len(added)} pairs, "
        "calling thread)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
