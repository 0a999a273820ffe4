"""QualitySpanProcessor on real SDK providers: metrics, evaluation events, child span, drift."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context
from prometheus_client import CollectorRegistry, generate_latest

from otel_taskmaster import semconv as sc
from otel_taskmaster.drift import Baseline, DriftMonitor
from otel_taskmaster.quality import QualityScorer, QualitySpanProcessor, ResponseFeatures
from tests.quality.telemetry_support import Telemetry

GOOD_ANSWER = "Steps:\n- boil water\n- steep the leaves for three minutes"
REFUSAL = "I'm sorry, but I can't help with that."
SECRET_WORDS = ("steep", "leaves", "sorry")
NAMES = ("length_score", "latency_score", "format_score", "coherence_score", "overall_quality")
GOOD_SCORES = dict.fromkeys(NAMES, 1.0)
# length 38 chars -> 0.7, 1.2 s -> 0.6, no structure -> 0.5, coherent -> 1.0; refusal -0.5
REFUSAL_SCORES = {
    "length_score": 0.7,
    "latency_score": 0.6,
    "format_score": 0.5,
    "coherence_score": 1.0,
    "overall_quality": (0.7 + 0.6 + 0.5 + 1.0) / 4 - 0.5,
}


def answer_span(
    telemetry: Telemetry,
    text: str,
    *,
    duration_s: float = 0.3,
    model: str = "llama3.2",
    operation: str = sc.OPERATION_CHAT,
    finish: str = "stop",
    error: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> ReadableSpan:
    """Ends a GenAI span with the attributes the instrumentor sets, under a server span."""
    tracer = telemetry.tracer_provider.get_tracer("test")
    features = ResponseFeatures()
    features.add(text)
    attributes: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: operation,
        sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_OLLAMA,
        sc.GEN_AI_REQUEST_MODEL: model,
        sc.GEN_AI_RESPONSE_FINISH_REASONS: (finish,),
        **features.attributes(finish),
        **(extra or {}),
    }
    with tracer.start_as_current_span("POST /ask", kind=SpanKind.SERVER) as server:
        start = 1_000_000_000_000
        span = tracer.start_span(
            f"{operation} {model}",
            context=set_span_in_context(server),
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=start,
        )
        if error:
            span.set_status(Status(StatusCode.ERROR, "boom"))
        span.end(end_time=start + round(duration_s * 1e9))
    span_id = span.get_span_context().span_id
    (scored,) = [s for s in telemetry.spans.get_finished_spans() if s.context.span_id == span_id]
    return scored


def points(telemetry: Telemetry, name: str) -> dict[tuple[tuple[str, str], ...], Any]:
    data = telemetry.metrics.get_metrics_data()
    found: dict[tuple[tuple[str, str], ...], Any] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        found[tuple(sorted(point.attributes.items()))] = point
    return found


def labels(dimension: str, model: str = "llama3.2") -> tuple[tuple[str, str], ...]:
    return (("dimension", dimension), ("model", model))


def evaluation_spans(telemetry: Telemetry) -> list[ReadableSpan]:
    return [s for s in telemetry.spans.get_finished_spans() if s.name.startswith("evaluate ")]


def all_strings(telemetry: Telemetry) -> Iterator[str]:
    for span in telemetry.spans.get_finished_spans():
        yield span.name
        for mapping in [span.attributes or {}, *(e.attributes or {} for e in span.events)]:
            yield from (str(v) for v in mapping.values())
    for record in telemetry.logs.get_finished_logs():
        yield str(record.log_record.body)
        yield from (str(v) for v in (record.log_record.attributes or {}).values())


def test_gauge_holds_an_ewma_and_histogram_every_raw_score(telemetry: Telemetry) -> None:
    telemetry.processor()

    answer_span(telemetry, GOOD_ANSWER, duration_s=0.3)
    answer_span(telemetry, REFUSAL, duration_s=1.2)

    gauge = points(telemetry, sc.TASKMASTER_QUALITY_SCORE)
    histogram = points(telemetry, sc.TASKMASTER_RESPONSE_QUALITY)
    assert set(gauge) == set(histogram) == {labels(name) for name in NAMES}
    for name in NAMES:
        first, second = GOOD_SCORES[name], REFUSAL_SCORES[name]
        assert gauge[labels(name)].value == pytest.approx(first + 0.1 * (second - first), abs=1e-12)
        point = histogram[labels(name)]
        assert point.count == 2
        assert point.sum == pytest.approx(first + second, abs=1e-12)
        assert tuple(point.explicit_bounds) == sc.QUALITY_SCORE_BUCKETS
    overall = histogram[labels("overall_quality")]
    # 0.2 lands in (0.1, 0.2], 1.0 in (0.9, 1.0]
    assert list(overall.bucket_counts) == [0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0]


def test_one_evaluation_event_per_score_on_the_scored_span_context(telemetry: Telemetry) -> None:
    telemetry.processor()

    scored = answer_span(telemetry, REFUSAL, duration_s=1.2)

    records = [r.log_record for r in telemetry.logs.get_finished_logs()]
    assert [r.event_name for r in records] == [sc.GEN_AI_EVALUATION_RESULT_EVENT] * 5
    assert {r.trace_id for r in records} == {scored.context.trace_id}
    assert {r.span_id for r in records} == {scored.context.span_id}
    by_name = {r.attributes[sc.GEN_AI_EVALUATION_NAME]: dict(r.attributes) for r in records}
    assert by_name["overall_quality"] == {
        sc.GEN_AI_EVALUATION_NAME: "overall_quality",
        sc.GEN_AI_EVALUATION_SCORE_VALUE: pytest.approx(REFUSAL_SCORES["overall_quality"]),
        sc.GEN_AI_EVALUATION_SCORE_LABEL: "fail",
        sc.GEN_AI_EVALUATION_EXPLANATION: "failed checks: refusal",
    }
    assert by_name["coherence_score"] == {
        sc.GEN_AI_EVALUATION_NAME: "coherence_score",
        sc.GEN_AI_EVALUATION_SCORE_VALUE: 1.0,
        sc.GEN_AI_EVALUATION_SCORE_LABEL: "pass",
    }
    assert by_name["latency_score"][sc.GEN_AI_EVALUATION_SCORE_LABEL] == "fail"


def test_evaluation_event_carries_the_response_id_when_the_span_has_one(
    telemetry: Telemetry,
) -> None:
    telemetry.processor()

    answer_span(telemetry, GOOD_ANSWER, extra={sc.GEN_AI_RESPONSE_ID: "chatcmpl-7"})

    records = [r.log_record for r in telemetry.logs.get_finished_logs()]
    assert {r.attributes[sc.GEN_AI_RESPONSE_ID] for r in records} == {"chatcmpl-7"}


def test_child_span_carries_scores_under_the_scored_span(telemetry: Telemetry) -> None:
    telemetry.processor()

    scored = answer_span(telemetry, REFUSAL, duration_s=1.2)

    (child,) = evaluation_spans(telemetry)
    assert child.name == "evaluate llama3.2"
    assert child.kind is SpanKind.INTERNAL
    assert child.parent is not None
    assert child.parent.span_id == scored.context.span_id
    assert child.context.trace_id == scored.context.trace_id
    assert child.start_time == scored.end_time
    assert dict(child.attributes or {}) == {
        **{f"taskmaster.quality.{k}": pytest.approx(v) for k, v in REFUSAL_SCORES.items()},
        "taskmaster.quality.check.refusal": True,
        "taskmaster.quality.check.truncated": False,
        "taskmaster.quality.check.empty": False,
    }
    assert [e.name for e in child.events] == [sc.GEN_AI_EVALUATION_RESULT_EVENT] * 5
    assert [e.attributes[sc.GEN_AI_EVALUATION_NAME] for e in child.events] == list(NAMES)


def test_span_mode_sends_events_as_span_events_only(
    telemetry: Telemetry,
) -> None:
    telemetry.processor(evaluation_events="span")

    answer_span(telemetry, GOOD_ANSWER)

    (child,) = evaluation_spans(telemetry)
    assert len(child.events) == 5
    assert telemetry.logs.get_finished_logs() == ()


def test_by_default_events_are_span_events_beside_the_score_attributes(
    telemetry: Telemetry,
) -> None:
    processor = QualitySpanProcessor(
        QualityScorer(),
        meter_provider=telemetry.meter_provider,
        tracer_provider=telemetry.tracer_provider,
        logger_provider=telemetry.logger_provider,
    )
    telemetry.tracer_provider.add_span_processor(processor)

    answer_span(telemetry, GOOD_ANSWER)

    (child,) = evaluation_spans(telemetry)
    assert [e.name for e in child.events] == [sc.GEN_AI_EVALUATION_RESULT_EVENT] * 5
    assert len(child.attributes or {}) == 8  # 5 scores + 3 checks
    assert telemetry.logs.get_finished_logs() == ()


def test_log_mode_sends_events_as_log_records_only(telemetry: Telemetry) -> None:
    telemetry.processor(evaluation_events="log")

    answer_span(telemetry, GOOD_ANSWER)

    (child,) = evaluation_spans(telemetry)
    assert child.events == ()
    assert len(telemetry.logs.get_finished_logs()) == 5


def test_unknown_evaluation_event_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="evaluation_events"):
        QualitySpanProcessor(QualityScorer(), evaluation_events="kafka")


def test_evaluation_span_can_be_turned_off(telemetry: Telemetry) -> None:
    telemetry.processor(evaluation_span=False)

    answer_span(telemetry, GOOD_ANSWER)

    assert evaluation_spans(telemetry) == []
    assert len(telemetry.logs.get_finished_logs()) == 5


def test_drift_monitor_gets_scores_latency_and_checks(telemetry: Telemetry) -> None:
    telemetry.processor()

    scored = answer_span(telemetry, GOOD_ANSWER, duration_s=0.3, finish="length")

    observed = telemetry.drift.observed
    assert [(m, model, v) for m, model, v, _ in observed] == [
        ("length_score", "llama3.2", 1.0),
        ("latency_score", "llama3.2", 1.0),
        ("format_score", "llama3.2", 1.0),
        ("coherence_score", "llama3.2", 1.0),
        ("overall_quality", "llama3.2", pytest.approx(0.7)),
        ("latency_seconds", "llama3.2", pytest.approx(0.3)),
        ("refusal", "llama3.2", 0.0),
        ("truncated", "llama3.2", 1.0),
        ("empty", "llama3.2", 0.0),
    ]
    assert all(ctx == scored.context for *_, ctx in observed)


def test_no_answer_text_reaches_any_signal(telemetry: Telemetry) -> None:
    telemetry.processor()

    answer_span(telemetry, GOOD_ANSWER)
    answer_span(telemetry, REFUSAL)

    strings = list(all_strings(telemetry))
    assert strings
    for word in SECRET_WORDS:
        assert not [s for s in strings if word in s.lower()], word


@pytest.mark.parametrize(
    "case",
    [
        {"error": True},
        {"operation": sc.OPERATION_EMBEDDINGS},
        {"extra": {sc.TASKMASTER_STREAM_ABANDONED: True}},
    ],
    ids=["error-status", "embeddings", "abandoned-stream"],
)
def test_unscorable_spans_record_nothing(telemetry: Telemetry, case: dict[str, Any]) -> None:
    telemetry.processor()

    answer_span(telemetry, GOOD_ANSWER, **case)

    assert points(telemetry, sc.TASKMASTER_QUALITY_SCORE) == {}
    errors = points(telemetry, sc.TASKMASTER_INSTRUMENTATION_ERRORS)
    assert {key: p.value for key, p in errors.items()} == {(("component", "quality"),): 0}
    assert telemetry.logs.get_finished_logs() == ()
    assert evaluation_spans(telemetry) == []
    assert telemetry.drift.observed == []


def test_span_without_features_is_not_scored(telemetry: Telemetry) -> None:
    telemetry.processor()
    tracer = telemetry.tracer_provider.get_tracer("test")

    with tracer.start_as_current_span("chat llama3.2") as span:
        span.set_attribute(sc.GEN_AI_OPERATION_NAME, sc.OPERATION_CHAT)

    assert telemetry.logs.get_finished_logs() == ()
    assert telemetry.drift.observed == []


def test_response_model_wins_over_request_model(telemetry: Telemetry) -> None:
    telemetry.processor()

    answer_span(telemetry, GOOD_ANSWER, extra={sc.GEN_AI_RESPONSE_MODEL: "llama3.2:3b"})

    models = {dict(key)["model"] for key in points(telemetry, sc.TASKMASTER_QUALITY_SCORE)}
    assert models == {"llama3.2:3b"}
    assert evaluation_spans(telemetry)[0].name == "evaluate llama3.2:3b"


def test_model_labels_are_capped_then_shared_as_other(telemetry: Telemetry) -> None:
    telemetry.processor(max_models=2)

    for model in ("a", "b", "c", "d", "a"):
        answer_span(telemetry, GOOD_ANSWER, model=model)

    models = {dict(key)["model"] for key in points(telemetry, sc.TASKMASTER_QUALITY_SCORE)}
    assert models == {"a", "b", "_other"}
    assert {m for _, m, _, _ in telemetry.drift.observed} == {"a", "b", "_other"}


def test_a_failing_drift_monitor_is_counted_and_the_rest_still_records(
    telemetry: Telemetry,
) -> None:
    telemetry.drift.fail = True
    telemetry.processor()

    answer_span(telemetry, GOOD_ANSWER)

    errors = points(telemetry, sc.TASKMASTER_INSTRUMENTATION_ERRORS)
    assert {key: p.value for key, p in errors.items()} == {(("component", "quality"),): 1}
    assert len(points(telemetry, sc.TASKMASTER_QUALITY_SCORE)) == 5
    assert len(telemetry.logs.get_finished_logs()) == 5
    assert len(evaluation_spans(telemetry)) == 1


class BrokenScorer(QualityScorer):
    def score_features(self, features: Mapping[str, object], latency_s: float, done_reason):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("scorer bug")


def test_a_failing_scorer_never_raises_into_the_app(telemetry: Telemetry) -> None:
    telemetry.processor(scorer=BrokenScorer())

    scored = answer_span(telemetry, GOOD_ANSWER)  # would raise here if on_end leaked

    assert scored.name == "chat llama3.2"
    errors = points(telemetry, sc.TASKMASTER_INSTRUMENTATION_ERRORS)
    assert {key: p.value for key, p in errors.items()} == {(("component", "quality"),): 1}
    assert points(telemetry, sc.TASKMASTER_QUALITY_SCORE) == {}


class _EndingWriter(SpanProcessor):
    """Tries to add to a span in _on_ending, as a scorer might be tempted to."""

    def _on_ending(self, span: Span) -> None:
        span.set_attribute("late.attribute", 1)
        span.add_event("late.event")


def test_sdk_refuses_attributes_and_events_in_on_ending(telemetry: Telemetry) -> None:
    # Why the scores travel as events, metrics and a child span instead of on the span.
    telemetry.tracer_provider.add_span_processor(_EndingWriter())

    scored = answer_span(telemetry, GOOD_ANSWER)

    assert "late.attribute" not in (scored.attributes or {})
    assert [e.name for e in scored.events] == []


def test_prometheus_exposes_the_seed_gauge_name_and_the_histogram() -> None:
    registry = CollectorRegistry()
    meter_provider = MeterProvider(
        metric_readers=[PrometheusMetricReader(disable_target_info=True, registry=registry)]
    )
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(
        QualitySpanProcessor(
            QualityScorer(),
            meter_provider=meter_provider,
            tracer_provider=tracer_provider,
            evaluation_span=False,
        )
    )
    features = ResponseFeatures()
    features.add(GOOD_ANSWER)
    span = tracer_provider.get_tracer("test").start_span(
        "chat llama3.2",
        attributes={
            sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
            sc.GEN_AI_REQUEST_MODEL: "llama3.2",
            **features.attributes("stop"),
        },
    )
    span.end()

    exposed = generate_latest(registry).decode()
    meter_provider.shutdown()
    tracer_provider.shutdown()

    assert 'taskmaster_quality_score{dimension="overall_quality",model="llama3.2"' in exposed
    assert "# TYPE taskmaster_quality_score gauge" in exposed
    assert "# TYPE taskmaster_response_quality histogram" in exposed
    assert 'taskmaster_response_quality_bucket{dimension="overall_quality",le="0.7"' in exposed


def test_real_drift_monitor_goes_critical_when_answers_turn_into_refusals(
    telemetry: Telemetry,
) -> None:
    baseline = Baseline.from_seed({"refusal": {"kind": "bernoulli", "rate": 0.05}})
    monitor = DriftMonitor(telemetry.meter_provider.get_meter("drift"), baseline)
    telemetry.processor(drift_monitor=monitor, evaluation_span=False)

    for _ in range(200):
        answer_span(telemetry, GOOD_ANSWER)
    steady = monitor.state("refusal", "llama3.2")
    for _ in range(100):
        answer_span(telemetry, REFUSAL)

    assert steady == 0
    assert monitor.state("refusal", "llama3.2") == 2
    status = points(telemetry, sc.TASKMASTER_DRIFT_STATUS)
    assert status[(("metric", "refusal"), ("model", "llama3.2"))].value == 2


def test_score_histograms_take_no_exemplar_from_the_app_span(telemetry: Telemetry) -> None:
    telemetry.processor()
    app = telemetry.tracer_provider.get_tracer("app")

    with app.start_as_current_span("POST /ask"):  # the app's server span, sampled
        answer_span(telemetry, GOOD_ANSWER, duration_s=0.3)

    histogram = points(telemetry, sc.TASKMASTER_RESPONSE_QUALITY)
    assert set(histogram) == {labels(name) for name in NAMES}
    assert all(not point.exemplars for point in histogram.values())
