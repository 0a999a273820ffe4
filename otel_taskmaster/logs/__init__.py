"""Structured JSON request logs that carry trace ids, sent through stdlib logging (and so
through OTel logs when the SDK's logging handler is installed)."""

from otel_taskmaster.logs.json_format import JsonFormatter
from otel_taskmaster.logs.request_log import REQUEST_LOGGER_NAME, log_request

__all__ = ["REQUEST_LOGGER_NAME", "JsonFormatter", "log_request"]
