"""What scoring a call before its span ends saves over scoring it after, on a child span.

    .venv/bin/python benchmarks/scoring_path.py                    # chat, 200 pairs of blocks
    .venv/bin/python benchmarks/scoring_path.py --scenario stream64 --pairs 100

The configurator hands the quality processor to the instrumentor as its ending hook: a call is
scored while its span is still open, and the scores and their ``gen_ai.evaluation.result``
events ride on that span. Without the hook (a processor wired by hand) the call is scored in
``on_end`` and the scores travel on an ``evaluate {model}`` child span. This script runs ours
with everything on (the setup and servers of ``overhead.py``) in one process, and times pairs
of blocks of calls, one with the hook and one without, in alternating order. CPU is the whole
process's (``time.process_time``) and each block ends with a flush of spans and logs, so the
export of the extra span is paid for where it is caused.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
from collections.abc import Callable, Sequence

import overhead


def _scoring_switch() -> Callable[[bool], None]:
    """Turns the configured ending hook on or off (re-instrumenting: it is read then)."""
    from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor, hooks

    hook = hooks.default_ending_hook()
    if hook is None:
        raise RuntimeError("the configurator set no ending hook: is quality scoring on?")
    instrumentor = OllamaInstrumentor()  # the singleton _setup instrumented

    def switch(before_end: bool) -> None:
        instrumentor.uninstrument()
        hooks.set_default_ending_hook(hook if before_end else None)
        instrumentor.instrument()

    return switch


def _measure(scenario: str, pairs: int, calls_per_block: int, url: str) -> list[float]:
    from opentelemetry import trace

    flush, counter = overhead._setup("ours")
    evaluate_spans = overhead._span_counter("evaluate ")
    trace.get_tracer_provider().add_span_processor(evaluate_spans)  # type: ignore[attr-defined]
    switch = _scoring_switch()
    calls = overhead._Calls(url)
    for before_end in (True, False):
        switch(before_end)
        overhead._block(calls, scenario, 100, flush, counter)
    gc.collect()
    gc.freeze()
    saved = []
    for pair in range(pairs):
        cpu = {}
        for before_end in (True, False) if pair % 2 else (False, True):
            switch(before_end)
            evaluated = evaluate_spans.count
            block = overhead._block(calls, scenario, calls_per_block, flush, counter)
            # Proof of the path: a child span per call without the hook, none with it.
            children = evaluate_spans.count - evaluated
            expected = 0 if before_end else round(block["spans_per_call"] * calls_per_block)
            if children != expected:
                raise RuntimeError(f"{children} evaluate spans, {expected} expected")
            cpu[before_end] = block["cpu_us"]
        saved.append(cpu[True] - cpu[False])
    return saved


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", default="chat", choices=overhead.SCENARIOS, help="[chat]")
    parser.add_argument("--pairs", type=int, default=200, help="pairs of blocks [200]")
    parser.add_argument("--calls", type=int, default=40, help="calls per block [40]")
    args = parser.parse_args(argv)
    with overhead.in_this_process("ours") as url:
        saved = _measure(args.scenario, args.pairs, args.calls, url)
    quartiles = statistics.quantiles(saved, n=4)
    print(
        f"{args.scenario}: scored before its span ends minus scored in on_end with the child "
        f"span: {statistics.median(saved):+.0f} µs CPU per call (quartiles {quartiles[0]:+.0f}, "
        f"{quartiles[2]:+.0f}; {len(saved)} pairs of {args.calls}-call blocks, whole process)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
