from __future__ import annotations

import logging
import random
import threading

import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from otel_taskmaster.drift import Baseline, BaselineEntry, DriftMonitor

SCORES = {"overall_quality": 0.89, "latency_score": 0.85}

# The SDK's LoggingHandler is deprecated in favour of opentelemetry-instrumentation-logging,
# which is not installed; it still stamps trace ids, which is what these tests check.
pytestmark = pytest.mark.filterwarnings("ignore:.*LoggingHandler.*:DeprecationWarning")


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def log_exporter() -> InMemoryLogRecordExporter:
    return InMemoryLogRecordExporter()


@pytest.fixture
def drift_logger(request, log_exporter):
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    logger = logging.getLogger(f"test.drift.{request.node.name}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = LoggingHandler(logger_provider=provider)
    logger.addHandler(handler)
    yield logger
    logger.removeHandler(handler)


def _monitor(reader, logger, **kwargs) -> DriftMonitor:
    baseline = kwargs.pop(
        "baseline",
        Baseline([BaselineEntry(m, mean=mean, std=0.05) for m, mean in SCORES.items()]),
    )
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    return DriftMonitor(meter, baseline, logger=logger, **kwargs)


def _points(reader: InMemoryMetricReader) -> dict[str, dict[tuple, float]]:
    found: dict[str, dict[tuple, float]] = {}
    data = reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    key = tuple(sorted(point.attributes.items()))
                    found.setdefault(metric.name, {})[key] = point.value
    return found


def test_injected_degradation_raises_status_counts_alerts_and_logs_on_the_trace(
    reader, drift_logger, log_exporter
):
    monitor = _monitor(reader, drift_logger)
    tracer = TracerProvider().get_tracer("test")
    rng = random.Random(12345)
    raised_in = []
    for i in range(400):
        with tracer.start_as_current_span("chat llama3.2") as span:
            context = span.get_span_context()
            drop = 0.1 if i >= 200 else 0.0
            before = monitor.state("overall_quality", "llama3.2")
            monitor.observe("overall_quality", "llama3.2", rng.gauss(0.89 - drop, 0.05), context)
            monitor.observe("latency_score", "llama3.2", 0.85, context)  # steady
            if monitor.state("overall_quality", "llama3.2") > before:
                raised_in.append((i, context))
    points = _points(reader)
    quality = (("metric", "overall_quality"), ("model", "llama3.2"))
    latency = (("metric", "latency_score"), ("model", "llama3.2"))
    assert points["taskmaster_drift_status"] == {quality: 2, latency: 0}
    assert points["taskmaster_drift_statistic"][quality] >= 1.0
    assert points["taskmaster_drift_statistic"][latency] == 0.0
    # Every series starts its alert counters at 0; only the ones that fired moved.
    assert {k: v for k, v in points["taskmaster_drift_alerts"].items() if v} == {
        (*quality, ("severity", "warning")): 1,
        (*quality, ("severity", "critical")): 1,
    }
    assert [i for i, _ in raised_in] == [204, 205]
    records = [data.log_record for data in log_exporter.get_finished_logs()]
    assert len(records) == 2
    for record, (_, context) in zip(records, raised_in, strict=True):
        assert record.severity_text == "WARN"
        assert (record.trace_id, record.span_id) == (context.trace_id, context.span_id)
    attributes = dict(records[1].attributes)
    assert 0.79 < attributes.pop("current_value") < 0.89
    assert 0.0 < attributes.pop("deviation_percent") < 12.0
    assert {key: value for key, value in attributes.items() if not key.startswith("code.")} == {
        "event_type": "drift",
        "metric": "overall_quality",
        "model": "llama3.2",
        "baseline_value": 0.89,
        "severity": "critical",
        "detector": "mean",
        "direction": -1,
        "kind": "gaussian",
    }


def test_log_record_carries_the_trace_id_of_the_triggering_span(reader, drift_logger, log_exporter):
    monitor = _monitor(reader, drift_logger)
    tracer = TracerProvider().get_tracer("test")
    contexts = []
    for _ in range(50):
        with tracer.start_as_current_span("chat") as span:
            contexts.append(span.get_span_context())
    # Observed outside any current span: the context comes from the argument only.
    triggered_by = None
    for context in contexts:
        monitor.observe("overall_quality", "m", 0.5, context)
        if monitor.state("overall_quality", "m") == 2 and triggered_by is None:
            triggered_by = context
    # Four values at the 4-sigma clip: the scale CUSUM passes critical on the third.
    (critical,) = [data.log_record for data in log_exporter.get_finished_logs()]
    assert critical.attributes["severity"] == "critical"
    assert critical.attributes["detector"] == "scale"
    assert triggered_by == contexts[2]
    assert (critical.trace_id, critical.span_id) == (triggered_by.trace_id, triggered_by.span_id)


def test_without_a_span_context_the_log_has_no_trace(reader, drift_logger, log_exporter):
    monitor = _monitor(reader, drift_logger)
    for _ in range(10):
        monitor.observe("overall_quality", "m", 0.0)
    (record,) = [data.log_record for data in log_exporter.get_finished_logs()]
    assert record.attributes["severity"] == "critical"
    assert record.trace_id == 0


def test_steady_stream_stays_quiet(reader, drift_logger, log_exporter):
    monitor = _monitor(reader, drift_logger, baseline=Baseline.default(), warmup=500)
    rng = random.Random(12345)
    scores = {**SCORES, "length_score": 0.9, "format_score": 0.88}
    for _ in range(2000):  # 16,000 observations over 8 series, seed baseline (self-starting)
        for metric, mean in scores.items():
            monitor.observe(metric, "llama3.2", rng.gauss(mean, 0.05))
        monitor.observe("latency_seconds", "llama3.2", rng.lognormvariate(0.0, 0.5))
        for check, rate in (("refusal", 0.05), ("truncated", 0.02), ("empty", 0.01)):
            monitor.observe(check, "llama3.2", 1.0 if rng.random() < rate else 0.0)
    points = _points(reader)
    assert len(points["taskmaster_drift_status"]) == 8
    assert set(points["taskmaster_drift_status"].values()) == {0}
    assert max(points["taskmaster_drift_statistic"].values()) < 1.0
    # No critical; two warnings in 16,000 observations (warnings are sized at ~1 per 10,000
    # per detector, criticals at a few per 100,000).
    # Every series starts its alert counters at 0; only the ones that fired moved.
    assert {k: v for k, v in points["taskmaster_drift_alerts"].items() if v} == {
        (("metric", "overall_quality"), ("model", "llama3.2"), ("severity", "warning")): 1,
        (("metric", "latency_seconds"), ("model", "llama3.2"), ("severity", "warning")): 1,
    }
    assert len(log_exporter.get_finished_logs()) == 2


def test_models_beyond_the_cap_share_the_other_series(reader, drift_logger):
    monitor = _monitor(reader, drift_logger, max_models=2)
    for model in ("a", "b", "c", "d", "e"):
        monitor.observe("overall_quality", model, 0.89)
    assert monitor.series_count == 3
    keys = set(_points(reader)["taskmaster_drift_status"])
    assert {dict(key)["model"] for key in keys} == {"a", "b", "_other"}


def test_metrics_without_a_baseline_are_ignored(reader, drift_logger):
    monitor = _monitor(reader, drift_logger)
    monitor.observe("not_watched", "m", 1.0)
    assert monitor.series_count == 0


def test_per_model_entry_wins_over_the_pooled_one(reader, drift_logger):
    pooled = BaselineEntry("q", mean=0.9, std=0.05)
    baseline = Baseline([pooled, BaselineEntry("q", model="small", mean=0.5, std=0.05)])
    monitor = _monitor(reader, drift_logger, baseline=baseline)
    for _ in range(100):
        monitor.observe("q", "small", 0.5)
        monitor.observe("q", "big", 0.5)
    assert (monitor.state("q", "small"), monitor.state("q", "big")) == (0, 2)


def test_bad_input_never_raises(reader, drift_logger, caplog):
    monitor = _monitor(reader, drift_logger)
    with caplog.at_level(logging.DEBUG, logger="otel_taskmaster.drift.monitor"):
        monitor.observe("overall_quality", "m", "not a number")  # type: ignore[arg-type]
        monitor.observe("overall_quality", None, 0.9)  # type: ignore[arg-type]
        monitor.observe("overall_quality", "m", float("nan"))
    assert "observe('overall_quality', 'm') failed" in caplog.text
    assert monitor.state("overall_quality", "m") == 0


def test_bad_parameters_raise_value_error(reader):
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    with pytest.raises(ValueError):
        DriftMonitor(meter, max_models=0)
    with pytest.raises(ValueError):
        DriftMonitor(meter, warmup=1)


def test_prometheus_exposes_the_drift_names(drift_logger):
    registry = CollectorRegistry()
    reader = PrometheusMetricReader(disable_target_info=True, registry=registry)
    provider = MeterProvider(metric_readers=[reader])
    baseline = Baseline([BaselineEntry("overall_quality", mean=0.89, std=0.05)])
    monitor = DriftMonitor(provider.get_meter("test"), baseline, logger=drift_logger)
    for _ in range(10):
        monitor.observe("overall_quality", "llama3.2", 0.5)
    scope = {"otel_scope_name": "test", "otel_scope_schema_url": "", "otel_scope_version": ""}
    labels = {"metric": "overall_quality", "model": "llama3.2", **scope}
    try:
        assert registry.get_sample_value("taskmaster_drift_status", labels) == 2.0
        assert registry.get_sample_value("taskmaster_drift_statistic", labels) == 1.5
        critical = {**labels, "severity": "critical"}
        assert registry.get_sample_value("taskmaster_drift_alerts_total", critical) == 1.0
        warning = {**labels, "severity": "warning"}
        # Started at 0 (so increase() sees the first alert) and never moved.
        assert registry.get_sample_value("taskmaster_drift_alerts_total", warning) == 0.0
    finally:
        provider.shutdown()


def test_concurrent_observers_keep_series_bounded_and_consistent(reader, drift_logger, caplog):
    monitor = _monitor(reader, drift_logger, max_models=3)

    def feed(worker: int) -> None:
        for i in range(3000):
            monitor.observe("overall_quality", f"model-{(worker + i) % 6}", 0.89)

    with caplog.at_level(logging.DEBUG, logger="otel_taskmaster.drift.monitor"):
        threads = [threading.Thread(target=feed, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert caplog.text == ""
    assert monitor.series_count == 4  # three admitted models and "_other"
    statuses = _points(reader)["taskmaster_drift_status"]
    models = {dict(key)["model"] for key in statuses}
    assert len(models) == 4 and "_other" in models
    assert set(statuses.values()) == {0}
