"""With no back end, export failures are reported once and counted, not logged per batch."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_taskmaster.distro.export_errors import ExportFailureFilter

EXPORTER_LOGGER = "opentelemetry.exporter.otlp.common.http"


def _failures(reader: InMemoryMetricReader) -> dict[str, float]:
    data = reader.get_metrics_data()
    return {
        str(point.attributes["signal"]): point.value  # type: ignore[index]
        for rm in (data.resource_metrics if data else [])
        for sm in rm.scope_metrics
        for metric in sm.metrics
        if metric.name == "taskmaster_telemetry_export_failures"
        for point in metric.data.data_points
    }


def test_first_failure_per_signal_is_logged_the_rest_only_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reader = InMemoryMetricReader()
    export_filter = ExportFailureFilter(MeterProvider(metric_readers=[reader]).get_meter("t"))
    logger = logging.getLogger(EXPORTER_LOGGER)
    logger.addFilter(export_filter)
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(20):
                logger.error(
                    "Failed to export %s batch code: %s, reason: %s", "span", None, "refused"
                )
                logger.warning(
                    "Transient error %s encountered while exporting %s batch", "x", "metric"
                )
    finally:
        logger.removeFilter(export_filter)
    assert {r.name for r in caplog.records} == {"otel_taskmaster.export"}
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("Telemetry export failing (traces): Failed to export span")
    assert "taskmaster_telemetry_export_failures_total" in messages[0]
    assert messages[1].startswith("Telemetry export failing (metrics): Transient error")
    # Every signal starts at 0, so the export-failing alert sees the first failure.
    assert _failures(reader) == {"traces": 20, "metrics": 0, "logs": 0}


def test_unrelated_records_pass_untouched() -> None:
    export_filter = ExportFailureFilter(None)
    record = logging.makeLogRecord({"msg": "connection pool is full", "levelno": logging.WARNING})
    assert export_filter.filter(record) is True
    assert record.getMessage() == "connection pool is full"
