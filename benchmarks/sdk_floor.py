"""The SDK's price of our telemetry without our code: the ``floor`` variants of overhead.py.

A floor worker sets up the telemetry of an ours variant (``floor``: ours, ``floor-lean``:
ours-lean), makes each scenario's call once with the Ollama instrumentor on and records what
the call emitted: its span (attributes and events), its log records and its metric
measurements. Then it removes the instrumentor and, after each uninstrumented call, emits
exactly that again through the same SDK pipeline: the same exporters, processors, handlers
and instruments, with nothing of ours in between (no wrapping, parsing, features, scoring or
drift).

So in one run of overhead.py:

- floor minus none is what the OpenTelemetry SDK charges for the outputs alone;
- ours minus floor is our own code;
- if the floor alone adds more than OpenLLMetry, no instrumentation that emits these outputs
  on this SDK can add less than OpenLLMetry, however lean its own code.

The model probe is ours and runs on its own clock, so floor workers run without it.

    .venv/bin/python benchmarks/sdk_floor.py                 # is the replay faithful?
    .venv/bin/python benchmarks/sdk_floor.py --variant floor-lean
    .venv/bin/python benchmarks/overhead.py --scenarios chat,stream64,async8 \
        --variants none,ours,floor,ours-lean,floor-lean,openllmetry --ab-pairs 0
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.metrics._internal.measurement_consumer import (
    SynchronousMeasurementConsumer,
)
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from otel_taskmaster.logs.json_format import extra_fields


@dataclass
class _Measurement:
    instrument: Any  # the SDK instrument: a histogram (record) or a counter (add)
    value: float
    attributes: dict[str, Any] | None
    context: Any  # the context it was recorded with, unless it held the call's span
    in_call_span: bool


@dataclass
class Emitted:
    """What one instrumented call emitted."""

    span_name: str = ""
    span_kind: trace.SpanKind = trace.SpanKind.CLIENT
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    logs: list[tuple[str, int, str, dict[str, Any]]] = field(default_factory=list)
    measurements: list[_Measurement] = field(default_factory=list)


class _SpanKeeper(SpanProcessor):
    """Keeps the LLM call spans that end while it is on (the providers cannot drop a
    processor, so it stays added and idles)."""

    def __init__(self) -> None:
        self.on = False
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        if self.on and span.kind is trace.SpanKind.CLIENT:
            self.spans.append(span)


@contextmanager
def _kept(owner: type, method: str) -> Iterator[list[Any]]:
    """The first argument of every call of ``owner.method`` inside the block. A handler or a
    processor added to watch would change what is emitted (a logger with a handler more
    builds records that it skipped before)."""
    seen: list[Any] = []
    original = getattr(owner, method)

    def keep(self: Any, item: Any) -> Any:
        seen.append(item)
        return original(self, item)

    setattr(owner, method, keep)
    try:
        yield seen
    finally:
        setattr(owner, method, original)


def capture(call: Callable[[], None], spans: _SpanKeeper) -> Emitted:
    """Runs ``call`` (instrumented) and returns what it emitted."""
    spans.spans.clear()
    spans.on = True
    try:
        # Every synchronous measurement and every log record that reached its handlers.
        with (
            _kept(SynchronousMeasurementConsumer, "consume_measurement") as measured,
            _kept(logging.Logger, "callHandlers") as records,
        ):
            call()
    finally:
        spans.on = False
    if len(spans.spans) != 1:
        raise RuntimeError(f"expected one LLM call span, got {len(spans.spans)}")
    span = spans.spans[0]
    emitted = Emitted(
        span_name=span.name,
        span_kind=span.kind,
        attributes=dict(span.attributes or {}),
        events=[(event.name, dict(event.attributes or {})) for event in span.events],
    )
    for record in records:
        extra = extra_fields(record)  # the OTel logging fields come back from its factory
        emitted.logs.append((record.name, record.levelno, record.getMessage(), extra))
    call_span = span.get_span_context()
    for m in measured:
        in_span = trace.get_current_span(m.context).get_span_context() == call_span
        attributes = dict(m.attributes) if m.attributes is not None else None
        emitted.measurements.append(
            _Measurement(m.instrument, m.value, attributes, m.context, in_span)
        )
    return emitted


# The parts of a call's telemetry that a replay can leave out, to price each on its own.
PARTS = ("attributes", "events", "logs", "measurements")


def replay(emitted: Emitted, tracer: trace.Tracer, without: frozenset[str] = frozenset()) -> None:
    """Emits what one call emitted (but the ``without`` parts), the log records and
    measurements with the span current, as the instrumentor does."""
    span = tracer.start_span(emitted.span_name, kind=emitted.span_kind)
    if "attributes" not in without:
        span.set_attributes(emitted.attributes)
    if "events" not in without:
        for name, attributes in emitted.events:
            span.add_event(name, attributes)
    call = trace.set_span_in_context(span)
    if "measurements" not in without:
        for m in emitted.measurements:
            record = getattr(m.instrument, "record", None) or m.instrument.add
            record(m.value, m.attributes, context=call if m.in_call_span else m.context)
    if "logs" not in without:
        token = otel_context.attach(call)
        try:
            for logger_name, level, message, extra in emitted.logs:
                logging.getLogger(logger_name).log(level, message, extra=extra)
        finally:
            otel_context.detach(token)
    span.end()


class Replayer:
    """Captures each shape's call (twice: the first one initializes per-model state such as
    drift's alert counters), then removes the Ollama instrumentor; called with a shape, emits
    what that shape's call emitted."""

    def __init__(self, shapes: dict[str, Callable[[], None]]) -> None:
        from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor

        provider: Any = trace.get_tracer_provider()
        self.spans = _SpanKeeper()
        provider.add_span_processor(self.spans)
        self.emitted = {}
        for shape, call in shapes.items():
            call()
            self.emitted[shape] = capture(call, self.spans)
        OllamaInstrumentor().uninstrument()
        self._tracer = trace.get_tracer("sdk_floor")
        self.without: frozenset[str] = frozenset()  # parts of PARTS to leave out

    def __call__(self, shape: str) -> None:
        replay(self.emitted[shape], self._tracer, self.without)


def differences(original: Emitted, replayed: Emitted) -> list[str]:
    """What the replay emitted otherwise than the call did (nothing, when it is faithful)."""

    def measured(emitted: Emitted) -> list[tuple[str, float, Any, bool]]:
        return [
            (m.instrument.name, m.value, m.attributes, m.in_call_span) for m in emitted.measurements
        ]

    found = []
    for what, ours, again in (
        ("span name", original.span_name, replayed.span_name),
        ("span kind", original.span_kind, replayed.span_kind),
        ("span attributes", original.attributes, replayed.attributes),
        ("span events", original.events, replayed.events),
        ("log records", original.logs, replayed.logs),
        ("measurements", measured(original), measured(replayed)),
    ):
        if ours != again:
            found.append(f"{what}: {ours!r} != {again!r}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    # Run as a script this module is __main__; overhead imports it as sdk_floor. One copy.
    sys.modules.setdefault("sdk_floor", sys.modules[__name__])
    import overhead

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=sorted(overhead.FLOORS), default="floor")
    args = parser.parse_args(argv)
    with overhead.in_this_process(args.variant) as url:
        overhead._setup(args.variant)
        replayer = overhead._Calls.for_variant(args.variant, url).after_call
        assert isinstance(replayer, Replayer)
        print(f"What one call emitted and what its replay ({args.variant}) emitted again:\n")
        print("| shape | span attributes | span events | log records | measurements | same |")
        print("|---|---:|---:|---:|---:|---|")
        failed = []
        for shape, original in replayer.emitted.items():
            again = capture(functools.partial(replayer, shape), replayer.spans)
            found = differences(original, again)
            failed += [f"{shape}: {line}" for line in found]
            print(
                f"| {shape} | {len(original.attributes)} | {len(original.events)} | "
                f"{len(original.logs)} | {len(original.measurements)} | "
                f"{'no' if found else 'yes'} |"
            )
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
