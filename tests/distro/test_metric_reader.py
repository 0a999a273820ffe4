"""The otlp_prometheus reader: one aggregation, read by the Prometheus endpoint and OTLP."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from importlib.metadata import entry_points

import pytest
from opentelemetry.sdk.metrics import MeterProvider

from otel_taskmaster.distro.metric_reader import OtlpPrometheusMetricReader
from tests.support.net import free_port, wait_for_port
from tests.support.otlp_receiver import OtlpReceiver


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.fixture
def prometheus_port(monkeypatch: pytest.MonkeyPatch, receiver: OtlpReceiver) -> int:
    port = free_port()
    monkeypatch.setenv("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
    monkeypatch.setenv("OTEL_EXPORTER_PROMETHEUS_PORT", str(port))
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "600000")  # exports only on flush
    return port


def _scrape(port: int) -> str:
    wait_for_port(port)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return str(response.read().decode())


def _sample(text: str, prefix: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, (prefix, lines)
    return float(lines[0].rsplit(" ", 1)[1])


def test_registered_as_the_otlp_prometheus_metrics_exporter() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="opentelemetry_metrics_exporter")}
    assert found["otlp_prometheus"] == (
        "otel_taskmaster.distro.metric_reader:OtlpPrometheusMetricReader"
    )


def test_scrape_and_otlp_export_read_the_same_cumulative_aggregation(
    prometheus_port: int, receiver: OtlpReceiver
) -> None:
    provider = MeterProvider(metric_readers=[OtlpPrometheusMetricReader()])
    try:
        meter = provider.get_meter("test")
        requests = meter.create_counter("shared_requests", unit="1")
        latency = meter.create_histogram("shared_latency", unit="s")
        requests.add(3, {"endpoint": "/api/chat"})
        latency.record(0.25, {"endpoint": "/api/chat"})

        text = _scrape(prometheus_port)
        assert _sample(text, 'shared_requests_total{endpoint="/api/chat"') == 3.0
        assert _sample(text, 'shared_latency_seconds_count{endpoint="/api/chat"') == 1.0

        requests.add(2, {"endpoint": "/api/chat"})
        # A scrape in between does not reset anything for OTLP: both stay cumulative.
        assert _sample(_scrape(prometheus_port), 'shared_requests_total{endpoint="/api/chat"') == 5
        assert provider.force_flush()
        points = receiver.wait_for(lambda r: r.metric_points("shared_requests"))
        assert [p.value for p in points] == [5]
        assert receiver.metric_points("shared_latency")[0].count == 1
    finally:
        provider.shutdown()


def test_shutdown_unregisters_the_prometheus_collector(prometheus_port: int) -> None:
    first = MeterProvider(metric_readers=[OtlpPrometheusMetricReader()])
    first.get_meter("test").create_counter("shutdown_probe").add(1)
    first.shutdown()
    # A second reader registers the same metric names without a duplicate-collector error.
    second_port = free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OTEL_EXPORTER_PROMETHEUS_PORT", str(second_port))
        second = MeterProvider(metric_readers=[OtlpPrometheusMetricReader()])
    try:
        second.get_meter("test").create_counter("shutdown_probe").add(4)
        assert _sample(_scrape(second_port), "shutdown_probe_total") == 4.0
    finally:
        second.shutdown()


def test_delta_preference_is_reported_and_cumulative_kept(
    prometheus_port: int,
    receiver: OtlpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta")
    with caplog.at_level(logging.WARNING, logger="otel_taskmaster.distro.metric_reader"):
        provider = MeterProvider(metric_readers=[OtlpPrometheusMetricReader()])
    try:
        assert "OTEL_METRICS_EXPORTER=otlp,prometheus" in caplog.text
        counter = provider.get_meter("test").create_counter("delta_probe")
        counter.add(1)
        assert provider.force_flush()
        counter.add(1)
        assert provider.force_flush()
        receiver.wait_for(lambda r: len(r.metric_points("delta_probe")) >= 2)
        assert [p.value for p in receiver.metric_points("delta_probe")] == [1, 2]
    finally:
        provider.shutdown()
