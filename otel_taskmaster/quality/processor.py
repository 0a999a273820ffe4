"""A span processor that scores every LLM answer span the Ollama instrumentor ends.

Two ways in. The instrumentor calls :meth:`QualitySpanProcessor.score_ending` just before it
ends a call's span (the configurator wires it up): the scores land on that span as attributes
and ``gen_ai.evaluation.result`` span events. A span that reaches ``on_end`` unscored has
ended, so it cannot take new attributes or events (in this SDK ``_on_ending`` runs after
``end_time`` is set, when the span already refuses both): its scores travel on an
``evaluate {model}`` child span instead. Metrics, log events and drift are the same either way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Protocol

from opentelemetry import trace
from opentelemetry._logs import LoggerProvider, SeverityNumber, get_logger_provider
from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation, get_meter_provider
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode
from opentelemetry.util.types import AttributeValue

from otel_taskmaster import semconv
from otel_taskmaster.exemplars import NO_EXEMPLAR
from otel_taskmaster.labels import BoundedLabels
from otel_taskmaster.quality.scorer import DIMENSIONS, OVERALL, QualityScorer, Scores
from otel_taskmaster.version import __version__

__all__ = ["DriftRecorder", "QualitySpanProcessor"]

_logger = logging.getLogger(__name__)

_SCOPE = "otel_taskmaster.quality"
_SCORED_OPERATIONS = frozenset({semconv.OPERATION_CHAT, semconv.OPERATION_TEXT_COMPLETION})
UNKNOWN_MODEL = "unknown"
LATENCY_METRIC = "latency_seconds"
# Where gen_ai.evaluation.result events go: span events (on the scored span, or on its
# evaluate child span when it is scored after its end), log records on the scored span's
# context, both, or nowhere.
EVALUATION_EVENT_MODES = ("span", "log", "both", "off")
# Present on a span scored before it ended: on_end leaves that span alone.
_OVERALL_SCORE = semconv.QUALITY_SCORE_PREFIX + OVERALL


class DriftRecorder(Protocol):
    """What the processor feeds: one observation per metric, model and answer."""

    def observe(
        self, metric: str, model: str, value: float, span_context: SpanContext | None
    ) -> None: ...


class QualitySpanProcessor(SpanProcessor):
    """Scores chat / text-completion spans that carry ``FEATURE_*`` attributes.

    For each scored span it records ``taskmaster_quality_score{dimension,model}`` (a gauge
    holding an exponentially weighted moving average of recent scores, weight
    ``config.ewma_alpha`` for the newest, so the seed's ``< 0.7 for 15m`` alert reads a
    level, not one noisy answer), ``taskmaster_response_quality{dimension,model}`` (a
    histogram of raw scores), the scores as ``taskmaster.quality.*`` attributes, one
    ``gen_ai.evaluation.result`` event per score (``evaluation_events``: span events, log
    records on the scored span's context, both, or off), and feeds ``drift_monitor``.
    Attributes and span events go on the scored span when it is scored before it ends
    (:meth:`score_ending`), else on a child span ``evaluate {model}`` of it
    (``evaluation_span``; without it they are left out). Spans with ERROR status and
    abandoned streams are skipped. It never raises: errors are logged at debug level and
    counted in ``taskmaster_instrumentation_errors{component="quality"}``.
    """

    def __init__(
        self,
        scorer: QualityScorer,
        meter_provider: MeterProvider | None = None,
        tracer_provider: trace.TracerProvider | None = None,
        logger_provider: LoggerProvider | None = None,
        drift_monitor: DriftRecorder | None = None,
        evaluation_span: bool = True,
        evaluation_events: str = "span",
        max_models: int = 20,
    ) -> None:
        self._scorer = scorer
        self._alpha = scorer.config.ewma_alpha
        self._drift = drift_monitor
        if evaluation_events not in EVALUATION_EVENT_MODES:
            raise ValueError(
                f"evaluation_events must be one of {EVALUATION_EVENT_MODES}, "
                f"got {evaluation_events!r}"
            )
        self._evaluation_span = evaluation_span
        # "span" puts the events where Jaeger shows them, next to the scored call; "log" sends
        # them as log records on the scored span's context, for a logs back end, at several
        # times the CPU (a record, a batch queue slot and an OTLP log encoding each).
        self._log_events = evaluation_events in ("log", "both")
        self._span_events = evaluation_events in ("span", "both")
        meter = (meter_provider or get_meter_provider()).get_meter(_SCOPE, __version__)
        # Observable: each answer only updates a float; the SDK reads the levels once per
        # collection instead of taking five gauge measurements per answer.
        meter.create_observable_gauge(
            semconv.TASKMASTER_QUALITY_SCORE,
            callbacks=[self._observe_levels],
            unit=semconv.UNIT_SCORE,
            description="Moving average (EWMA) of recent response quality scores",
        )
        self._histogram = meter.create_histogram(
            semconv.TASKMASTER_RESPONSE_QUALITY,
            unit=semconv.UNIT_SCORE,
            description="Response quality scores, one per answer and dimension",
            explicit_bucket_boundaries_advisory=list(semconv.QUALITY_SCORE_BUCKETS),
        )
        self._errors = meter.create_counter(
            semconv.TASKMASTER_INSTRUMENTATION_ERRORS,
            unit=semconv.UNIT_ERROR,
            description="Errors inside the distro's own code, caught and not raised",
        )
        self._error_attributes = {semconv.LABEL_COMPONENT: "quality"}
        self._errors.add(0, self._error_attributes)  # from 0, so rate() sees the first error
        self._tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer(
            _SCOPE, __version__
        )
        self._event_logger = (logger_provider or get_logger_provider()).get_logger(
            _SCOPE, __version__
        )
        self._lock = threading.Lock()
        self._ewma: dict[tuple[str, str], float] = {}
        self._models = BoundedLabels(max_models)
        # label -> dimension -> metric attributes; built once, reused for every answer.
        self._label_sets: dict[str, dict[str, dict[str, str]]] = {}

    def on_end(self, span: ReadableSpan) -> None:
        try:
            attrs = span.attributes
            if attrs and _OVERALL_SCORE in attrs:
                return  # scored by score_ending while it was still open
            start, end = span.start_time, span.end_time
            latency_s = (end - start) / 1e9 if start is not None and end is not None else 0.0
            self._score(span, latency_s, open_span=None)
        except Exception:  # never into the app's thread
            self._failed("scoring")

    def score_ending(self, span: trace.Span, duration_s: float) -> None:
        """Scores an LLM call span that is about to end, while it still takes attributes and
        events: the Ollama instrumentor's ending hook (see ``hooks.py`` there).

        The scores and checks become attributes of the scored span itself and the
        ``gen_ai.evaluation.result`` events its span events, parented to it as the GenAI
        semantic conventions ask; no ``evaluate`` child span is made, and ``on_end`` leaves
        the span alone. Never raises."""
        try:
            # An SDK span still recording; anything else has nothing to read scores from.
            if isinstance(span, Span) and span.is_recording():
                self._score(span, duration_s, open_span=span)
        except Exception:
            self._failed("scoring")

    def shutdown(self) -> None:
        """Nothing to flush: every record is handed on synchronously."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def _score(self, span: ReadableSpan | Span, latency_s: float, open_span: Span | None) -> None:
        attrs = span.attributes
        if (
            not attrs
            or attrs.get(semconv.GEN_AI_OPERATION_NAME) not in _SCORED_OPERATIONS
            or semconv.FEATURE_CHARS not in attrs
            or span.status.status_code is StatusCode.ERROR
            # The client stopped reading: the features describe a partial answer.
            or attrs.get(semconv.TASKMASTER_STREAM_ABANDONED) is True
        ):
            return
        model = attrs.get(semconv.GEN_AI_RESPONSE_MODEL) or attrs.get(semconv.GEN_AI_REQUEST_MODEL)
        model = str(model) if model else UNKNOWN_MODEL
        reasons = attrs.get(semconv.GEN_AI_RESPONSE_FINISH_REASONS)
        done_reason = str(reasons[0]) if isinstance(reasons, tuple | list) and reasons else None
        scores = self._scorer.score_features(attrs, latency_s, done_reason)
        label = self._model_label(model)
        context = span.get_span_context()
        # The scored span as a parent, for log events and the child span; scores that go on
        # the open span itself need none.
        parent = (
            trace.set_span_in_context(NonRecordingSpan(context))
            if context and (self._log_events or open_span is None)
            else None
        )

        try:
            self._record_metrics(scores, label)
        except Exception:
            self._failed("metrics")
        events = (
            self._evaluation_attributes(scores, attrs.get(semconv.GEN_AI_RESPONSE_ID))
            if self._log_events or self._span_events
            else []
        )
        if self._log_events:
            try:
                self._emit_events(events, parent)
            except Exception:
                self._failed("evaluation events")
        if open_span is not None:
            try:
                open_span.set_attributes(_score_attributes(scores))
                if self._span_events:
                    for event in events:
                        open_span.add_event(semconv.GEN_AI_EVALUATION_RESULT_EVENT, event)
            except Exception:
                self._failed("span scores")
        elif self._evaluation_span and parent is not None:
            try:
                span_events = events if self._span_events else []
                self._child_span(scores, span_events, model, parent, span.end_time)
            except Exception:
                self._failed("evaluation span")
        if self._drift is not None:
            try:
                self._feed_drift(self._drift, scores, label, latency_s, context)
            except Exception:
                self._failed("drift monitor")

    def _record_metrics(self, scores: Scores, label: str) -> None:
        label_sets = self._label_sets[label]
        alpha = self._alpha
        with self._lock:
            for name, value in scores.dimensions.items():
                key = (name, label)
                previous = self._ewma.get(key)
                self._ewma[key] = (
                    value if previous is None else previous + alpha * (value - previous)
                )
        for name, value in scores.dimensions.items():
            self._histogram.record(value, label_sets[name], context=NO_EXEMPLAR)

    def _observe_levels(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            levels = list(self._ewma.items())
        return [
            Observation(level, self._label_sets[label][name]) for (name, label), level in levels
        ]

    def _emit_events(self, events: list[dict[str, AttributeValue]], parent: Context | None) -> None:
        now = time.time_ns()
        for attributes in events:
            self._event_logger.emit(
                timestamp=now,
                context=parent,
                severity_number=SeverityNumber.INFO,
                attributes=attributes,
                event_name=semconv.GEN_AI_EVALUATION_RESULT_EVENT,
            )

    def _child_span(
        self,
        scores: Scores,
        events: Iterable[dict[str, AttributeValue]],
        model: str,
        parent: Context,
        start: int | None,
    ) -> None:
        child = self._tracer.start_span(
            f"evaluate {model[:128]}",
            context=parent,
            kind=SpanKind.INTERNAL,
            attributes=_score_attributes(scores),
            start_time=start,
        )
        for event in events:
            child.add_event(semconv.GEN_AI_EVALUATION_RESULT_EVENT, event)
        child.end()

    def _evaluation_attributes(
        self, scores: Scores, response_id: object
    ) -> list[dict[str, AttributeValue]]:
        label = self._scorer.label
        events: list[dict[str, AttributeValue]] = []
        for name, value in scores.dimensions.items():
            event: dict[str, AttributeValue] = {
                semconv.GEN_AI_EVALUATION_NAME: name,
                semconv.GEN_AI_EVALUATION_SCORE_VALUE: value,
                semconv.GEN_AI_EVALUATION_SCORE_LABEL: label(value),
            }
            if name == OVERALL:
                failed = [check for check, found in scores.checks.items() if found]
                if failed:
                    event[semconv.GEN_AI_EVALUATION_EXPLANATION] = "failed checks: " + ", ".join(
                        failed
                    )
            if isinstance(response_id, str) and response_id:
                event[semconv.GEN_AI_RESPONSE_ID] = response_id
            events.append(event)
        return events

    @staticmethod
    def _feed_drift(
        drift: DriftRecorder,
        scores: Scores,
        label: str,
        latency_s: float,
        context: SpanContext | None,
    ) -> None:
        observe = drift.observe
        for name, value in scores.dimensions.items():
            observe(name, label, value, context)
        observe(LATENCY_METRIC, label, latency_s, context)
        for name, found in scores.checks.items():
            observe(name, label, 1.0 if found else 0.0, context)

    def _model_label(self, model: str) -> str:
        # Bounded: the first max_models names keep their own label, later ones share one.
        label = self._models.get(model)
        if label not in self._label_sets:
            with self._lock:
                self._label_sets.setdefault(
                    label,
                    {
                        name: {semconv.LABEL_DIMENSION: name, semconv.LABEL_MODEL: label}
                        for name in (*DIMENSIONS, OVERALL)
                    },
                )
        return label

    def _failed(self, stage: str) -> None:
        _logger.debug("quality processor: %s failed", stage, exc_info=True)
        try:
            self._errors.add(1, self._error_attributes)
        except Exception:
            _logger.debug("quality processor: error counter failed", exc_info=True)


def _score_attributes(scores: Scores) -> dict[str, AttributeValue]:
    """taskmaster.quality.<dimension> and taskmaster.quality.check.<check>."""
    attributes: dict[str, AttributeValue] = {
        semconv.QUALITY_SCORE_PREFIX + name: value for name, value in scores.dimensions.items()
    }
    for name, found in scores.checks.items():
        attributes[semconv.QUALITY_CHECK_PREFIX + name] = found
    return attributes
