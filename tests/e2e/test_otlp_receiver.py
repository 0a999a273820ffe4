"""The test OTLP receiver decodes what the real SDK OTLP/HTTP exporters send."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

from tests.support.otlp_receiver import OtlpReceiver

RESOURCE = Resource.create({"service.name": "receiver-test"})


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_spans_arrive_flattened_with_hex_ids(
    receiver: OtlpReceiver, compression: Compression
) -> None:
    provider = TracerProvider(resource=RESOURCE)
    exporter = OTLPSpanExporter(endpoint=f"{receiver.endpoint}/v1/traces", compression=compression)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("receiver.test")
    with (
        tracer.start_as_current_span("parent") as parent,
        tracer.start_as_current_span("child", kind=SpanKind.CLIENT) as child,
    ):
        child.set_attribute("gen_ai.request.model", "llama3.2")
        child.set_attribute("gen_ai.response.finish_reasons", ["stop"])
        child.set_attribute("gen_ai.usage.input_tokens", 12)
        child.add_event("scored", {"score": 0.5})
        child.set_status(StatusCode.ERROR, "boom")
    provider.shutdown()

    spans = {span.name: span for span in receiver.spans()}
    assert set(spans) == {"parent", "child"}
    got = spans["child"]
    assert got.trace_id == format(parent.get_span_context().trace_id, "032x")
    assert got.span_id == format(child.get_span_context().span_id, "016x")
    assert got.parent_span_id == spans["parent"].span_id
    assert spans["parent"].parent_span_id == ""
    assert got.kind == SpanKind.CLIENT.value + 1  # OTLP enum counts UNSPECIFIED as 0
    assert got.attributes == {
        "gen_ai.request.model": "llama3.2",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 12,
    }
    assert got.events == [{"name": "scored", "attributes": {"score": 0.5}}]
    assert got.status_code == 2 and got.status_message == "boom"
    assert got.resource["service.name"] == "receiver-test"
    assert got.scope == "receiver.test"
    expected = "gzip" if compression is Compression.Gzip else "identity"
    assert set(receiver.content_encodings()) == {expected}


def test_metric_points_keep_values_attributes_and_buckets(receiver: OtlpReceiver) -> None:
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{receiver.endpoint}/v1/metrics"),
        export_interval_millis=3_600_000,
    )
    provider = MeterProvider(metric_readers=[reader], resource=RESOURCE)
    meter = provider.get_meter("receiver.test")
    counter = meter.create_counter("taskmaster_requests", unit="{request}")
    histogram = meter.create_histogram(
        "taskmaster_request_latency", unit="s", explicit_bucket_boundaries_advisory=[0.1, 1.0]
    )
    counter.add(2, {"endpoint": "tasks", "status": "success"})
    counter.add(1, {"endpoint": "tasks", "status": "error"})
    histogram.record(0.05, {"endpoint": "tasks"})
    histogram.record(0.5, {"endpoint": "tasks"})
    provider.shutdown()

    assert receiver.metric_names() == {"taskmaster_requests", "taskmaster_request_latency"}
    counts = {
        p.attributes["status"]: p.value for p in receiver.metric_points("taskmaster_requests")
    }
    assert counts == {"success": 2, "error": 1}
    (point,) = receiver.metric_points("taskmaster_request_latency")
    assert point.kind == "histogram" and point.unit == "s"
    assert point.count == 2
    assert point.sum == pytest.approx(0.55)
    assert point.explicit_bounds == [0.1, 1.0]
    assert point.bucket_counts == [1, 1, 0]
    assert receiver.metric_points("no_such_metric") == []


@pytest.mark.filterwarnings("ignore:.*LoggingHandler.*:DeprecationWarning")
def test_log_records_carry_body_severity_and_trace_context(receiver: OtlpReceiver) -> None:
    logger_provider = LoggerProvider(resource=RESOURCE)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{receiver.endpoint}/v1/logs"))
    )
    tracer_provider = TracerProvider(resource=RESOURCE)
    logger = logging.getLogger("receiver.test.logs")
    logger.propagate = False
    handler = LoggingHandler(logger_provider=logger_provider)
    logger.addHandler(handler)
    try:
        with tracer_provider.get_tracer("t").start_as_current_span("work") as span:
            logger.warning("request failed", extra={"request_id": "r-1"})
    finally:
        logger.removeHandler(handler)
        logger_provider.shutdown()

    (record,) = receiver.wait_for(lambda r: r.log_records())
    assert record.body == "request failed"
    assert record.severity_text == "WARN"
    assert record.attributes["request_id"] == "r-1"
    assert record.trace_id == format(span.get_span_context().trace_id, "032x")
    assert record.span_id == format(span.get_span_context().span_id, "016x")


def test_unknown_path_and_garbage_are_rejected_without_keeping_anything(
    receiver: OtlpReceiver,
) -> None:
    with httpx.Client(base_url=receiver.endpoint) as client:
        assert client.post("/v1/other", content=b"x").status_code == 404
        protobuf = {"Content-Type": "application/x-protobuf"}
        bad = client.post("/v1/traces", content=b"\xff\xff\xff", headers=protobuf)
        assert bad.status_code == 400
        bad_gzip = client.post("/v1/logs", content=b"nope", headers={"Content-Encoding": "gzip"})
        assert bad_gzip.status_code == 400
    assert receiver.spans() == [] and receiver.log_records() == []


def test_wait_for_times_out_when_nothing_arrives(receiver: OtlpReceiver) -> None:
    with pytest.raises(TimeoutError):
        receiver.wait_for(lambda r: r.spans(), timeout=0.3)


def test_clear_forgets_everything_received(receiver: OtlpReceiver) -> None:
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{receiver.endpoint}/v1/traces"))
    )
    with provider.get_tracer("t").start_as_current_span("one"):
        pass
    provider.shutdown()
    assert [s.name for s in receiver.spans()] == ["one"]
    receiver.clear()
    assert receiver.spans() == [] and receiver.content_encodings() == []
