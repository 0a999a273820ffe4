"""The seed's "Request completed" / "Request failed" log records."""

from __future__ import annotations

import logging

REQUEST_LOGGER_NAME = "otel_taskmaster.requests"
_logger = logging.getLogger(REQUEST_LOGGER_NAME)


def log_request(
    *,
    request_id: str,
    endpoint: str,
    model: str,
    prompt_length: int,
    response_length: int,
    latency_ms: float,
    tokens_in: int,
    tokens_out: int,
    error_type: str | None = None,
) -> None:
    """Logs one completed request; call it with the request's span current."""
    level = logging.INFO if error_type is None else logging.ERROR
    if not _logger.isEnabledFor(level):
        return
    if level < logging.WARNING and not _logger.hasHandlers():
        # Nothing would write it (logging's last-resort handler only takes warnings and
        # up): skip building a record, which costs tens of µs per call.
        return
    fields = {
        "request_id": request_id,
        "endpoint": endpoint,
        "model": model,
        "prompt_length": prompt_length,
        "response_length": response_length,
        "latency_ms": round(latency_ms, 3),
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "event_type": "request",
    }
    if error_type is None:
        _logger.info("Request completed", extra=fields)
    else:
        fields["error_type"] = error_type
        _logger.error("Request failed", extra=fields)
