"""One metric reader with two ways out: periodic OTLP export and the Prometheus endpoint.

With ``OTEL_METRICS_EXPORTER=otlp,prometheus`` the SDK makes two readers, and every
measurement is aggregated twice, once into each reader's storage. This reader (the
``otlp_prometheus`` exporter, the distro's default) aggregates once: the Prometheus endpoint
collects from the storage of the OTLP reader. Both sides then read cumulative data, so the
OTLP side is cumulative whatever ``OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`` says;
set ``otlp,prometheus`` for delta OTLP.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.prometheus import _AutoPrometheusMetricReader
from opentelemetry.sdk.environment_variables import (
    OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION,
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
)
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation

__all__ = ["OtlpPrometheusMetricReader"]

_logger = logging.getLogger(__name__)

_CUMULATIVE: dict[type, AggregationTemporality] = {
    instrument: AggregationTemporality.CUMULATIVE
    for instrument in (
        Counter,
        UpDownCounter,
        Histogram,
        ObservableCounter,
        ObservableUpDownCounter,
        ObservableGauge,
    )
}
# Both sides share one aggregation, and Prometheus takes explicit-bucket histograms only.
_EXPLICIT_HISTOGRAMS: dict[type, Any] = {Histogram: ExplicitBucketHistogramAggregation()}


class OtlpPrometheusMetricReader(PeriodicExportingMetricReader):
    """Exports over OTLP every ``OTEL_METRIC_EXPORT_INTERVAL`` and serves the Prometheus
    endpoint (``OTEL_EXPORTER_PROMETHEUS_HOST``/``_PORT``) from the same aggregation."""

    def __init__(self, exporter: MetricExporter | None = None) -> None:
        _warn_about_overridden_settings()
        super().__init__(
            exporter
            or OTLPMetricExporter(
                preferred_temporality=_CUMULATIVE, preferred_aggregation=_EXPLICIT_HISTOGRAMS
            )
        )
        # The Prometheus exporter's own entry-point reader: its HTTP server and its
        # translation. It is never registered with the MeterProvider, so it has no storage:
        # each scrape collects ours, through the callback the MeterProvider gave us.
        self._prometheus = _AutoPrometheusMetricReader()
        self._prometheus._set_collect_callback(self._collect_shared)

    def _collect_shared(self, _reader: object, timeout_millis: float = 10_000) -> Any:
        collect: Any = self._collect  # the SDK calls it so; its annotation lacks the keyword
        return None if collect is None else collect(self, timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        try:
            super().shutdown(timeout_millis=timeout_millis, **kwargs)
        finally:
            self._prometheus.shutdown()


def _warn_about_overridden_settings() -> None:
    temporality = os.environ.get(OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, "")
    aggregation = os.environ.get(OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION, "")
    if temporality.strip().lower() not in ("", "cumulative") or aggregation.strip().lower() not in (
        "",
        "explicit_bucket_histogram",
    ):
        _logger.warning(
            "otel-taskmaster: the otlp_prometheus metrics exporter shares one cumulative, "
            "explicit-bucket aggregation with Prometheus and ignores %s=%r / %s=%r; set "
            "OTEL_METRICS_EXPORTER=otlp,prometheus to use them",
            OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
            temporality,
            OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION,
            aggregation,
        )
