"""An OTLP/HTTP receiver for tests: what the exporters really put on the wire, decoded.

``with OtlpReceiver() as receiver:`` serves ``POST /v1/traces``, ``/v1/metrics`` and
``/v1/logs`` (protobuf, optionally gzip) on a free 127.0.0.1 port, in a thread. Point an
exporter (or ``OTEL_EXPORTER_OTLP_ENDPOINT``) at ``receiver.endpoint``. Every request is decoded
with ``opentelemetry.proto`` and kept; the helpers flatten what was received into plain values
(hex ids, attributes as dicts) so tests can compare exactly.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

# path -> (signal, request type, response type)
_ROUTES: dict[str, tuple[str, type[Message], type[Message]]] = {
    "/v1/traces": ("traces", ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/metrics": ("metrics", ExportMetricsServiceRequest, ExportMetricsServiceResponse),
    "/v1/logs": ("logs", ExportLogsServiceRequest, ExportLogsServiceResponse),
}


def any_value(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as the plain Python value it carries."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind)


def attributes(items: Iterator[KeyValue] | Any) -> dict[str, Any]:
    """OTLP key/value pairs as a dict."""
    return {item.key: any_value(item.value) for item in items}


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    start_time_unix_nano: int
    end_time_unix_nano: int
    attributes: dict[str, Any]
    status_code: int
    status_message: str
    events: list[dict[str, Any]]
    resource: dict[str, Any]
    scope: str


@dataclass(frozen=True)
class MetricPoint:
    """One data point; ``value`` for sums and gauges, ``count``/``sum``/buckets for histograms."""

    name: str
    kind: str
    unit: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    value: float | None = None
    count: int | None = None
    sum: float | None = None
    bucket_counts: list[int] = field(default_factory=list)
    explicit_bounds: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class ReceivedLog:
    body: Any
    severity_text: str
    severity_number: int
    attributes: dict[str, Any]
    trace_id: str
    span_id: str
    event_name: str
    resource: dict[str, Any]
    scope: str


class OtlpReceiver:
    """A thread-safe OTLP/HTTP (protobuf) receiver on 127.0.0.1."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._messages: dict[str, list[Any]] = {"traces": [], "metrics": [], "logs": []}
        self._encodings: list[str] = []
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        """The base URL, as ``OTEL_EXPORTER_OTLP_ENDPOINT`` takes it."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- what arrived -------------------------------------------------------------------------

    def messages(self, signal: str) -> list[Any]:
        """The decoded export requests of one signal (``traces``, ``metrics``, ``logs``)."""
        with self._lock:
            return list(self._messages[signal])

    def content_encodings(self) -> list[str]:
        """The ``Content-Encoding`` of every accepted request (``identity`` when absent)."""
        with self._lock:
            return list(self._encodings)

    def clear(self) -> None:
        with self._lock:
            for kept in self._messages.values():
                kept.clear()
            self._encodings.clear()

    def spans(self) -> list[ReceivedSpan]:
        found = []
        for request in self.messages("traces"):
            for resource_spans in request.resource_spans:
                resource = attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found.append(_span(span, resource, scope_spans.scope.name))
        return found

    def metric_names(self) -> set[str]:
        return {
            metric.name
            for request in self.messages("metrics")
            for resource_metrics in request.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
        }

    def metric_points(self, name: str) -> list[MetricPoint]:
        """Every data point received for the metric ``name``, oldest export first."""
        found = []
        for request in self.messages("metrics"):
            for resource_metrics in request.resource_metrics:
                resource = attributes(resource_metrics.resource.attributes)
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        if metric.name == name:
                            found.extend(_points(metric, resource))
        return found

    def log_records(self) -> list[ReceivedLog]:
        found = []
        for request in self.messages("logs"):
            for resource_logs in request.resource_logs:
                resource = attributes(resource_logs.resource.attributes)
                for scope_logs in resource_logs.scope_logs:
                    for record in scope_logs.log_records:
                        found.append(_log(record, resource, scope_logs.scope.name))
        return found

    def wait_for(self, predicate: Callable[[OtlpReceiver], Any], timeout: float = 30.0) -> Any:
        """Waits until ``predicate(self)`` is truthy and returns its value; raises on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self)
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"OTLP receiver: condition not met within {timeout}s")
            with self._changed:
                self._changed.wait(min(remaining, 0.2))

    # --- the HTTP side ------------------------------------------------------------------------

    def _accept(self, signal: str, message: Any, encoding: str) -> None:
        with self._changed:
            self._messages[signal].append(message)
            self._encodings.append(encoding)
            self._changed.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                route = _ROUTES.get(self.path.split("?", 1)[0])
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if route is None:
                    self._reply(404, b"unknown OTLP path", "text/plain")
                    return
                signal, request_type, response_type = route
                encoding = (self.headers.get("Content-Encoding") or "identity").lower()
                try:
                    message = request_type.FromString(_decompress(body, encoding))
                except (DecodeError, OSError, ValueError, zlib.error) as exc:
                    self._reply(400, f"cannot decode: {exc}".encode(), "text/plain")
                    return
                receiver._accept(signal, message, encoding)
                self._reply(200, response_type().SerializeToString(), "application/x-protobuf")

            def _reply(self, status: int, payload: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler


def _decompress(body: bytes, encoding: str) -> bytes:
    if encoding in ("identity", ""):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


def _span(span: Any, resource: dict[str, Any], scope: str) -> ReceivedSpan:
    return ReceivedSpan(
        name=span.name,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        kind=span.kind,
        start_time_unix_nano=span.start_time_unix_nano,
        end_time_unix_nano=span.end_time_unix_nano,
        attributes=attributes(span.attributes),
        status_code=span.status.code,
        status_message=span.status.message,
        events=[{"name": e.name, "attributes": attributes(e.attributes)} for e in span.events],
        resource=resource,
        scope=scope,
    )


def _points(metric: Any, resource: dict[str, Any]) -> list[MetricPoint]:
    kind = metric.WhichOneof("data")
    common = {"name": metric.name, "kind": kind, "unit": metric.unit, "resource": resource}
    if kind in ("sum", "gauge"):
        return [
            MetricPoint(
                attributes=attributes(p.attributes),
                value=getattr(p, p.WhichOneof("value") or "as_double"),
                **common,
            )
            for p in getattr(metric, kind).data_points
        ]
    if kind == "histogram":
        return [
            MetricPoint(
                attributes=attributes(p.attributes),
                count=p.count,
                sum=p.sum,
                bucket_counts=list(p.bucket_counts),
                explicit_bounds=list(p.explicit_bounds),
                **common,
            )
            for p in metric.histogram.data_points
        ]
    if kind == "exponential_histogram":
        return [
            MetricPoint(attributes=attributes(p.attributes), count=p.count, sum=p.sum, **common)
            for p in metric.exponential_histogram.data_points
        ]
    return []


def _log(record: Any, resource: dict[str, Any], scope: str) -> ReceivedLog:
    return ReceivedLog(
        body=any_value(record.body),
        severity_text=record.severity_text,
        severity_number=record.severity_number,
        attributes=attributes(record.attributes),
        trace_id=record.trace_id.hex(),
        span_id=record.span_id.hex(),
        event_name=getattr(record, "event_name", ""),
        resource=resource,
        scope=scope,
    )
