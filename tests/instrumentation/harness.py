"""Test harness for the instrumentor: in-memory telemetry and a byte-exact loopback server."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_taskmaster.config import Settings
from otel_taskmaster.instrumentation.ollama import SCOPE_NAME

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


Instrument = Callable[..., Telemetry]
"""``instrument(url, env)`` from the ``instrument`` fixture."""


def make_providers() -> tuple[InMemorySpanExporter, TracerProvider, InMemoryMetricReader, Any]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    return exporter, tracer_provider, reader, MeterProvider(metric_readers=[reader])


class _BytesHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _BytesServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        plan = self.server.plan
        self.send_response(plan.status)
        self.send_header("Content-Type", plan.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, chunk in enumerate(plan.chunks):
            gate = plan.gates.get(index)
            if gate is not None:
                plan.opened[index] = gate.wait(timeout=5.0)
            self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class BytesPlan:
    """What the bytes server answers to every POST: status, content type, chunks as given."""

    chunks: list[bytes]
    status: int = 200
    content_type: str = "application/x-ndjson"
    # Before sending chunk i, wait (up to 5 s) for gates[i]; opened[i] says if it was set.
    gates: dict[int, threading.Event] = field(default_factory=dict)
    opened: dict[int, bool] = field(default_factory=dict)


class _BytesServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, plan: BytesPlan) -> None:
        super().__init__(("127.0.0.1", 0), _BytesHandler)
        self.plan = plan


@contextmanager
def serving_bytes(plan: BytesPlan) -> Iterator[str]:
    """A loopback server that answers any POST with exactly ``plan``'s bytes (chunked)."""
    server = _BytesServer(plan)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
