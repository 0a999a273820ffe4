"""A span processor that raises when our span ends must not reach the app."""

from __future__ import annotations

import ollama
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from tests.instrumentation.harness import Instrument

MESSAGES = [{"role": "user", "content": "hi"}]


class _Exploding(SpanProcessor):
    def on_end(self, span: ReadableSpan) -> None:
        raise RuntimeError("processor bug")


def test_failing_span_processor_is_counted_not_raised_into_the_stream(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)
    telemetry.tracer_provider.add_span_processor(_Exploding())

    chunks = list(
        ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES, stream=True)
    )

    assert chunks[-1].done is True
    errors = telemetry.points("taskmaster_instrumentation_errors")
    moved = [(dict(p.attributes), p.value) for p in errors if p.value]
    assert moved == [({"component": "span_end"}, 1)]
