"""monitor_request: the seed's decorator, on OTel, counting an LLM call inside it once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import ollama
import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_taskmaster import monitor_request
from otel_taskmaster.config import Settings
from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor
from tests.support.ollama_server import running_simulator


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        data = self.reader.get_metrics_data()
        found = []
        for resource_metrics in data.resource_metrics if data else []:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            value = getattr(point, "value", None)
                            if value is None:
                                value = point.count
                            found.append((dict(point.attributes), value))
        return found


@pytest.fixture
def telemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    t = Telemetry()
    # monitor_request reads the global providers, as it does under opentelemetry-instrument.
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: t.tracer_provider)
    monkeypatch.setattr(metrics, "get_meter_provider", lambda: t.meter_provider)
    monkeypatch.setattr(
        trace,
        "get_tracer",
        lambda name, version=None, *a, **k: t.tracer_provider.get_tracer(name, version),
    )
    yield t


class Boom(Exception):
    pass


@pytest.fixture
def simulator() -> Iterator[str]:
    with running_simulator() as url:
        yield url


def test_sync_handler_gets_span_metrics_and_one_log_line(
    telemetry: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    @monitor_request("generate")
    def generate(prompt: str, request_id: str | None = None) -> str:
        return prompt * 3

    with caplog.at_level(logging.INFO, logger="otel_taskmaster.requests"):
        assert generate("ab", request_id="req-1") == "ababab"

    (span,) = telemetry.spans.get_finished_spans()
    assert span.name == "generate"
    assert dict(span.attributes or {}) == {
        "taskmaster.endpoint": "generate",
        "taskmaster.request_id": "req-1",
    }
    # The error series starts at 0 so that rate() sees the first error.
    assert telemetry.points("taskmaster_requests") == [
        ({"endpoint": "generate", "status": "success"}, 1),
        ({"endpoint": "generate", "status": "error"}, 0),
    ]
    assert telemetry.points("taskmaster_request_latency") == [({"endpoint": "generate"}, 1)]
    (record,) = [r for r in caplog.records if r.name == "otel_taskmaster.requests"]
    assert record.getMessage() == "Request completed"
    assert record.request_id == "req-1"  # type: ignore[attr-defined]
    assert record.response_length == 6  # type: ignore[attr-defined]


def test_async_handler_exception_propagates_unchanged_and_counts_an_error(
    telemetry: Telemetry,
) -> None:
    @monitor_request("tasks")
    async def handler() -> str:
        raise Boom("no")

    with pytest.raises(Boom, match="no"):
        asyncio.run(handler())

    (span,) = telemetry.spans.get_finished_spans()
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "Boom"
    assert telemetry.points("taskmaster_requests") == [
        ({"endpoint": "tasks", "status": "success"}, 0),
        ({"endpoint": "tasks", "status": "error"}, 1),
    ]


def test_llm_call_inside_monitored_request_is_counted_once(
    telemetry: Telemetry, simulator: str, caplog: pytest.LogCaptureFixture
) -> None:
    instrumentor = OllamaInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        settings=Settings.from_env({"OLLAMA_HOST": simulator}),
    )
    try:
        client = ollama.Client(host=simulator)

        @monitor_request("tasks")
        def handler(prompt: str) -> str:
            return client.chat(model="llama3.2", messages=[{"role": "user", "content": prompt}])[
                "message"
            ]["content"]

        with caplog.at_level(logging.INFO, logger="otel_taskmaster.requests"):
            answer = handler("Plan the quarterly budget review")
    finally:
        instrumentor.uninstrument()

    (outer,) = [s for s in telemetry.spans.get_finished_spans() if s.name == "tasks"]
    (llm,) = [s for s in telemetry.spans.get_finished_spans() if s.name == "chat llama3.2"]
    assert llm.parent is not None and llm.parent.span_id == outer.context.span_id
    # One request, counted by the decorator only; tokens come from the LLM call.
    assert telemetry.points("taskmaster_requests") == [
        ({"endpoint": "tasks", "status": "success"}, 1),
        ({"endpoint": "tasks", "status": "error"}, 0),
    ]
    (record,) = [r for r in caplog.records if r.name == "otel_taskmaster.requests"]
    assert record.tokens_out == llm.attributes["gen_ai.usage.output_tokens"]  # type: ignore[attr-defined,index]
    assert record.tokens_in == llm.attributes["gen_ai.usage.input_tokens"]  # type: ignore[attr-defined,index]
    assert record.response_length == len(answer)  # type: ignore[attr-defined]
    assert record.model == "llama3.2"  # type: ignore[attr-defined]
    assert record.prompt_length == len("Plan the quarterly budget review")  # type: ignore[attr-defined]
