"""Per-test OpenTelemetry providers and an instrumentor that is always uninstrumented after."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_taskmaster.config import Settings
from otel_taskmaster.instrumentation.ollama import SCOPE_NAME, OllamaInstrumentor
from tests.support.ollama_server import running_replay, running_simulator

# LiteLLM reads these at import: bundled cost map, offline catalogs, no telemetry groups,
# so the only network it touches is the loopback server under test.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["LITELLM_OFFLINE_MODE"] = "true"
os.environ["LITELLM_TELEMETRY_GROUPS"] = ""


@dataclass
class Telemetry:
    """What one instrumented test sees: finished spans and collected metric points."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    settings: Settings
    _cache: dict[str, Any] = field(default_factory=dict)

    def spans(self) -> tuple[ReadableSpan, ...]:
        return tuple(self.exporter.get_finished_spans())

    def genai_spans(self) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.instrumentation_scope.name == SCOPE_NAME]

    def metrics(self) -> dict[str, Any]:
        """Instrument name -> SDK metric, for the instrumentor's meter only."""
        found: dict[str, Any] = {}
        data = self.reader.get_metrics_data()
        if data is None:
            return found
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                if scope_metrics.scope.name != SCOPE_NAME:
                    continue
                for metric in scope_metrics.metrics:
                    found[metric.name] = metric
        return found

    def points(self, name: str) -> list[Any]:
        metric = self.metrics().get(name)
        return [] if metric is None else list(metric.data.data_points)


def make_providers() -> tuple[InMemorySpanExporter, TracerProvider, InMemoryMetricReader, Any]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    return exporter, tracer_provider, reader, MeterProvider(metric_readers=[reader])


Instrument = Callable[..., Telemetry]


@pytest.fixture
def instrument() -> Iterator[Instrument]:
    """``instrument(url, **env)``: instruments for the Ollama at ``url`` with ``env`` settings."""
    instrumentor = OllamaInstrumentor()

    def _instrument(url: str | None = None, env: Mapping[str, str] | None = None) -> Telemetry:
        environ = dict(env or {})
        if url is not None:
            environ.setdefault("OLLAMA_HOST", url)
        settings = Settings.from_env(environ)
        exporter, tracer_provider, reader, meter_provider = make_providers()
        instrumentor.instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider, settings=settings
        )
        return Telemetry(exporter, reader, tracer_provider, meter_provider, settings)

    yield _instrument
    instrumentor.uninstrument()


@pytest.fixture
def simulator() -> Iterator[str]:
    """A fresh simulator (no sleeps) on a free loopback port."""
    with running_simulator() as url:
        yield url


@pytest.fixture
def replay() -> Iterator[str]:
    """A replay server for every shared recording."""
    with running_replay() as url:
        yield url
