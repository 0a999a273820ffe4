"""Export failures reported once, not once per batch.

With no Collector running, the OTLP exporters log an error or warning for every batch
(every few seconds, per signal), and under ``opentelemetry-instrument`` those records reach
no console at all (the root logger only has the OTel log handler, which exports through the
same failing endpoint). This filter takes those records over: it counts failures in
``taskmaster_telemetry_export_failures_total{signal}`` (readable on the Prometheus endpoint,
which does not depend on the Collector) and reports the first one per signal on our own
logger (JSON on stderr), then a one-line summary at most every ``repeat_after`` seconds.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from opentelemetry.metrics import Meter

from otel_taskmaster import semconv as sc

# Loggers that report per-batch export failures (HTTP and gRPC exporters, batch processors).
EXPORTER_LOGGERS: Final = (
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.sdk._shared_internal",
)
_SIGNALS = (("span", "traces"), ("metric", "metrics"), ("log", "logs"))
_report = logging.getLogger("otel_taskmaster.export")


class ExportFailureFilter(logging.Filter):
    """Counts export failures and reports the first per signal (then a periodic summary)."""

    def __init__(self, meter: Meter | None = None, repeat_after: float = 600.0) -> None:
        super().__init__()
        self.repeat_after = repeat_after
        self._last_reported: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._counter = (
            meter.create_counter(
                sc.TASKMASTER_EXPORT_FAILURES,
                unit=sc.UNIT_ERROR,
                description="Telemetry export attempts that failed (OTLP)",
            )
            if meter is not None
            else None
        )

        if self._counter is not None:
            # From 0, so the export-failing alert's increase() sees the first failure.
            for _, signal in _SIGNALS:
                self._counter.add(0, {sc.LABEL_SIGNAL: signal})

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        message = record.getMessage()
        if "export" not in message.lower():
            return True
        signal = _signal_of(message)
        final = "Failed to export" in message or "Exception while exporting" in message
        if final and self._counter is not None:
            self._counter.add(1, {sc.LABEL_SIGNAL: signal})
        now = time.monotonic()
        last = self._last_reported.get(signal)
        if last is not None and now - last < self.repeat_after:
            self._suppressed[signal] = self._suppressed.get(signal, 0) + 1
            return False
        suppressed = self._suppressed.pop(signal, 0)
        self._last_reported[signal] = now
        note = (
            f"{suppressed} similar messages since the last report"
            if suppressed
            else "further failures are counted in taskmaster_telemetry_export_failures_total"
            f" and summarized every {self.repeat_after:.0f}s"
        )
        _report.warning(
            "Telemetry export failing (%s): %s; %s",
            signal,
            message,
            note,
            extra={"event_type": "export_failure", "signal": signal},
        )
        return False


def _signal_of(message: str) -> str:
    lowered = message.lower()
    for word, signal in _SIGNALS:
        if word in lowered:
            return signal
    return "unknown"


def install(meter: Meter | None, repeat_after: float = 600.0) -> ExportFailureFilter:
    """Attaches one shared filter to every exporter logger."""
    export_filter = ExportFailureFilter(meter, repeat_after)
    for name in EXPORTER_LOGGERS:
        logging.getLogger(name).addFilter(export_filter)
    return export_filter
