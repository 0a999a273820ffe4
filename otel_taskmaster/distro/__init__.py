"""The distro: sets defaults only. Every ``OTEL_*`` variable the user sets still wins."""

from __future__ import annotations

import logging
import os
from importlib.metadata import EntryPoint
from typing import Any

from opentelemetry.environment_variables import (
    OTEL_LOGS_EXPORTER,
    OTEL_METRICS_EXPORTER,
    OTEL_TRACES_EXPORTER,
)
from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk.environment_variables import (
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_PROMETHEUS_HOST,
    OTEL_EXPORTER_PROMETHEUS_PORT,
    OTEL_METRIC_EXPORT_INTERVAL,
    OTEL_SERVICE_NAME,
)

from otel_taskmaster.config import Settings

_logger = logging.getLogger(__name__)


class TaskMasterDistro(BaseDistro):
    """Defaults that make ``opentelemetry-instrument python serve.py`` light up the stack."""

    def load_instrumentor(self, entry_point: EntryPoint, **kwargs: Any) -> None:
        # Our instrumentor already makes the GenAI span for every Ollama call; a second
        # instrumentor of the same calls would double spans and token counts.
        skipped = Settings.from_env().skip_instrumentors
        if entry_point.name in skipped and not entry_point.value.startswith("otel_taskmaster"):
            _logger.info(
                "otel-taskmaster: not loading instrumentor %r (%s): Ollama calls are already "
                "traced; set TASKMASTER_SKIP_INSTRUMENTORS= to load it",
                entry_point.name,
                entry_point.value,
            )
            return
        super().load_instrumentor(entry_point, **kwargs)

    def _configure(self, **kwargs: Any) -> None:
        os.environ.setdefault(OTEL_SERVICE_NAME, "taskmaster")
        os.environ.setdefault(OTEL_TRACES_EXPORTER, "otlp")
        # OTLP to the Collector plus a local pull endpoint, so the seed's PromQL works on a
        # laptop with no Collector at all; one reader for both aggregates each measurement
        # once instead of twice (see distro/metric_reader.py).
        os.environ.setdefault(OTEL_METRICS_EXPORTER, "otlp_prometheus")
        os.environ.setdefault(OTEL_LOGS_EXPORTER, "otlp")
        # http/protobuf needs no grpcio in every instrumented process.
        os.environ.setdefault(OTEL_EXPORTER_OTLP_PROTOCOL, "http/protobuf")
        # Localhost unless configured: the endpoint has no authentication.
        os.environ.setdefault(OTEL_EXPORTER_PROMETHEUS_HOST, "localhost")
        os.environ.setdefault(OTEL_EXPORTER_PROMETHEUS_PORT, "9464")
        # The SDK default of 60 s leaves a fresh dashboard empty for a minute.
        os.environ.setdefault(OTEL_METRIC_EXPORT_INTERVAL, "15000")
