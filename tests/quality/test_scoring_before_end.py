"""Real calls scored while their span is still open (the instrumentor's ending hook): the
scores and their evaluation events land on the call span itself, once, with no child span."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ollama
import pytest
from opentelemetry.sdk.trace import ReadableSpan

from otel_taskmaster import semconv as sc
from otel_taskmaster.config import Settings
from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor
from otel_taskmaster.instrumentation.ollama.hooks import set_default_ending_hook
from otel_taskmaster.quality import QualitySpanProcessor
from otel_taskmaster.quality.scorer import DIMENSIONS, OVERALL
from tests.quality.telemetry_support import Telemetry
from tests.support.ollama_server import set_faults

NAMES = sorted((*DIMENSIONS, OVERALL))
MESSAGES = [{"role": "user", "content": "Plan the launch meeting"}]


@pytest.fixture
def instrumentor() -> Iterator[OllamaInstrumentor]:
    instrumentor = OllamaInstrumentor()
    yield instrumentor
    instrumentor.uninstrument()


def instrument(
    instrumentor: OllamaInstrumentor, telemetry: Telemetry, url: str, **kwargs: Any
) -> ollama.Client:
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        settings=Settings.from_env({"OLLAMA_HOST": url}),
        **kwargs,
    )
    return ollama.Client(host=url)


def call_spans(telemetry: Telemetry) -> list[ReadableSpan]:
    return [s for s in telemetry.spans.get_finished_spans() if s.name == "chat llama3.2"]


def metric_points(telemetry: Telemetry, name: str, label: str) -> dict[str, Any]:
    """The points of one metric, by the value of one of their labels."""
    data = telemetry.metrics.get_metrics_data()
    found: dict[str, Any] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        found[str(point.attributes[label])] = point  # type: ignore[index]
    return found


def histogram_counts(telemetry: Telemetry) -> dict[str, int]:
    points = metric_points(telemetry, sc.TASKMASTER_RESPONSE_QUALITY, "dimension")
    return {dimension: point.count for dimension, point in points.items()}


def instrumentation_errors(telemetry: Telemetry) -> dict[str, int]:
    points = metric_points(telemetry, sc.TASKMASTER_INSTRUMENTATION_ERRORS, "component")
    return {component: int(point.value) for component, point in points.items()}


@pytest.mark.parametrize("stream", [False, True])
def test_the_call_span_carries_its_scores_and_one_evaluation_event_per_score(
    telemetry: Telemetry, simulator: str, instrumentor: OllamaInstrumentor, stream: bool
) -> None:
    processor = telemetry.processor(evaluation_events="span")
    client = instrument(instrumentor, telemetry, simulator, ending_hook=processor.score_ending)

    for _ in range(3):
        if stream:
            parts = client.chat(model="llama3.2", messages=MESSAGES, stream=True)
            assert "".join(part.message.content or "" for part in parts)
        else:
            assert client.chat(model="llama3.2", messages=MESSAGES).message.content

    spans = call_spans(telemetry)
    assert len(spans) == 3
    for span in spans:
        attributes = span.attributes or {}
        for name in NAMES:
            assert 0.0 <= attributes[sc.QUALITY_SCORE_PREFIX + name] <= 1.0  # type: ignore[operator]
        assert attributes[sc.QUALITY_CHECK_PREFIX + "truncated"] is False
        events = [e for e in span.events if e.name == sc.GEN_AI_EVALUATION_RESULT_EVENT]
        assert sorted(str((e.attributes or {})[sc.GEN_AI_EVALUATION_NAME]) for e in events) == NAMES
    # Scored once: on_end left the scored spans alone (no child span, no second measurement).
    assert not [s for s in telemetry.spans.get_finished_spans() if s.name.startswith("evaluate")]
    assert histogram_counts(telemetry) == dict.fromkeys(NAMES, 3)
    assert len(telemetry.drift.observed) == 3 * 9
    assert {context.span_id for *_, context in telemetry.drift.observed if context} == {
        s.context.span_id for s in spans
    }


def test_log_mode_parents_the_events_to_the_open_call_span(
    telemetry: Telemetry, simulator: str, instrumentor: OllamaInstrumentor
) -> None:
    processor = telemetry.processor(evaluation_events="log")
    client = instrument(instrumentor, telemetry, simulator, ending_hook=processor.score_ending)

    client.chat(model="llama3.2", messages=MESSAGES)

    (span,) = call_spans(telemetry)
    assert not span.events
    assert sc.QUALITY_SCORE_PREFIX + OVERALL in (span.attributes or {})
    records = [r.log_record for r in telemetry.logs.get_finished_logs()]
    assert sorted(str((r.attributes or {})[sc.GEN_AI_EVALUATION_NAME]) for r in records) == NAMES
    assert {(r.trace_id, r.span_id) for r in records} == {
        (span.context.trace_id, span.context.span_id)
    }


def test_a_failed_call_is_not_scored(
    telemetry: Telemetry, simulator: str, instrumentor: OllamaInstrumentor
) -> None:
    processor = telemetry.processor()
    client = instrument(instrumentor, telemetry, simulator, ending_hook=processor.score_ending)
    set_faults(simulator, errors=1.0)

    with pytest.raises(ollama.ResponseError):
        client.chat(model="llama3.2", messages=MESSAGES)

    (span,) = call_spans(telemetry)
    assert not [k for k in span.attributes or {} if k.startswith(sc.QUALITY_SCORE_PREFIX)]
    assert not span.events and not telemetry.drift.observed and not histogram_counts(telemetry)


def test_a_hook_that_raises_changes_nothing_the_app_sees(
    telemetry: Telemetry, simulator: str, instrumentor: OllamaInstrumentor
) -> None:
    def broken(span: object, duration_s: float) -> None:
        raise RuntimeError("hook broke")

    uninstrumented = ollama.Client(host=simulator).chat(model="llama3.2", messages=MESSAGES)
    client = instrument(instrumentor, telemetry, simulator, ending_hook=broken)

    answer = client.chat(model="llama3.2", messages=MESSAGES)

    assert answer.message.content == uninstrumented.message.content
    assert answer.eval_count == uninstrumented.eval_count
    (span,) = call_spans(telemetry)  # ended exactly once, with its usage
    assert (span.attributes or {})[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == answer.eval_count
    assert instrumentation_errors(telemetry)["finish"] == 1


def test_the_default_hook_serves_the_global_providers_only(
    telemetry: Telemetry, simulator: str, instrumentor: OllamaInstrumentor
) -> None:
    # An instrumentor on its own tracer provider must not score its spans with a processor
    # set up for the global pipeline.
    seen: list[Any] = []
    set_default_ending_hook(lambda span, duration_s: seen.append(span))
    try:
        client = instrument(instrumentor, telemetry, simulator)
        client.chat(model="llama3.2", messages=MESSAGES)
        assert not seen
        instrumentor.uninstrument()
        client = instrument(
            instrumentor, telemetry, simulator, ending_hook=lambda s, d: seen.append(s)
        )
        client.chat(model="llama3.2", messages=MESSAGES)
        assert len(seen) == 1
    finally:
        set_default_ending_hook(None)


def test_the_hook_skips_a_span_that_is_not_an_sdk_span(telemetry: Telemetry) -> None:
    from opentelemetry.trace import INVALID_SPAN

    processor: QualitySpanProcessor = telemetry.processor()
    processor.score_ending(INVALID_SPAN, 0.1)

    assert not telemetry.drift.observed and not histogram_counts(telemetry)
