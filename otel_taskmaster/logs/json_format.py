"""One JSON object per log line, in the seed's shape, plus trace_id and span_id."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry import trace

# LogRecord's own attributes; everything else on a record came in through ``extra=``.
_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Added by OTel's logging instrumentation; we write trace_id/span_id ourselves.
_SKIP = frozenset({"otelTraceID", "otelSpanID", "otelTraceSampled", "otelServiceName"})


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a record was given through ``extra=`` (the OTel logging ones left out)."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RESERVED and key not in _SKIP and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """Formats records as the seed's JSON lines: timestamp, level, service, message, the
    record's ``extra`` fields, and the trace and span ids of the span current at log time."""

    def __init__(self, service: str = "taskmaster") -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "service": self.service,
            "message": record.getMessage(),
            "logger": record.name,
        }
        entry.update(extra_fields(record))
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            entry["trace_id"] = format(context.trace_id, "032x")
            entry["span_id"] = format(context.span_id, "016x")
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()
