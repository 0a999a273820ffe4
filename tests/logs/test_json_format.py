"""JSON log lines in the seed's shape, with the ids of the span current at log time."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from otel_taskmaster.logs import JsonFormatter, log_request


def _capture() -> tuple[logging.Logger, io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(service="taskmaster"))
    logger = logging.getLogger("otel_taskmaster.requests")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, stream, handler


def test_request_log_has_the_seed_fields_and_trace_ids() -> None:
    logger, stream, handler = _capture()
    tracer = TracerProvider().get_tracer("test")
    try:
        with tracer.start_as_current_span("call") as span:
            log_request(
                request_id="abc",
                endpoint="/api/chat",
                model="llama3.2",
                prompt_length=32,
                response_length=145,
                latency_ms=245.3,
                tokens_in=12,
                tokens_out=85,
            )
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    context = span.get_span_context()
    assert entry.pop("timestamp").endswith("Z")
    assert entry == {
        "level": "INFO",
        "service": "taskmaster",
        "message": "Request completed",
        "logger": "otel_taskmaster.requests",
        "request_id": "abc",
        "endpoint": "/api/chat",
        "model": "llama3.2",
        "prompt_length": 32,
        "response_length": 145,
        "latency_ms": 245.3,
        "tokens_in": 12,
        "tokens_out": 85,
        "event_type": "request",
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
    }


def test_failed_request_is_an_error_line_in_the_same_shape() -> None:
    logger, stream, handler = _capture()
    try:
        log_request(
            request_id="r",
            endpoint="tasks",
            model="",
            prompt_length=1,
            response_length=0,
            latency_ms=1.0,
            tokens_in=0,
            tokens_out=0,
            error_type="ConnectError",
        )
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "ERROR"
    assert entry["message"] == "Request failed"
    assert entry["error_type"] == "ConnectError"
    assert "trace_id" not in entry  # no span was current


def test_values_json_cannot_encode_are_written_as_text() -> None:
    record = logging.makeLogRecord({"msg": "x", "levelname": "WARNING", "odd": {1, 2}.__class__})
    assert json.loads(JsonFormatter().format(record))["odd"] == "<class 'set'>"


def test_no_record_is_built_when_no_handler_would_write_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[logging.LogRecord] = []
    factory = logging.getLogRecordFactory()

    def counting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        built.append(record)
        return record

    logger = logging.getLogger("otel_taskmaster.requests")
    monkeypatch.setattr(logger, "propagate", False)  # no handler up the tree either
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logging.INFO)
    monkeypatch.setattr(logging, "_logRecordFactory", counting_factory)
    fields = {
        "request_id": "abc",
        "endpoint": "/api/chat",
        "model": "llama3.2",
        "prompt_length": 1,
        "response_length": 2,
        "latency_ms": 3.0,
        "tokens_in": 4,
        "tokens_out": 5,
    }
    log_request(**fields)
    assert built == []
    # A failure still reaches logging's last-resort handler on stderr.
    log_request(**fields, error_type="ConnectError")
    assert [record.getMessage() for record in built] == ["Request failed"]
