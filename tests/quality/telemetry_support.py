"""In-memory SDK telemetry for quality tests, and a fake drift monitor."""

from __future__ import annotations

from dataclasses import dataclass, field

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext

from otel_taskmaster.quality import QualityScorer, QualitySpanProcessor


@dataclass
class FakeDrift:
    """Records what the processor feeds a drift monitor."""

    observed: list[tuple[str, str, float, SpanContext | None]] = field(default_factory=list)
    fail: bool = False

    def observe(
        self, metric: str, model: str, value: float, span_context: SpanContext | None
    ) -> None:
        if self.fail:
            raise RuntimeError("drift monitor broke")
        self.observed.append((metric, model, value, span_context))


@dataclass
class Telemetry:
    tracer_provider: TracerProvider
    spans: InMemorySpanExporter
    meter_provider: MeterProvider
    metrics: InMemoryMetricReader
    logger_provider: LoggerProvider
    logs: InMemoryLogRecordExporter
    drift: FakeDrift

    def processor(
        self, scorer: QualityScorer | None = None, **kwargs: object
    ) -> QualitySpanProcessor:
        """A processor on these providers, registered after the span exporter; evaluation
        events go both ways (span events and log records) unless a test says otherwise."""
        kwargs.setdefault("evaluation_events", "both")
        processor = QualitySpanProcessor(
            scorer or QualityScorer(),
            meter_provider=self.meter_provider,
            tracer_provider=self.tracer_provider,
            logger_provider=self.logger_provider,
            drift_monitor=kwargs.pop("drift_monitor", self.drift),  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )
        self.tracer_provider.add_span_processor(processor)
        return processor
